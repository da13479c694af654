"""Driver end to end against a real pymodbus TCP server and a real pty RTU link: exactly-once delivery."""

from __future__ import annotations

import asyncio
import base64

import pytest

from protocols.modbus_profile import decode_block, interpret, load_builtin, registers_from_bytes
from protocols.result import TestResult

from modbus_support import CollectingSink, driver_for, running_driver, running_sim, wait_until

N = 5


def _check_result(result: TestResult, profile_name: str, transport: str) -> None:
    """Every contract member is there and the verdict can be recomputed from raw + profile alone."""
    TestResult.from_wire(result.to_wire())
    assert result.raw.transport == transport
    assert result.test.kind == "colloidal_gold" and result.test.method == "胶体金免疫层析法"
    assert result.measurement.unit == "T/C"
    profile = load_builtin(profile_name)
    registers = registers_from_bytes(base64.b64decode(result.raw.data))
    reading = interpret(profile, decode_block(profile, registers))
    assert reading.verdict == result.verdict
    assert reading.ratio == result.measurement.value and reading.cutoff == result.measurement.cutoff
    assert result.tested_at.endswith("+08:00") and result.received_at.endswith("+08:00")


@pytest.mark.parametrize(("profile", "rtu"), [("gr100", False), ("huaxin-cg8", False), ("gr100", True),
                                              ("huaxin-cg8", True)])
def test_results_delivered_exactly_once_then_restart_adds_no_duplicate(profile, rtu, tmp_path):
    async def scenario() -> None:
        async with running_sim(profile, rtu_link=tmp_path / "gold.tty" if rtu else None) as sim:
            for _ in range(N):
                sim.instrument.add_result()
            sink = CollectingSink()
            async with running_driver(driver_for(sim, profile), sink):
                await wait_until(lambda: len(sim.instrument.acked) == N)
            assert sorted(sim.instrument.acked) == list(range(1, N + 1))
            assert len(sink.calls) == N == len(set(sink.calls)) == len(sink.stored)
            serial = next(iter(sink.stored.values())).instrument.serial
            assert set(sink.stored) == {f"{serial}:{seq}" for seq in range(1, N + 1)}
            for key, result in sink.stored.items():
                _check_result(result, profile, "modbus-rtu" if rtu else "modbus-tcp")
                produced = sim.instrument.produced[int(key.rsplit(":", 1)[1])]
                assert result.measurement.extra["sample_code"] == produced[load_builtin(profile).mapping.sample_code]

            # Crash between commit and ack: the instrument presents the committed result again.
            # A new driver instance (no memory) with the same durable sink must not store it twice.
            first = f"{serial}:{N + 1}"
            sim.instrument.add_result()
            restarted = CollectingSink(stored={first: next(iter(sink.stored.values()))})
            async with running_driver(driver_for(sim, profile), restarted):
                await wait_until(lambda: len(sim.instrument.acked) == N + 1)
            assert restarted.calls == [first] and list(restarted.stored) == [first]

    asyncio.run(scenario())


def test_idle_polls_read_one_register(tmp_path):
    """While nothing is ready, each poll is one single-register read (no block reads)."""
    async def scenario() -> None:
        async with running_sim("gr100") as sim:
            seen: list[tuple[int, int]] = []
            image = sim.instrument.image
            original = image.getValues

            def spy(func_code: int, address: int, count: int = 1):
                seen.append((address, count))
                return original(func_code, address, count)

            image.getValues = spy  # type: ignore[method-assign]
            async with running_driver(driver_for(sim, "gr100"), CollectingSink()):
                await wait_until(lambda: len(seen) >= 6)
            assert seen[0] == (0, 28)  # identity, once
            assert set(seen[1:]) == {(101, 1)}

    asyncio.run(scenario())
