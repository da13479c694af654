"""Helpers of the line-profile tests: a second vendor's profile, a collecting sink, a driver harness."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from drivers.base import DriverContext
from drivers.serial_line_profile import SerialLineProfileDriver
from firmware_sim.line import LineTruth
from protocols.result import Site, TestResult

from ..collecting_sink import TIMEOUT, Collector

DRIVER_LOGGER = "drivers.serial_line_profile"
INSTRUMENT_TZ = timezone(timedelta(hours=8))
NY10_PATH = Path(__file__).resolve().parents[2] / "protocols" / "profiles" / "ny10-line.toml"
NY10_TEXT = NY10_PATH.read_text("utf-8")

GX4400_TEXT = r'''
[profile]
name = "gx4400-line"
vendor = "Guoxin (fictitious)"
model = "GX-4400"
kind = "colloidal_gold"
item = "克伦特罗"
method = "胶体金免疫层析法"
analyte = "clenbuterol"

[line]
terminator = "\n"
max_length = 120
pattern = '#(?P<channel>[1-8]);(?P<sample>[A-Z0-9]{1,12});(?P<ratio>\d\.\d{3});(?P<cline>\d\.\d\d);(?P<tested_at>\d{14});(?P<serial>[A-Z0-9]{4,12});(?P<result>[-+?])\|(?P<checksum>[0-9A-F]{2})'

[checksum]
kind = "sum8"
field = "checksum"
span_start = "channel"
span_end = "result"

[fields]
channel = { type = "int" }
sample = { type = "str" }
ratio = { type = "float" }
cline = { type = "float" }
tested_at = { type = "datetime", format = "%Y%m%d%H%M%S" }
serial = { type = "str" }
result = { type = "str" }

[mapping]
value = "ratio"
unit = { constant = "T/C" }
cutoff = { constant = 0.8 }
channel = "channel"
serial = "serial"
sample_code = "sample"
tested_at = "tested_at"
instrument_verdict = "result"

[verdict]
kind = "ratio_at_most"
invalid = { field = "cline", min = 0.3 }

[simulator]
template = "#{channel};{sample};{ratio:.3f};{cline:.2f};{tested_at};{serial};{result}|{checksum}"
serial = "GX4400A1"
channels = [1, 8]
sample_format = "G{n:05d}"
verdict_words = { positive = "+", negative = "-", invalid = "?" }
ranges = { ratio = [0.2, 1.6, 3], cline = [0.1, 2.0, 2] }
'''
"""A second vendor: other separator, LF terminator, sum8 over group span, other field order, a C-line rule."""


def context() -> DriverContext:
    return DriverContext(
        site=Site(id="cq-yz-m03", kind="market", name="Yuzhong No.3 market"),
        instrument_id="line-1", operator="tech-li", clock=lambda: datetime.now(INSTRUMENT_TZ),
    )


def assert_matches_truth(result: TestResult, truth: LineTruth) -> None:
    """The result says exactly what the simulator wrote, with the verdict recomputed by us."""
    assert truth.tested_at is not None
    assert result.instrument.serial == truth.serial
    assert result.channel == truth.channel
    assert result.measurement.extra["sample_code"] == truth.sample_code == result.sample.id
    assert result.measurement.value == truth.value
    assert result.measurement.cutoff == truth.cutoff
    assert result.verdict == truth.verdict
    assert result.tested_at == truth.tested_at.replace(tzinfo=INSTRUMENT_TZ).isoformat(timespec="milliseconds")
    assert base64.b64decode(result.raw.data) == truth.line and result.raw.transport == "serial"
    assert result.instrument.driver == "serial_line_profile"


async def with_driver(profile: str, port: Path, body: Callable[[Collector], Awaitable[None]]) -> None:
    """Run the driver on ``port`` with ``profile`` while ``body`` runs; cancel it afterwards."""
    driver = SerialLineProfileDriver({"profile": profile, "port": str(port), "reconnect_s": 0.05}, context())
    collector, opened = Collector(), PortOpened()
    logger = logging.getLogger(DRIVER_LOGGER)
    logger.addHandler(opened)
    level = logger.level
    logger.setLevel(logging.INFO)
    task = asyncio.create_task(driver.run(collector))
    try:
        await asyncio.wait_for(opened.event.wait(), TIMEOUT)  # opening the port flushes its input
        await body(collector)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        logger.removeHandler(opened)
        logger.setLevel(level)
    assert task.cancelled(), "run() must return only by cancellation"


class PortOpened(logging.Handler):
    """Sets ``event`` when the driver logs that it opened the port (the driver logs in the loop thread)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.event = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "event", None) == "port_opened":
            self.event.set()
