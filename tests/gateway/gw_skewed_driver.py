"""The counting driver with an instrument clock that is off by ``clock_offset_s`` seconds."""

from __future__ import annotations

from datetime import datetime, timedelta

from msgspec.structs import replace

from drivers.base import ResultSink
from protocols.result import TestResult

from .gw_fake_driver import CountingDriver

SKEWED_NAME = "skewed"
SKEWED_TARGET = "tests.gateway.gw_skewed_driver:SkewedDriver"


class SkewedDriver(CountingDriver):
    """Options of CountingDriver plus ``clock_offset_s`` (instrument clock minus true time)."""

    name = SKEWED_NAME

    async def run(self, sink: ResultSink) -> None:
        offset = timedelta(seconds=float(self.options.get("clock_offset_s", 0.0)))  # type: ignore[arg-type]

        async def instrument_clock_sink(result: TestResult, source_key: str | None) -> bool:
            tested = (datetime.fromisoformat(result.tested_at) + offset).isoformat(timespec="milliseconds")
            key = f"{self.context.instrument_id}:{source_key}"  # the counting driver's keys are per instrument
            return await sink(replace(result, tested_at=tested), key)

        await super().run(instrument_clock_sink)
