"""MQTT uplink against a real Mosquitto and an in-test LIMS bridge that verifies every envelope."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest

from gateway.config import LimsSection, MqttSection, load_config
from gateway.daemon import Gateway
from gateway.uplink_mqtt import MqttUplink
from protocols.envelope import public_key_bytes
from protocols.wire.topics import GatewayTopics

from .conftest import GATEWAY_ID, async_wait_until, config_data, now, result, write_config
from .gw_mosquitto import MOSQUITTO, Broker, answers, own_broker
from .gw_mqtt_bridge import StandInBridge
from .gw_standin_lims import StandInLims, free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(MOSQUITTO is None and not answers(1883),
                                reason="no mosquitto binary (apt install mosquitto) and nothing on 127.0.0.1:1883")


@pytest.fixture
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """The broker on 127.0.0.1:1883 if it answers, else a mosquitto of our own on a free port."""
    if answers(1883):
        yield Broker(1883)
        return
    started = own_broker(tmp_path_factory.mktemp("mosquitto"), free_port())
    yield started
    started.stop()


@pytest.fixture
def prefix() -> str:
    """A topic prefix of this test only, so tests never see each other's traffic."""
    return f"kjtest/{uuid.uuid4().hex[:12]}"


@pytest.fixture
def enrolled_lims(private_key) -> StandInLims:
    return StandInLims({GATEWAY_ID: public_key_bytes(private_key.public_key())})


def mqtt_config(tmp_path: Path, port: int, prefix: str, instruments: list[dict[str, object]]) -> Path:
    data = config_data("http://unused.invalid", instruments, transport="mqtt", timeout_s=3.0)
    data["mqtt"] = {"host": "127.0.0.1", "port": port, "topic_prefix": prefix, "keepalive": 5}
    return write_config(tmp_path, data)


def counting(tmp_path: Path, count: int, **options: object) -> dict[str, object]:
    return {"id": "ei-01", "driver": "counting",
            "options": {"count": count, "ack_file": str(tmp_path / "instrument.ack"), **options}}


async def status_of(port: int, prefix: str, want: str, timeout: float = 10.0) -> dict[str, object]:
    """The gateway's retained status once its ``state`` is ``want`` (waits for it to change)."""
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.subscribe(GatewayTopics.of(prefix, GATEWAY_ID).status, qos=1)
        async with asyncio.timeout(timeout):
            async for message in client.messages:
                status = json.loads(message.payload)  # type: ignore[arg-type]
                if status["state"] == want:
                    return status
    raise AssertionError("unreachable")


async def with_bridge(bridge: StandInBridge, scenario) -> None:  # type: ignore[no-untyped-def]
    task = asyncio.create_task(bridge.run())
    try:
        await asyncio.wait_for(bridge.connected.wait(), 10)
        await scenario()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_every_result_is_delivered_exactly_once(outbox, broker, prefix, enrolled_lims, capsys):
    total = 2000
    for n in range(1, total + 1):
        outbox.append(result(n), f"src:{n}")
    bridge = StandInBridge(enrolled_lims, broker.port, prefix)
    lims = LimsSection(transport="mqtt", timeout_s=5.0, retry_min_s=0.05, retry_max_s=0.5)
    mqtt = MqttSection(host="127.0.0.1", port=broker.port, topic_prefix=prefix)
    uplink = MqttUplink(outbox, lims, mqtt, client_id=f"gw-{prefix}", clock=now)
    elapsed = 0.0

    async def scenario() -> None:
        nonlocal elapsed
        stop = asyncio.Event()
        started = time.perf_counter()
        task = asyncio.create_task(uplink.run(stop))
        assert await async_wait_until(lambda: outbox.counts().delivered == total, timeout=60)
        elapsed = time.perf_counter() - started
        stop.set()
        await asyncio.wait_for(task, 10)
        status = await status_of(broker.port, prefix, "offline")
        assert status["reason"] == "stopped"

    asyncio.run(with_bridge(bridge, scenario))
    assert enrolled_lims.seqs(GATEWAY_ID) == list(range(1, total + 1))
    assert (enrolled_lims.duplicates, enrolled_lims.rejections, bridge.received) == (0, [], total)
    assert uplink.stats.delivered_total == total and outbox.counts().pending == 0
    with capsys.disabled():
        print(f"\nMQTT QoS 1: {total} envelopes delivered and acked in {elapsed:.2f} s = {total / elapsed:.0f}/s")


