"""Helpers of the EI-412 driver tests: a deduplicating sink, a log watcher, the driver harness."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import select
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from drivers.base import DriverContext
from drivers.enzyme_inhibition import EnzymeInhibitionDriver
from firmware_sim.enzyme import ChannelTruth, EnzymeSimulator, HostInput, HostQuery
from protocols.enzyme import NEED_DATA, ChannelReading, EnzymeDecoder, FrameError, RunAssembler, reading_from_raw
from protocols.result import Site, TestResult

from ..collecting_sink import TIMEOUT, Collector

DRIVER_LOGGER = "drivers.enzyme_inhibition"
INSTRUMENT_TZ = timezone(timedelta(hours=8))
DATA = Path(__file__).parent.parent / "data" / "enzyme"
_HOST_VECTORS = json.loads((DATA / "host-frames.json").read_text("utf-8"))
HOST_FRAMES = [(v, v["bytes"].encode("ascii")) for v in _HOST_VECTORS["frames"]]
"""Golden host frames: (vector, bytes)."""
HOST_REJECTED = [(v["why"], v["bytes"].encode("ascii")) for v in _HOST_VECTORS["rejected"]]
"""Golden bad host frames: (why, bytes)."""
MARKER = b"$E,999999,0*75\r\n"  # a valid frame no simulated run sends: "all written so far has arrived"


def read_exactly(fd: int, count: int, timeout: float = 5.0) -> bytes:
    """Read ``count`` bytes from ``fd`` or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    data = b""
    while len(data) < count:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"only {len(data)} of {count} bytes arrived"
        readable, _, _ = select.select([fd], [], [], remaining)
        if readable:
            data += os.read(fd, count - len(data))
    return data


def read_until(fd: int, marker: bytes, timeout: float = 5.0) -> bytes:
    """Read from ``fd`` until ``marker`` has arrived, or fail after ``timeout`` seconds."""
    deadline, data = time.monotonic() + timeout, b""
    while marker not in data:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"marker never arrived; got {data[-200:]!r}"
        readable, _, _ = select.select([fd], [], [], remaining)
        if readable:
            data += os.read(fd, 65536)
    return data


def decode(stream: bytes) -> tuple[list[ChannelReading], list[FrameError]]:
    """Our decoder and assembler over ``stream``: the readings and the frame errors."""
    decoder, assembler = EnzymeDecoder(), RunAssembler()
    decoder.receive_data(stream)
    readings, errors = [], []
    while (event := decoder.next_event()) is not NEED_DATA:
        if isinstance(event, FrameError):
            errors.append(event)
        readings += [r for r in assembler.add(event) if isinstance(r, ChannelReading)]
    return readings, errors


class LogWatch(logging.Handler):
    """Collects the driver's log records; ``wait_for`` wakes on each new record."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._new = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self._new.set()

    def count(self, event: str) -> int:
        return sum(getattr(r, "event", None) == event for r in self.records)

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(TIMEOUT):
            while not predicate():
                self._new.clear()
                await self._new.wait()


def context() -> DriverContext:
    return DriverContext(
        site=Site(id="cq-yz-m03", kind="market", name="Yuzhong No.3 market"),
        instrument_id="ei-1",
        operator="tech-zhang",
        clock=lambda: datetime.now(INSTRUMENT_TZ),
    )


def queries(inputs: list[HostInput]) -> int:
    """How many ``$Q`` frames the simulator has seen."""
    return sum(isinstance(item, HostQuery) for item in inputs)


async def sim_saw(sim: EnzymeSimulator, predicate: Callable[[list[HostInput]], bool]) -> None:
    """Wait (in a thread) until the simulator's host inputs satisfy ``predicate``; fail after TIMEOUT."""
    seen = await asyncio.to_thread(sim.wait_until, lambda: predicate(sim.host_inputs), TIMEOUT)
    assert seen, f"simulator saw {sim.host_inputs}"


async def with_driver(
    port: Path,
    body: Callable[[Collector, LogWatch], Awaitable[Any]],
    sim: EnzymeSimulator | None = None,
    **options: Any,
) -> None:
    """Run the driver on ``port`` while ``body`` drives the simulator; cancel it afterwards.

    With ``sim`` given (ack mode) the body starts only once ``sim`` has seen the driver's ``$Q``,
    so the query cannot race the body's first run.
    """
    collector, watch = Collector(), LogWatch()
    logger = logging.getLogger(DRIVER_LOGGER)
    logger.addHandler(watch)
    logger.setLevel(logging.DEBUG)
    driver = EnzymeInhibitionDriver({"port": str(port), "reconnect_s": 0.05, **options}, context())
    task = asyncio.create_task(driver.run(collector))
    try:
        await watch.wait_for(lambda: watch.count("port_opened") >= 1)
        if sim is not None:
            await sim_saw(sim, lambda inputs: queries(inputs) >= 1)
        await body(collector, watch)
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        logger.removeHandler(watch)
    assert task.cancelled(), "run() must return only by cancellation"


def assert_matches_truth(result: TestResult, truth: ChannelTruth) -> None:
    m = result.measurement
    assert result.channel == truth.channel and result.verdict == truth.expected_verdict
    assert (result.instrument.serial, result.instrument.model, result.instrument.firmware) == (
        truth.serial, truth.model, truth.firmware
    )
    assert (m.extra["control_delta_a"], m.extra["sample_delta_a"]) == (
        float(truth.control_delta_a), float(truth.sample_delta_a))
    assert m.extra["instrument_verdict"] == truth.instrument_verdict
    if truth.inhibition is not None:
        assert m.value == float(truth.inhibition) == m.extra["instrument_value"]
    assert result.sample.id == truth.sample_code
    assert result.tested_at == truth.measured_at.replace(tzinfo=INSTRUMENT_TZ).isoformat(timespec="milliseconds")
    raw = base64.b64decode(result.raw.data)
    assert raw == truth.frames
    assert reading_from_raw(raw).source_key == truth.source_key
