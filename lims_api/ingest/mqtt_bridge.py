"""MQTT ingest bridge: envelopes from ``{prefix}/+/envelopes`` are stored, then acked on ``{prefix}/{gateway}/acks``.

At-least-once end to end: the bridge keeps a persistent session (fixed client id,
``clean_session=False``) and acknowledges an incoming message to the broker (PUBACK) only
after the envelope is committed and its ack is accepted by the broker. A message seen twice
is answered ``duplicate`` by the idempotent ingest. Broker outages are retried with backoff.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import socket
from collections import Counter
from dataclasses import dataclass, field

import aiomqtt
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from lims_api.core.db import make_engine, make_sessionmaker
from lims_api.core.settings import LimsSettings, MIB

from .mqtt import Ack, MqttTopics, answer_envelope

logger = logging.getLogger(__name__)

__all__ = ["BridgeConfig", "MqttBridge", "add_bridge_command", "run_bridge_command", "serve_bridge"]


@dataclass(frozen=True)
class BridgeConfig:
    """Where the broker is and how the bridge behaves towards it."""

    host: str = "127.0.0.1"
    port: int = 1883
    topics: MqttTopics = field(default_factory=MqttTopics)
    client_id: str = "kuaijian-lims-bridge"
    keepalive: int = 60
    timeout_s: float = 10.0
    """Longest wait for the broker to confirm a subscribe or an ack publish."""
    backoff_min_s: float = 0.5
    backoff_max_s: float = 30.0
    max_payload_bytes: int = MIB


def _manual_puback(client: aiomqtt.Client) -> None:
    """Make the broker wait for our PUBACK (aiomqtt 2.4 does not expose paho's manual acks)."""
    client._client.manual_ack_set(True)  # noqa: SLF001


def _puback(client: aiomqtt.Client, message: aiomqtt.Message) -> None:
    """Tell the broker ``message`` is handled; until then it redelivers it to our session."""
    client._client.ack(message.mid, message.qos)  # noqa: SLF001


class MqttBridge:
    """Consumes envelope messages until ``stop`` is set; reconnects with backoff when the broker goes away."""

    def __init__(self, config: BridgeConfig, sessions: sessionmaker[Session]) -> None:
        self.config = config
        self.sessions = sessions
        self.stop = asyncio.Event()
        self.subscribed = asyncio.Event()
        """Set while a connection with a live subscription exists (tests and readiness wait on it)."""
        self.answered: Counter[str] = Counter()
        """Acks published, by status."""
        self.connections = 0
        """Successful connect-and-subscribe cycles so far."""
        self._busy = False

    async def run(self) -> None:
        """Connect, consume, reconnect; return once ``stop`` is set (after the message in hand is acked)."""
        delay = self.config.backoff_min_s
        while not self.stop.is_set():
            connections_before = self.connections
            problem: BaseException | None = None
            try:
                await self._connected_run()
            except (aiomqtt.MqttError, OSError) as exc:  # paho socket errors surface as OSError
                problem = exc
            finally:
                self.subscribed.clear()
            if self.stop.is_set():
                break
            if self.connections > connections_before:
                delay = self.config.backoff_min_s
            logger.warning("MQTT broker %s:%d unreachable or lost (%s); reconnecting in %.1f s",
                           self.config.host, self.config.port, problem, delay)
            if await self._stopped_within(delay):
                break
            delay = min(delay * 2, self.config.backoff_max_s)

    async def _stopped_within(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for ``stop``; true if it was set."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)
        return self.stop.is_set()

    def _client(self) -> aiomqtt.Client:
        client = aiomqtt.Client(
            self.config.host, self.config.port, identifier=self.config.client_id, clean_session=False,
            keepalive=self.config.keepalive, timeout=self.config.timeout_s, logger=logger.getChild("client"),
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],  # small acks must not wait for Nagle
        )
        _manual_puback(client)
        return client

    async def _connected_run(self) -> None:
        """One connection (a fresh client, so no stale unacked message survives it): subscribe and consume."""
        async with self._client() as client:
            await client.subscribe(self.config.topics.envelope_filter, qos=1)
            logger.info("subscribed to %s on %s:%d as %s", self.config.topics.envelope_filter,
                        self.config.host, self.config.port, self.config.client_id)
            self.connections += 1
            self.subscribed.set()
            consume = asyncio.create_task(self._consume(client))
            stopper = asyncio.create_task(self.stop.wait())
            try:
                await asyncio.wait({consume, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if not consume.done() and not self._busy:
                    consume.cancel()  # idle: waiting for the next message
                with contextlib.suppress(asyncio.CancelledError):
                    await consume
            finally:
                stopper.cancel()
                consume.cancel()

    async def _consume(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            self._busy = True
            try:
                await self._handle(client, message)
            finally:
                self._busy = False
            if self.stop.is_set():
                return

    async def _handle(self, client: aiomqtt.Client, message: aiomqtt.Message) -> None:
        """Store, publish the ack, then PUBACK; a message left un-PUBACKed is redelivered by the broker."""
        payload = message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
        try:
            ack = await self._answer(self.config.topics.gateway_of(message.topic.value), payload)
        except Exception:
            logger.exception("envelope message on %s could not be handled; no ack sent", message.topic.value)
            _puback(client, message)  # a bug must not block the stream; the gateway re-sends unacked envelopes
            return
        if ack is None:
            return  # stopped while the database was unavailable: the broker redelivers it
        await client.publish(self.config.topics.ack_topic(ack.gateway), ack.payload(), qos=1)
        self.answered[ack.status] += 1
        logger.debug("acked %s seq %s: %s", ack.gateway, ack.entry["seq"], ack.status)
        _puback(client, message)

    async def _answer(self, topic_gateway: str, payload: bytes) -> Ack | None:
        """Ingest in a worker thread; retry while the database is unavailable; ``None`` if stopped meanwhile."""
        delay = self.config.backoff_min_s
        while True:
            try:
                return await asyncio.to_thread(
                    answer_envelope, self.sessions, topic_gateway, payload, self.config.max_payload_bytes
                )
            except OperationalError as exc:
                logger.error("database unavailable (%s); retrying the message from %s in %.1f s",
                             exc.orig, topic_gateway, delay)
            if await self._stopped_within(delay):
                return None
            delay = min(delay * 2, self.config.backoff_max_s)


async def serve_bridge(config: BridgeConfig, database_url: str) -> None:
    """Run the bridge until SIGTERM or SIGINT, then disconnect cleanly."""
    engine = make_engine(database_url)
    bridge = MqttBridge(config, make_sessionmaker(engine))
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, bridge.stop.set)
    try:
        await bridge.run()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        engine.dispose()
    logger.info("MQTT bridge stopped; acks published: %s", dict(bridge.answered) or "none")


def add_bridge_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``mqtt-bridge`` on the ``python -m lims_api`` command line."""
    parser = commands.add_parser("mqtt-bridge", help="ingest envelopes from an MQTT broker and ack them")
    parser.add_argument("--db", help="database URL (default: KUAIJIAN_LIMS_DATABASE_URL or SQLite in data dir)")
    parser.add_argument("--host", default="127.0.0.1", help="MQTT broker host")
    parser.add_argument("--port", type=int, default=1883, help="MQTT broker port")
    parser.add_argument("--prefix", default="kuaijian/v1", help="topic prefix")
    parser.add_argument("--client-id", default="kuaijian-lims-bridge", help="fixed client id (persistent session)")


def run_bridge_command(settings: LimsSettings, args: argparse.Namespace) -> None:
    """Migrate the database (as ``serve`` does), then bridge until SIGTERM/SIGINT."""
    from lims_api.core.migrate import init_db

    config = BridgeConfig(host=args.host, port=args.port, topics=MqttTopics(args.prefix),
                          client_id=args.client_id, max_payload_bytes=settings.max_body_bytes)
    url = settings.resolved_database_url()
    init_db(url)
    asyncio.run(serve_bridge(config, url))
