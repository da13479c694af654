"""A profile reading + instrument identity + gateway context → the canonical TestResult."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta, tzinfo

from msgspec.structs import replace

from protocols.modbus_profile import Profile, Reading, raw_data
from protocols.result import QC, Instrument, Measurement, Raw, TestResult, TestSpec, Transport
from protocols.uuid7 import uuid7

from ..base import DriverContext

CLOCK_AHEAD_LIMIT = timedelta(minutes=5)
"""An instrument time further ahead of the gateway clock than this is flagged ``instrument_clock_ahead``."""


@dataclass(frozen=True)
class InstrumentIdentity:
    vendor: str
    model: str
    serial: str
    firmware: str


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def build_result(
    *,
    profile: Profile,
    reading: Reading,
    registers: list[int],
    identity: InstrumentIdentity,
    transport: Transport,
    local_tz: tzinfo,
    context: DriverContext,
) -> TestResult:
    """The TestResult of one reading; ``registers`` is the result block exactly as read."""
    received = context.clock()
    flags = list(reading.flags)
    if reading.tested_at is not None:
        tested = reading.tested_at.replace(tzinfo=local_tz)
        if tested - received > CLOCK_AHEAD_LIMIT:
            flags.append("instrument_clock_ahead")
    else:
        tested = received
    sample, operator = context.labels.take(reading.channel)
    if sample.id is None and reading.sample_code:
        sample = replace(sample, id=reading.sample_code)
    analyte = reading.analyte
    return TestResult(
        id=uuid7(),
        site=context.site,
        instrument=Instrument(
            id=context.instrument_id, model=identity.model or profile.profile.model,
            serial=identity.serial, firmware=identity.firmware, driver="modbus_profile",
        ),
        channel=reading.channel,
        sample=sample,
        test=TestSpec(
            item=analyte.item if analyte else f"未知项目 (code {reading.analyte_code})",
            method=profile.profile.method,
            kind=profile.profile.test_kind,
            analyte=analyte.analyte if analyte else None,
        ),
        measurement=Measurement(
            value=reading.ratio,
            unit=profile.profile.unit,
            cutoff=reading.cutoff,
            extra={
                "t_intensity": _finite(reading.t),
                "c_intensity": _finite(reading.c),
                "c_min": profile.verdict.c_min,
                "analyte_code": reading.analyte_code,
                "kit_lot": reading.kit_lot,
                "sample_code": reading.sample_code,
                "sequence": reading.sequence,
                "profile": profile.profile.name,
                "register_table": profile.result.table,
                "register_start": profile.result.start,
            },
        ),
        verdict=reading.verdict,
        qc=QC(control="sample", flags=flags),
        operator=operator or context.operator,
        tested_at=tested.isoformat(timespec="milliseconds"),
        received_at=received.isoformat(timespec="milliseconds"),
        raw=Raw(transport=transport, data=raw_data(registers)),
    )
