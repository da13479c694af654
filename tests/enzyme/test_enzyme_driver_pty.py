"""EnzymeInhibitionDriver end to end over a real pty against the simulator, faults included.

These pin what a first transmission delivers, so the simulator's ack timeout is set far beyond
the test (no automatic re-sends); re-sends are tested in test_enzyme_ack_*.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from decimal import Decimal

from firmware_sim.enzyme import ChannelTruth, EnzymeSimulator, Fault, RunPlan

from .enzyme_support import Collector, LogWatch, assert_matches_truth, queries, sim_saw, with_driver


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

    with EnzymeSimulator(tmp_path / "ei412", seed=20261123, channels=4, ack_timeout=60) as sim:
        asyncio.run(with_driver(tmp_path / "ei412", body, sim))


def test_bad_checksum_is_logged_with_its_byte_offset(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="drivers.enzyme_inhibition")

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

    with EnzymeSimulator(tmp_path / "ei412", seed=3, channels=4, ack_timeout=60) as sim:
        asyncio.run(with_driver(tmp_path / "ei412", body, sim))


def test_a_resent_run_is_offered_again_under_the_same_keys(tmp_path):
    async def body(collector: Collector, watch: LogWatch) -> None:
        plan = sim.plan_run()
        await asyncio.to_thread(sim.write_run, (), plan)
        await asyncio.to_thread(sim.write_run, (), plan)  # the operator pressed SEND
        await collector.wait_for(lambda: len(collector.calls) == 8)
        assert collector.calls[:4] == collector.calls[4:] and len(collector.results) == 4
        await watch.wait_for(lambda: watch.count("duplicate_reading") == 4)

    with EnzymeSimulator(tmp_path / "ei412", seed=4, channels=4, ack_timeout=60) as sim:
        asyncio.run(with_driver(tmp_path / "ei412", body, sim))


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
            await sim_saw(second, lambda inputs: queries(inputs) >= 1)
            after = await asyncio.to_thread(second.write_run)
            await collector.wait_for(lambda: len(collector.results) == 4)
        assert collector.keys == [t.source_key for t in before + after]

    try:
        asyncio.run(with_driver(link, body, first))
    finally:
        first.close()
