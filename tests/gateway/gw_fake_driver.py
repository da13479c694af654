"""A tiny in-test instrument driver: readings 1..count, each acked to a file after the sink commits.

The ack file plays the instrument's memory: a restarted driver re-sends every reading after the
last ack, with the same source key, as a real instrument does after a crash between commit and ack.
"""

from __future__ import annotations

import asyncio
import base64
import os
from datetime import datetime
from pathlib import Path

from drivers.base import Driver, DriverContext, ResultSink
from protocols.result import QC, Instrument, Measurement, Raw, Sample, Site, TestResult, TestSpec
from protocols.uuid7 import uuid7

DRIVER_NAME = "counting"
DRIVER_TARGET = "tests.gateway.gw_fake_driver:CountingDriver"


def make_result(site: Site, instrument_id: str, operator: str, n: int, now: datetime) -> TestResult:
    """A valid enzyme-inhibition TestResult whose inhibition rate derives from ``n``."""
    rate = float(n % 100)
    stamp = now.isoformat(timespec="milliseconds")
    return TestResult(
        id=uuid7(),
        site=site,
        instrument=Instrument(id=instrument_id, model="FAKE-1", serial="F0001", firmware="1.0", driver=DRIVER_NAME),
        channel=1 + n % 4,
        sample=Sample(name=f"sample {n}"),
        test=TestSpec(item="organophosphates and carbamates", method="GB/T 5009.199-2003", kind="enzyme_inhibition"),
        measurement=Measurement(value=rate, unit="%", cutoff=50.0),
        verdict="positive" if rate >= 50 else "negative",
        qc=QC(),
        operator=operator,
        tested_at=stamp,
        received_at=stamp,
        raw=Raw(transport="serial", data=base64.b64encode(f"READING {n}\r\n".encode()).decode()),
    )


def read_ack(path: Path) -> int:
    """Last reading the instrument saw acked (0 if none)."""
    return int(path.read_text()) if path.exists() else 0


def write_ack(path: Path, n: int) -> None:
    """Record reading ``n`` as acked, atomically (a reader never sees a half-written file)."""
    scratch = path.with_suffix(".tmp")
    scratch.write_text(str(n))
    os.replace(scratch, path)


class CountingDriver(Driver):
    """Options: ``count``, ``ack_file``, ``interval_s`` (pacing), ``crash_at`` (raise once there)."""

    name = DRIVER_NAME

    def __init__(self, options: dict[str, object], context: DriverContext) -> None:
        super().__init__(options, context)
        self.count = int(options["count"])  # type: ignore[call-overload]
        self.ack_file = Path(str(options["ack_file"]))
        self.interval_s = float(options.get("interval_s", 0.0))  # type: ignore[arg-type]
        self.crash_at = int(options.get("crash_at", 0))  # type: ignore[call-overload]

    async def run(self, sink: ResultSink) -> None:
        ctx = self.context
        for n in range(read_ack(self.ack_file) + 1, self.count + 1):
            crashed_marker = self.ack_file.with_suffix(".crashed")
            if n == self.crash_at and not crashed_marker.exists():
                crashed_marker.touch()
                raise RuntimeError(f"simulated driver crash before reading {n}")
            await sink(make_result(ctx.site, ctx.instrument_id, ctx.operator, n, ctx.clock()), f"counter:{n}")
            write_ack(self.ack_file, n)
            if self.interval_s:
                await asyncio.sleep(self.interval_s)  # instrument pacing, not synchronisation
        await asyncio.Event().wait()  # idle like an instrument with nothing to send
