"""Where an EI-412 channel reading becomes a contract §2 ``TestResult`` (pure)."""

from __future__ import annotations

import base64
from decimal import Decimal

from msgspec.structs import replace

from protocols.enzyme import ChannelReading, Judgement
from protocols.enzyme.replay import reading_from_raw
from protocols.result import QC, Instrument, Measurement, Raw, Sample, TestResult, TestSpec
from protocols.uuid7 import uuid7

from ..base import DriverContext
from ._options import EnzymeOptions

DRIVER_NAME = "enzyme_inhibition"
TEST_SPEC = TestSpec(
    item="有机磷和氨基甲酸酯类农药", method="GB/T 5009.199-2003", kind="enzyme_inhibition", analyte=None
)


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _sample(label: Sample, sample_code: str | None) -> Sample:
    """The technician's label; a keypad sample code fills ``id`` when no barcode was scanned."""
    if sample_code and not label.barcode:
        return replace(label, id=sample_code)
    return label


def reading_identity(result: TestResult) -> bytes:
    """The control and channel frames of the stored reading: a SEND re-send may carry another header time."""
    reading = reading_from_raw(base64.b64decode(result.raw.data))
    return reading.control.raw + reading.measurement.raw


def to_test_result(
    reading: ChannelReading, judgement: Judgement, context: DriverContext, options: EnzymeOptions
) -> TestResult:
    """Build the canonical result; the verdict is ours, the instrument's is kept in measurement."""
    header, channel = reading.header, reading.measurement
    label, operator_override = context.labels.take(channel.channel)
    return TestResult(
        id=uuid7(),
        site=context.site,
        instrument=Instrument(
            id=context.instrument_id,
            model=header.model,
            serial=header.serial,
            firmware=header.firmware,
            driver=DRIVER_NAME,
        ),
        channel=channel.channel,
        sample=_sample(label, channel.sample_code),
        test=TEST_SPEC,
        measurement=Measurement(
            value=_number(judgement.inhibition),
            unit="%",
            cutoff=options.cutoff,
            extra={
                "control_delta_a": float(reading.control.delta_a),
                "sample_delta_a": float(channel.sample_delta_a),
                "instrument_value": _number(channel.inhibition),
                "instrument_verdict": channel.verdict,
            },
        ),
        verdict=judgement.verdict,
        qc=QC(control="sample", flags=list(judgement.flags)),
        operator=operator_override or context.operator,
        tested_at=header.measured_at.replace(tzinfo=options.tzinfo).isoformat(timespec="milliseconds"),
        received_at=context.clock().isoformat(timespec="milliseconds"),
        raw=Raw(transport="serial", encoding="base64", data=base64.b64encode(reading.raw).decode("ascii")),
    )
