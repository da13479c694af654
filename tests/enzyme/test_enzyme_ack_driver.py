"""The driver in ack mode over a real pty: acks after the sink, queries on connect, survives being killed."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
from asyncio.subprocess import PIPE
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

from drivers.enzyme_inhibition import EnzymeInhibitionDriver
from firmware_sim.enzyme import ChannelTruth, EnzymeSimulator, Fault, HostAck
from protocols.result import TestResult

from .enzyme_support import TIMEOUT, Collector, LogWatch, assert_matches_truth, context, queries, with_driver


def test_driver_acks_every_result_and_wire_faults_lose_nothing(tmp_path):
    async def body(collector: Collector, watch: LogWatch) -> None:
        truth: list[ChannelTruth] = []
        truth += await asyncio.to_thread(sim.write_run, [Fault("bad_checksum", "C")])  # whole run lost...
        truth += await asyncio.to_thread(sim.write_run, [Fault("truncated", 2), Fault("bad_checksum", 4)])
        sim.fault_rate = 0.25
        for _ in range(5):
            truth += await asyncio.to_thread(sim.write_run)
        sim.fault_rate = 0.0  # ...but every result comes back in a re-send
        assert any(not t.delivered for t in truth)
        assert await asyncio.to_thread(sim.wait_until_acked, TIMEOUT), f"unacked: {sim.unacked()}"
        by_key = {t.source_key: t for t in truth}
        assert sorted(collector.keys) == sorted(by_key)
        for key, result in zip(collector.keys, collector.results):
            assert_matches_truth(result, by_key[key])
        acks = [item for item in sim.host_inputs if isinstance(item, HostAck)]
        assert {f"EI412A0157:{a.run}:{a.channel}" for a in acks} == set(by_key)
        assert sim.resent and sim.evicted == []

    with EnzymeSimulator(tmp_path / "ei412", seed=412, channels=4, ack_timeout=0.1) as sim:
        asyncio.run(with_driver(tmp_path / "ei412", body, sim))


def test_driver_with_ack_off_never_writes_to_the_port(tmp_path):
    async def body(collector: Collector, watch: LogWatch) -> None:
        first = await asyncio.to_thread(sim.write_run)
        await collector.wait_for(lambda: len(collector.keys) == 2)
        second = await asyncio.to_thread(sim.write_run)  # read only after any ack of the first was written
        await collector.wait_for(lambda: len(collector.keys) == 4)
        assert collector.keys == [t.source_key for t in first + second]
        assert sim.host_bytes == 0 and sim.host_inputs == []
        assert sim.unacked() == {first[0].run: (1, 2), second[0].run: (1, 2)}

    with EnzymeSimulator(tmp_path / "ei412", seed=8, channels=2, ack_timeout=60) as sim:
        asyncio.run(with_driver(tmp_path / "ei412", body, ack=False))


class OutboxDict:
    """The outbox reduced to its rule: one stored result per source key; commits are counted."""

    def __init__(self) -> None:
        self.stored: dict[str, TestResult] = {}
        self.inserts: Counter[str] = Counter()
        self.duplicates = 0

    async def commit(self, result: TestResult, source_key: str | None) -> bool:
        assert source_key is not None
        if source_key in self.stored:
            self.duplicates += 1
            return False
        self.stored[source_key] = result
        self.inserts[source_key] += 1
        return True


DEATHS = ("raise_before_commit", "raise_after_commit", "block_before_commit", "block_after_commit", "at_random_time")


def dying_sink(
    outbox: OutboxDict, death: str, die_at: int, dying: asyncio.Event
) -> Callable[[TestResult, str | None], Awaitable[bool]]:
    """A sink whose ``die_at``-th call kills the driver before or after the commit (raise or hang)."""
    calls = 0

    async def die() -> None:
        dying.set()
        if death.startswith("raise"):
            raise asyncio.CancelledError  # the process dies right here
        await asyncio.Future()  # hangs until the test cancels the driver task

    async def sink(result: TestResult, source_key: str | None) -> bool:
        nonlocal calls
        calls += 1
        if calls == die_at and death.endswith("before_commit"):
            await die()
        stored = await outbox.commit(result, source_key)
        if calls == die_at and death.endswith("after_commit"):
            await die()
        return stored

    return sink


def test_a_driver_killed_anywhere_loses_nothing_and_stores_each_result_once(tmp_path):
    rng = random.Random(20261123)
    deaths = list(DEATHS) * 2
    rng.shuffle(deaths)
    outbox, truth = OutboxDict(), {}

    async def life(sink: Callable[[TestResult, str | None], Awaitable[bool]]) -> asyncio.Task[None]:
        driver = EnzymeInhibitionDriver({"port": str(sim.port), "reconnect_s": 0.05}, context())
        task = asyncio.create_task(driver.run(sink))
        for item in await asyncio.to_thread(sim.write_run):  # 4 new results every life
            truth[item.source_key] = item
        return task

    async def kill(task: asyncio.Task[None]) -> None:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        assert task.cancelled()

    async def scenario() -> None:
        for death in deaths:
            dying = asyncio.Event()
            task = await life(dying_sink(outbox, death, rng.randint(1, 4), dying))
            if death == "at_random_time":
                await asyncio.sleep(rng.uniform(0.0, 0.15))  # a kill point, not a synchronisation
            else:
                await asyncio.wait_for(dying.wait(), TIMEOUT)
            await kill(task)
        task = await life(outbox.commit)  # a last, healthy gateway
        try:
            assert await asyncio.to_thread(sim.wait_until_acked, TIMEOUT), f"unacked: {sim.unacked()}"
        finally:
            await kill(task)

    with EnzymeSimulator(tmp_path / "ei412", seed=77, channels=4, ack_timeout=0.3) as sim:
        asyncio.run(scenario())
        assert sim.evicted == [] and queries(sim.host_inputs) >= len(deaths) + 1
    assert sorted(outbox.stored) == sorted(truth) and len(truth) == 4 * (len(deaths) + 1)
    assert set(outbox.inserts.values()) == {1}
    assert outbox.duplicates >= 2  # results committed but never acked came back and were recognised
    for key, result in outbox.stored.items():
        assert_matches_truth(result, truth[key])


REPO = Path(__file__).resolve().parents[2]
SIM = [sys.executable, "-m", "firmware_sim", "enzyme"]


def test_cli_with_runs_exits_0_after_done_once_a_driver_acked_every_truth_result(tmp_path):
    truth_path = tmp_path / "t.jsonl"
    command = SIM + ["--runs", "3", "--channels", "4", "--interval", "0.1", "--truth", str(truth_path)]

    async def scenario() -> tuple[bytes, int, Collector]:
        proc = await asyncio.create_subprocess_exec(*command, cwd=REPO, stdout=PIPE, stderr=PIPE)
        collector = Collector()
        task: asyncio.Task[None] | None = None
        try:
            assert proc.stdout is not None
            ready = await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)
            assert ready.startswith(b"READY /dev/pts/"), ready
            driver = EnzymeInhibitionDriver({"port": ready.split()[1].decode(), "reconnect_s": 0.05}, context())
            task = asyncio.create_task(driver.run(collector))
            done = await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)
            return done, await asyncio.wait_for(proc.wait(), TIMEOUT), collector
        finally:
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            if proc.returncode is None:
                proc.kill()
                await proc.wait()

    done, code, collector = asyncio.run(scenario())
    assert (done, code) == (b"DONE 3 run(s), 0 result(s) unacked\n", 0)
    lines = [json.loads(line) for line in truth_path.read_text("utf-8").splitlines()]
    assert len(lines) == 12 and sorted(collector.keys) == sorted(line["source_key"] for line in lines)
    results = dict(zip(collector.keys, collector.results))
    for line in lines:
        result = results[line["source_key"]]
        assert (result.instrument.serial, result.channel) == (line["serial"], line["channel"])
        assert result.measurement.extra["sample_delta_a"] == float(line["sample_delta_a"])
        assert result.measurement.extra["control_delta_a"] == float(line["control_delta_a"])
        assert result.verdict == line["expected_verdict"]


def test_cli_with_runs_and_no_host_reports_unacked_results_after_linger(tmp_path):
    base = ["--runs", "1", "--channels", "2", "--interval", "0.01"]
    lingered = subprocess.run(SIM + base + ["--linger", "0.3"], cwd=REPO, capture_output=True, text=True, timeout=20)
    assert lingered.stdout.splitlines()[-1] == "DONE 1 run(s), 2 result(s) unacked" and lingered.returncode == 1
    legacy = subprocess.run(SIM + base + ["--no-ack"], cwd=REPO, capture_output=True, text=True, timeout=20)
    assert legacy.stdout.splitlines()[-1] == "DONE 1 run(s), 0 result(s) unacked" and legacy.returncode == 0
