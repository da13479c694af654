"""A decoded line + its profile + gateway context → the canonical TestResult (pure)."""

from __future__ import annotations

import base64
from datetime import datetime, tzinfo

from msgspec.structs import replace

from protocols.line_profile import LineReading, LineResult, Profile
from protocols.result import QC, Instrument, Measurement, Raw, TestResult, TestSpec
from protocols.uuid7 import uuid7

from ..base import DriverContext

DRIVER_NAME = "serial_line_profile"


def source_key(result: TestResult, line: LineResult) -> str:
    """``serial:tested_at:channel:sample_code``: the same line seen twice maps to the same key."""
    return f"{result.instrument.serial}:{result.tested_at}:{result.channel}:{line.sample_code}"


def build_result(profile: Profile, reading: LineReading, line: LineResult, local_tz: tzinfo,
                 context: DriverContext) -> TestResult:
    """The TestResult of one line; the verdict is ours (``line.verdict``), the instrument's kept in measurement."""
    received: datetime = context.clock()
    tested = line.tested_at.replace(tzinfo=local_tz) if line.tested_at is not None else received
    flags = [] if line.tested_at is not None else ["no_instrument_time"]
    sample, operator = context.labels.take(line.channel)
    if sample.id is None and not sample.barcode and line.sample_code:
        sample = replace(sample, id=line.sample_code)
    info = profile.profile
    verdict_field = line.instrument_verdict
    return TestResult(
        id=uuid7(),
        site=context.site,
        instrument=Instrument(id=context.instrument_id, model=info.model, serial=line.serial or context.instrument_id,
                              firmware="", driver=DRIVER_NAME),
        channel=line.channel,
        sample=sample,
        test=TestSpec(item=info.item, method=info.method, kind=info.kind, analyte=info.analyte),
        measurement=Measurement(
            value=line.value, unit=line.unit, cutoff=line.cutoff,
            extra={
                "sample_code": line.sample_code, "profile": info.name, "vendor": info.vendor,
                "instrument_verdict": None if verdict_field is None else str(verdict_field),
                **({"invalid_check_value": line.invalid_value} if line.invalid_value is not None else {}),
            },
        ),
        verdict=line.verdict,
        qc=QC(control="sample", flags=flags),
        operator=operator or context.operator,
        tested_at=tested.isoformat(timespec="milliseconds"),
        received_at=received.isoformat(timespec="milliseconds"),
        raw=Raw(transport="serial", encoding="base64", data=base64.b64encode(reading.raw).decode("ascii")),
    )
