"""The MQTT ingest bridge against a real Mosquitto: acks, duplicates, forgeries, junk, broker restarts."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import pwd
import shutil
import socket
import subprocess
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import aiomqtt
import pytest

from lims_api.core.db import make_engine, make_sessionmaker
from lims_api.ingest.mqtt import MqttTopics
from lims_api.ingest.mqtt_bridge import BridgeConfig, MqttBridge
from protocols.envelope import envelope_hash

from .conftest import line_of

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
TOPICS = MqttTopics()
ACK_MEMBERS = {"gateway", "seq", "status", "code", "error", "hash"}
T = TypeVar("T")



def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mosquitto:
    """A real broker on a fixed port whose persistence directory survives stop/start."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {workdir}/\nlog_dest stderr\nset_tcp_nodelay true\n"
            f"user {pwd.getpwuid(os.geteuid()).pw_name}\n",  # as root, do not switch to user mosquitto
            encoding="utf-8",
        )
        self.process: subprocess.Popen[str] | None = None
        self.log: list[str] = []

    def start(self) -> None:
        """Start and return once the broker logs that it is running (listening)."""
        running = threading.Event()
        process = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        self.process = process

        def read_log() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                self.log.append(line.rstrip())
                if line.rstrip().endswith(" running"):
                    running.set()
            running.set()  # exited: let start() report it

        threading.Thread(target=read_log, daemon=True).start()
        if not running.wait(10) or process.poll() is not None:
            self.stop()
            raise AssertionError("mosquitto did not start:\n" + "\n".join(self.log))

    def stop(self) -> None:
        """SIGTERM (the broker saves its persistence file) and wait for the exit."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A running Mosquitto for one test; skipped (with the reason) when the binary is not installed."""
    if not os.access(MOSQUITTO, os.X_OK):
        pytest.skip(f"Mosquitto broker binary not found at {MOSQUITTO} (apt install mosquitto)")
    workdir = tmp_path / "mosquitto"
    workdir.mkdir()
    mosquitto = Mosquitto(workdir)
    mosquitto.start()
    try:
        yield mosquitto
    finally:
        mosquitto.stop()


def run(scenario: Callable[[], Awaitable[T]], timeout: float = 40) -> T:
    """Run an async test scenario with an overall deadline."""

    async def bounded() -> T:
        return await asyncio.wait_for(scenario(), timeout)

    return asyncio.run(bounded())


