"""The MQTT bridge under stress: a broker restart mid-stream, and its throughput (QoS 1, real Mosquitto)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import pytest

from protocols.envelope import envelope_hash

from .test_lims_mqtt_bridge import AckCollector, Mosquitto, broker, publish, run, running_bridge, sealed, stored_seqs

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway

__all__ = ["broker"]  # the fixture, re-used from the bridge tests


def test_broker_restart_mid_stream_loses_nothing_and_stores_once(
    lims: Lims, gateway: SigningGateway, broker: Mosquitto
) -> None:
    lims.enrol(gateway)
    envelopes = [gateway.next() for _ in range(60)]
    before, after = sealed(gateway, *envelopes[:40]), sealed(gateway, *envelopes[40:])
    all_seqs = set(range(1, 61))

    def answered(entries: list[dict[str, Any]]) -> bool:
        return {e["seq"] for e in entries if e["status"] in ("stored", "duplicate")} >= all_seqs

    async def scenario() -> tuple[list[dict[str, Any]], int]:
        async with AckCollector(broker.port).running() as acks, running_bridge(lims.url, broker.port) as bridge:
            await publish(broker.port, *before)
            await acks.wait_count(1)
            await asyncio.to_thread(broker.stop)  # mid-stream: most of the 40 are still queued or in flight
            await asyncio.to_thread(broker.start)
            await publish(broker.port, *after)
            entries = await acks.wait_for(answered, timeout=25)
            return entries, bridge.connections

    entries, connections = run(scenario)
    assert connections >= 2, "the bridge never reconnected"
    # QoS 1 may repeat an ack, or answer a redelivered envelope "duplicate"; never another hash
    hashes = {seq: envelope_hash(envelope) for seq, envelope in enumerate(envelopes, start=1)}
    assert [e for e in entries if e["status"] == "rejected" or e["hash"] != hashes[e["seq"]]] == []
    assert stored_seqs(lims, gateway.gateway) == sorted(all_seqs)
    assert lims.scalar("SELECT count(*) FROM envelopes") == 60


def test_throughput_through_the_bridge(
    lims: Lims, gateway: SigningGateway, broker: Mosquitto, capsys: pytest.CaptureFixture[str]
) -> None:
    lims.enrol(gateway)
    count = 300
    items = sealed(gateway, *[gateway.next() for _ in range(count)])

    async def scenario() -> float:
        async with AckCollector(broker.port).running() as acks, running_bridge(lims.url, broker.port):
            started = time.perf_counter()
            await publish(broker.port, *items)
            await acks.wait_count(count)
            return time.perf_counter() - started

    elapsed = run(scenario)
    assert lims.scalar("SELECT count(*) FROM envelopes") == count
    with capsys.disabled():
        print(f"\nMQTT bridge ({lims.url.split(':')[0]}): {count} envelopes stored and acked (QoS 1) in"
              f" {elapsed:.2f} s = {count / elapsed:.0f} results/s")
