"""A reader's result counter restarts (power cycle) or wraps (uint16): every reading stored once, none dropped."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.outbox import SOURCE_COUNTER_RESET_FLAG, Outbox
from protocols.result import TestResult

from modbus_support import driver_for, running_driver, running_sim, wait_until


class OutboxSink:
    """The driver's sink on a real outbox; ``crash_after_commit`` keys raise once after their commit (no ack)."""

    def __init__(self, outbox: Outbox, crash_after_commit: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.outbox = outbox
        self.crash_after_commit = set(crash_after_commit)
        self.calls: list[str] = []

    async def __call__(self, result: TestResult, source_key: str | None) -> bool:
        assert source_key is not None
        self.calls.append(source_key)
        stored = self.outbox.append(result, source_key) is not None
        if source_key in self.crash_after_commit:
            self.crash_after_commit.discard(source_key)
            raise RuntimeError("process died between the commit and the ack")
        return stored


def _outbox(tmp_path) -> Outbox:
    return Outbox(tmp_path / "outbox.sqlite3", gateway_id="gw-test", private_key=Ed25519PrivateKey.generate(),
                  clock=lambda: datetime.now().astimezone())


def _stored(outbox: Outbox) -> list[dict]:
    return [json.loads(text)["result"] for (text,) in outbox.query("SELECT envelope FROM envelopes ORDER BY seq")]


def _reset_flagged(results: list[dict]) -> list[bool]:
    return [SOURCE_COUNTER_RESET_FLAG in r["qc"]["flags"] for r in results]


def test_power_cycle_counter_back_to_1_stores_every_reading_once(tmp_path):
    async def scenario() -> None:
        outbox = _outbox(tmp_path)
        async with running_sim("gr100") as sim:
            for _ in range(3):
                sim.instrument.add_result()
            sink = OutboxSink(outbox)
            async with running_driver(driver_for(sim, "gr100"), sink):
                await wait_until(lambda: len(sim.instrument.acked) == 3)
                sim.instrument.power_cycle()
                first_after = _stored(outbox)[0]["instrument"]["serial"] + ":1"
                sink.crash_after_commit = {first_after}  # and the first reading after it loses its ack once
                for _ in range(3):
                    sim.instrument.add_result()
                await wait_until(lambda: len(sim.instrument.acked) == 6)
            results = _stored(outbox)
            assert sim.instrument.acked == [1, 2, 3, 1, 2, 3]
            assert [r["measurement"]["sequence"] for r in results] == [1, 2, 3, 1, 2, 3]
            assert _reset_flagged(results) == [False] * 3 + [True] * 3
            assert Counter(sink.calls)[first_after] == 3  # before, after the reset, and its re-presentation
            assert len({r["raw"]["data"] for r in results}) == 6
        outbox.close()

    asyncio.run(scenario())


def test_uint16_counter_wrap_stores_every_reading_once(tmp_path):
    """huaxin-cg8's sequence is a uint16: after 65535 comes 0, and keys seen 65,536 results ago come back."""
    async def scenario() -> None:
        outbox = _outbox(tmp_path)
        async with running_sim("huaxin-cg8", seed=4) as sim:  # the reader's first results: 1 and 2
            for _ in range(2):
                sim.instrument.add_result()
            async with running_driver(driver_for(sim, "huaxin-cg8"), OutboxSink(outbox)):
                await wait_until(lambda: len(sim.instrument.acked) == 2)
        async with running_sim("huaxin-cg8", seed=4, first_sequence=65534) as sim:  # same reader, 65,532 later
            for _ in range(5):
                sim.instrument.add_result()
            async with running_driver(driver_for(sim, "huaxin-cg8"), OutboxSink(outbox)):
                await wait_until(lambda: len(sim.instrument.acked) == 5)
            assert sim.instrument.acked == [65534, 65535, 0, 1, 2]
        results = _stored(outbox)
        assert [r["measurement"]["sequence"] for r in results] == [1, 2, 65534, 65535, 0, 1, 2]
        assert _reset_flagged(results) == [False] * 5 + [True] * 2
        assert len({r["instrument"]["serial"] for r in results}) == 1
        outbox.close()

    asyncio.run(scenario())