@contextlib.asynccontextmanager
async def running_bridge(db_url: str, port: int) -> AsyncIterator[MqttBridge]:
    """The bridge as an asyncio task, subscribed before the body runs, stopped (and checked) after it."""
    engine = make_engine(db_url)
    config = BridgeConfig(port=port, client_id=f"test-bridge-{uuid.uuid4().hex[:8]}", timeout_s=3,
                          backoff_min_s=0.05, backoff_max_s=0.5)
    bridge = MqttBridge(config, make_sessionmaker(engine))
    task = asyncio.create_task(bridge.run())
    try:
        ready = asyncio.create_task(bridge.subscribed.wait())
        await asyncio.wait({ready, task}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        assert bridge.subscribed.is_set(), "bridge did not subscribe"
        yield bridge
    finally:
        bridge.stop.set()
        await asyncio.wait_for(task, 10)  # a clean return, or the bridge's exception
        engine.dispose()


class AckCollector:
    """The gateway's side of the acks: a persistent session that keeps every ack across broker restarts."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.client_id = f"test-acks-{uuid.uuid4().hex[:8]}"
        self.acks: list[tuple[str, dict[str, Any]]] = []
        self.changed = asyncio.Condition()
        self.subscribed = asyncio.Event()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(aiomqtt.MqttError, OSError):
                async with aiomqtt.Client("127.0.0.1", self.port, identifier=self.client_id,
                                          clean_session=False) as client:
                    await client.subscribe(f"{TOPICS.prefix}/+/acks", qos=1)
                    self.subscribed.set()
                    async for message in client.messages:
                        assert isinstance(message.payload, bytes)
                        async with self.changed:
                            self.acks.append((message.topic.value, json.loads(message.payload)))
                            self.changed.notify_all()
            self.subscribed.clear()
            await asyncio.sleep(0.05)  # reconnect pace while the broker restarts, not a synchronisation

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[AckCollector]:
        task = asyncio.create_task(self._run())
        try:
            await asyncio.wait_for(self.subscribed.wait(), 10)
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def wait_for(self, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 15) -> list[dict[str, Any]]:
        """Wait until ``done(entries)`` holds; returns the entries received so far."""
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(lambda: done([e for _, e in self.acks])), timeout)
        return [e for _, e in self.acks]

    async def wait_count(self, count: int) -> list[dict[str, Any]]:
        return await self.wait_for(lambda entries: len(entries) >= count)


async def publish(port: int, *items: tuple[str, bytes]) -> None:
    """Publish (gateway of topic, payload) pairs with QoS 1, each confirmed by the broker."""
    async with aiomqtt.Client("127.0.0.1", port) as client:
        for gateway, payload in items:
            await client.publish(TOPICS.envelope_topic(gateway), payload, qos=1)


def sealed(gateway: SigningGateway, *envelopes: dict[str, Any]) -> list[tuple[str, bytes]]:
    return [(gateway.gateway, line_of(envelope).encode("utf-8")) for envelope in envelopes]


def stored_seqs(lims: Lims, gateway: str) -> list[int]:
    return [row.seq for row in lims.rows("SELECT seq FROM envelopes WHERE gateway_id = :g ORDER BY seq", g=gateway)]


def test_each_envelope_is_committed_then_acked_stored(lims: Lims, gateway: SigningGateway, broker: Mosquitto) -> None:
    lims.enrol(gateway)
    envelopes = [gateway.next() for _ in range(5)]

    async def scenario() -> list[tuple[str, dict[str, Any]]]:
        async with AckCollector(broker.port).running() as acks, running_bridge(lims.url, broker.port):
            for number, item in enumerate(sealed(gateway, *envelopes), start=1):
                await publish(broker.port, item)
                await acks.wait_count(number)
                assert stored_seqs(lims, gateway.gateway) == list(range(1, number + 1))  # committed before ack
            return acks.acks

    acks = run(scenario)
    assert {topic for topic, _ in acks} == {TOPICS.ack_topic(gateway.gateway)}
    assert [(e["seq"], e["status"], e["hash"]) for _, e in acks] == [
        (e["seq"], "stored", envelope_hash(e)) for e in envelopes
    ]
    assert stored_seqs(lims, gateway.gateway) == [1, 2, 3, 4, 5]


def test_acks_carry_the_http_entry_and_duplicates_answer_duplicate(
    lims: Lims, gateway: SigningGateway, broker: Mosquitto
) -> None:
    lims.enrol(gateway)
    first, second = gateway.next(), gateway.next()

    async def scenario() -> list[dict[str, Any]]:
        async with AckCollector(broker.port).running() as acks, running_bridge(lims.url, broker.port):
            await publish(broker.port, *sealed(gateway, first, second, first))
            return await acks.wait_count(3)

    entries = run(scenario)
    assert all(set(entry) == ACK_MEMBERS for entry in entries)
    assert [(e["seq"], e["status"], e["hash"]) for e in entries] == [
        (1, "stored", envelope_hash(first)), (2, "stored", envelope_hash(second)), (1, "duplicate", envelope_hash(first))
    ]
    http_duplicate = {k: v for k, v in lims.ingest(first)[0].items() if k != "line"}
    assert entries[2] == http_duplicate
    assert stored_seqs(lims, gateway.gateway) == [1, 2]


def test_forged_envelope_is_rejected_and_the_next_good_one_stored(
    lims: Lims, gateway: SigningGateway, broker: Mosquitto
) -> None:
    lims.enrol(gateway)
    first = gateway.next()
    forged = copy.deepcopy(gateway.seal_at(2, envelope_hash(first)))
    forged["result"]["verdict"] = "negative" if forged["result"]["verdict"] == "positive" else "positive"
    second = gateway.next()

    async def scenario() -> list[dict[str, Any]]:
        async with AckCollector(broker.port).running() as acks, running_bridge(lims.url, broker.port):
            await publish(broker.port, *sealed(gateway, first, forged, second))
            return await acks.wait_count(3)

    entries = run(scenario)
    assert [(e["seq"], e["status"], e["code"]) for e in entries] == [
        (1, "stored", None), (2, "rejected", "bad_signature"), (2, "stored", None)
    ]
    assert entries[1]["gateway"] == gateway.gateway and entries[1]["error"]
    assert lims.rows("SELECT seq, hash FROM envelopes ORDER BY seq") == [
        (1, envelope_hash(first)), (2, envelope_hash(second))
    ]


@pytest.mark.parametrize(
    ("payload", "error_part"),
    [
        (b'{"v": 1, "gateway": ', "invalid JSON"),
        (b"", "payload is empty"),
        (b"{}\n{}", "holds 2 lines"),
        (b"\xff\xfe", "not UTF-8"),
    ],
    ids=["truncated-json", "empty", "two-lines", "not-utf8"],
)
def test_malformed_payload_gets_a_rejected_ack_on_its_topic_and_the_bridge_goes_on(
    lims: Lims, gateway: SigningGateway, broker: Mosquitto, payload: bytes, error_part: str
) -> None:
    lims.enrol(gateway)
    good = gateway.next()

    async def scenario() -> list[tuple[str, dict[str, Any]]]:
        async with AckCollector(broker.port).running() as acks, running_bridge(lims.url, broker.port):
            await publish(broker.port, (gateway.gateway, payload), *sealed(gateway, good))
            await acks.wait_count(2)
            return acks.acks

    (bad_topic, bad), (_, ok) = run(scenario)
    assert bad_topic == TOPICS.ack_topic(gateway.gateway)
    assert (bad["gateway"], bad["seq"], bad["status"], bad["code"]) == (
        gateway.gateway, None, "rejected", "malformed_json")
    assert error_part in bad["error"]
    assert (ok["seq"], ok["status"]) == (1, "stored")


def test_wildcard_gateway_in_a_bad_envelope_never_reaches_a_topic(
    lims: Lims, gateway: SigningGateway, broker: Mosquitto
) -> None:
    lims.enrol(gateway)
    payload = json.dumps({"v": 1, "gateway": "evil/#", "seq": 1}).encode()

    async def scenario() -> list[tuple[str, dict[str, Any]]]:
        async with AckCollector(broker.port).running() as acks, running_bridge(lims.url, broker.port):
            await publish(broker.port, (gateway.gateway, payload))
            await acks.wait_count(1)
            return acks.acks

    [(topic, entry)] = run(scenario)
    assert topic == TOPICS.ack_topic(gateway.gateway)
    assert (entry["gateway"], entry["status"], entry["code"]) == ("evil/#", "rejected", "schema")


def test_envelope_on_another_gateways_topic_is_acked_to_its_own_gateway(
    lims: Lims, make_gateway: type[SigningGateway], broker: Mosquitto
) -> None:
    owner = make_gateway(gateway="gw-owner")
    lims.enrol(owner)
    envelope = owner.next()

    async def scenario() -> list[tuple[str, dict[str, Any]]]:
        async with AckCollector(broker.port).running() as acks, running_bridge(lims.url, broker.port):
            await publish(broker.port, ("gw-other", line_of(envelope).encode()))
            await acks.wait_count(1)
            return acks.acks

    [(topic, entry)] = run(scenario)
    assert (topic, entry["gateway"], entry["status"]) == (TOPICS.ack_topic("gw-owner"), "gw-owner", "stored")
