"""EnzymeInhibitionDriver end to end over a real pty against the simulator, faults included."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from drivers.base import DriverContext
from drivers.enzyme_inhibition import EnzymeInhibitionDriver
from firmware_sim.enzyme import ChannelTruth, EnzymeSimulator, Fault, RunPlan
from protocols.enzyme import reading_from_raw
from protocols.result import Site, TestResult

DRIVER_LOGGER = "drivers.enzyme_inhibition"
TIMEOUT = 10.0
INSTRUMENT_TZ = timezone(timedelta(hours=8))


class Collector:
    """A sink that stores each source key once (like the outbox) and lets tests await a condition."""

    def __init__(self) -> None:
        self.results: list[TestResult] = []
        self.keys: list[str] = []
        self.calls: list[str] = []
        self._changed = asyncio.Condition()

    async def __call__(self, result: TestResult, source_key: str | None) -> bool:
        async with self._changed:
            assert source_key is not None
            self.calls.append(source_key)
            stored = source_key not in self.keys
            if stored:
                self.keys.append(source_key)
                self.results.append(result)
            self._changed.notify_all()
            return stored

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), TIMEOUT)


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


async def with_driver(port: Path, body: Callable[[Collector, LogWatch], Any]) -> None:
    """Run the driver on ``port`` while ``body`` drives the simulator; cancel it afterwards."""
    collector, watch = Collector(), LogWatch()
    logger = logging.getLogger(DRIVER_LOGGER)
    logger.addHandler(watch)
    logger.setLevel(logging.DEBUG)
    driver = EnzymeInhibitionDriver({"port": str(port), "reconnect_s": 0.05}, context())
    task = asyncio.create_task(driver.run(collector))
    try:
        await watch.wait_for(lambda: watch.count("port_opened") >= 1)
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
    assert (m.control_delta_a, m.sample_delta_a) == (float(truth.control_delta_a), float(truth.sample_delta_a))
    assert m.instrument_verdict == truth.instrument_verdict
    if truth.inhibition is not None:
        assert m.value == float(truth.inhibition) == m.instrument_value
    assert result.sample.id == truth.sample_code
    assert result.tested_at == truth.measured_at.replace(tzinfo=INSTRUMENT_TZ).isoformat(timespec="milliseconds")
    raw = base64.b64decode(result.raw.data)
    assert raw == truth.frames
    assert reading_from_raw(raw).source_key == truth.source_key


def special_runs(sim: EnzymeSimulator) -> list[RunPlan]:
    """A random run, an inactive-enzyme run and a run with a sure positive on channel 1."""
    random_run, inactive, with_positive = sim.plan_run(), sim.plan_run(), sim.plan_run()
    inactive = dataclasses.replace(inactive, control_delta_a=Decimal("0.2140"))
    first = dataclasses.replace(with_positive.channels[0], sample_delta_a=with_positive.control_delta_a / 4)
    first = dataclasses.replace(first, sample_delta_a=first.sample_delta_a.quantize(Decimal("0.0001")))
    with_positive = dataclasses.replace(with_positive, channels=(first, *with_positive.channels[1:]))
    return [random_run, inactive, with_positive]


def test_driver_delivers_exactly_the_simulators_truth_despite_faults(tmp_path):
    async def body(collector: Collector, watch: LogWatch) -> None:
        truth: list[ChannelTruth] = []
        plans = special_runs(sim)
        faults = [[Fault("garbage", "H")], [Fault("bad_checksum", 2), Fault("garbage", 3)], [Fault("truncated", 3)]]
        for plan, run_faults in zip(plans, faults):
            truth += await asyncio.to_thread(sim.write_run, run_faults, plan)
        sim.fault_rate = 0.25
        for _ in range(6):
            truth += await asyncio.to_thread(sim.write_run)
        sim.fault_rate = 0.0
        truth += await asyncio.to_thread(sim.write_run)  # clean run ends any truncated frame
        delivered = [t for t in truth if t.delivered]
        await collector.wait_for(lambda: len(collector.results) >= len(delivered))
        assert [r.channel for r in collector.results] and collector.keys == [t.source_key for t in delivered]
        for result, expected in zip(collector.results, delivered):
            assert_matches_truth(result, expected)
        verdicts = {r.verdict for r in collector.results}
        assert {"invalid", "positive", "negative"} <= verdicts
        assert watch.count("frame_error") >= 3

    with EnzymeSimulator(tmp_path / "ei412", seed=20261123, channels=4) as sim:
        asyncio.run(with_driver(tmp_path / "ei412", body))


def test_bad_checksum_is_logged_with_its_byte_offset(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger=DRIVER_LOGGER)

    async def body(collector: Collector, watch: LogWatch) -> None:
        first, second = sim.plan_run(), sim.plan_run()
        frames = second.frames()
        expected_offset = sum(len(f) for _, f in first.frames()) + sum(len(f) for _, f in frames[:3])
        await asyncio.to_thread(sim.write_run, (), first)
        await asyncio.to_thread(sim.write_run, [Fault("bad_checksum", 2)], second)
        await collector.wait_for(lambda: len(collector.results) == 7)
        [record] = [r for r in caplog.records if getattr(r, "error_kind", None) == "bad_checksum"]
        assert record.byte_offset == expected_offset
        assert f"at byte {expected_offset}" in record.getMessage()
        assert record.levelno == logging.WARNING and record.instrument_id == "ei-1"
        assert collector.keys[4:] == [f"EI412A0157:{second.run}:{n}" for n in (1, 3, 4)]

    with EnzymeSimulator(tmp_path / "ei412", seed=3, channels=4) as sim:
        asyncio.run(with_driver(tmp_path / "ei412", body))


def test_a_resent_run_is_offered_again_under_the_same_keys(tmp_path):
    async def body(collector: Collector, watch: LogWatch) -> None:
        plan = sim.plan_run()
        await asyncio.to_thread(sim.write_run, (), plan)
        await asyncio.to_thread(sim.write_run, (), plan)  # the operator pressed SEND
        await collector.wait_for(lambda: len(collector.calls) == 8)
        assert collector.calls[:4] == collector.calls[4:] and len(collector.results) == 4
        await watch.wait_for(lambda: watch.count("duplicate_reading") == 4)

    with EnzymeSimulator(tmp_path / "ei412", seed=4, channels=4) as sim:
        asyncio.run(with_driver(tmp_path / "ei412", body))


def test_driver_reconnects_when_the_port_disappears(tmp_path):
    link = tmp_path / "ei412"
    first = EnzymeSimulator(link, seed=5, channels=2)
    first.open()

    async def body(collector: Collector, watch: LogWatch) -> None:
        before = await asyncio.to_thread(first.write_run)
        await collector.wait_for(lambda: len(collector.results) == 2)
        await asyncio.to_thread(first.close)
        await watch.wait_for(lambda: watch.count("port_lost") >= 1)
        with EnzymeSimulator(link, seed=6, channels=2, first_run=500) as second:
            await watch.wait_for(lambda: watch.count("port_opened") >= 2)
            after = await asyncio.to_thread(second.write_run)
            await collector.wait_for(lambda: len(collector.results) == 4)
        assert collector.keys == [t.source_key for t in before + after]

    try:
        asyncio.run(with_driver(link, body))
    finally:
        first.close()