def test_rejected_and_lost_acks_follow_the_http_rules(outbox, broker, prefix, enrolled_lims):
    """A rejection marks only its envelope; an ack that never comes makes the gateway publish again."""
    for n in range(1, 7):
        outbox.append(result(n), f"src:{n}")
    enrolled_lims.reject_seqs = {3}
    bridge = StandInBridge(enrolled_lims, broker.port, prefix)
    bridge.drop_first = {5}
    lims = LimsSection(transport="mqtt", timeout_s=0.5, retry_min_s=0.05, retry_max_s=0.5)
    mqtt = MqttSection(host="127.0.0.1", port=broker.port, topic_prefix=prefix)
    uplink = MqttUplink(outbox, lims, mqtt, client_id=f"gw-{prefix}", clock=now)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(uplink.run(stop))
        assert await async_wait_until(lambda: outbox.counts().pending == 0, timeout=15)
        stop.set()
        await asyncio.wait_for(task, 10)

    asyncio.run(with_bridge(bridge, scenario))
    assert enrolled_lims.seqs(GATEWAY_ID) == [1, 2, 4, 5, 6]
    assert outbox.get(3).state == "rejected" and outbox.get(3).last_error.startswith("schema: ")
    assert outbox.get(5).state == "delivered" and bridge.received >= 7  # seq 5 was published again


def test_broker_restart_mid_stream_loses_nothing(tmp_path, key_path, prefix, enrolled_lims, counting_driver):
    if MOSQUITTO is None:
        pytest.skip("needs a mosquitto binary to restart a broker of its own")
    (tmp_path / "broker").mkdir()
    broker = own_broker(tmp_path / "broker", free_port())
    total = 200
    path = mqtt_config(tmp_path, broker.port, prefix, [counting(tmp_path, total, interval_s=0.01)])
    bridge = StandInBridge(enrolled_lims, broker.port, prefix)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(Gateway(load_config(path), restart_delay_s=0.05).run(stop))
        assert await async_wait_until(lambda: len(enrolled_lims.stored) >= 40, timeout=20)
        await asyncio.to_thread(broker.restart)
        assert len(enrolled_lims.stored) < total, "the stream ended before the restart; slow the driver down"
        assert await async_wait_until(lambda: len(enrolled_lims.stored) == total, timeout=40)
        stop.set()
        await asyncio.wait_for(task, 15)

    try:
        asyncio.run(with_bridge(bridge, scenario))
    finally:
        broker.stop()
    assert enrolled_lims.seqs(GATEWAY_ID) == list(range(1, total + 1))
    assert enrolled_lims.rejections == []
    samples = [enrolled_lims.envelopes[key]["result"]["sample"]["name"] for key in sorted(enrolled_lims.envelopes)]
    assert samples == [f"sample {n}" for n in range(1, total + 1)]


@pytest.mark.crash
def test_retained_status_goes_offline_when_the_gateway_is_sigkilled(tmp_path, key_path, broker, prefix):
    path = mqtt_config(tmp_path, broker.port, prefix, [])
    log_path = tmp_path / "daemon.log"
    with log_path.open("ab") as log:
        daemon = subprocess.Popen([sys.executable, "-m", "tests.gateway.gw_run_daemon", str(path)], cwd=ROOT,
                                  stdout=log, stderr=log, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        online = asyncio.run(status_of(broker.port, prefix, "online", timeout=20))
        assert online["gateway"] == GATEWAY_ID, log_path.read_text()
        daemon.send_signal(signal.SIGKILL)
        assert daemon.wait(10) == -signal.SIGKILL
        offline = asyncio.run(status_of(broker.port, prefix, "offline", timeout=10))
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    assert offline == {"gateway": GATEWAY_ID, "state": "offline", "reason": "connection_lost",
                       "online_since": online["since"]}
