"""Deliver envelopes over MQTT (QoS 1, persistent session) and mark them from the LIMS bridge's acks.

Topics under ``{prefix}/{gateway}/`` (docs/mqtt.md): ``envelopes`` (one JCS envelope per message),
``acks`` (one ingest-answer entry per message, from the LIMS bridge) and ``status`` (retained
online/offline JSON; the offline one is also the last will). At most ``window`` envelopes wait for
an ack; after a reconnect, or when no ack came for ``lims.timeout_s``, every unacked one is sent again
(the LIMS answers ``duplicate`` for those it already holds).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiomqtt

from protocols.wire.topics import GatewayTopics

from .config import LimsSection, MqttSection
from .ingest_answer import AnswerRecorder, PassReport
from .outbox import Outbox, StoredEnvelope
from .uplink_base import UplinkStats, backoff_delay, wait_any

log = logging.getLogger("gateway.uplink")

_library_log = logging.getLogger("gateway.uplink.aiomqtt")
_library_log.setLevel(logging.ERROR)  # aiomqtt warns whenever > 10 publishes await their PUBACK: by design here


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class MqttUplink:
    """Publishes pending envelopes and applies acks; ``run()`` as a task, ``wake()`` after each append."""

    def __init__(self, outbox: Outbox, lims: LimsSection, mqtt: MqttSection, *, client_id: str,
                 clock: Callable[[], datetime], drain_s: float = 3.0) -> None:
        self.outbox = outbox
        self.lims = lims
        self.mqtt = mqtt
        self.client_id = client_id
        self.topics = GatewayTopics.of(mqtt.topic_prefix, outbox.gateway_id)
        self.stats = UplinkStats()
        self._clock = clock
        self._drain_s = drain_s
        self._answers = AnswerRecorder(outbox)
        self._wake = asyncio.Event()
        self._inflight: dict[int, StoredEnvelope] = {}
        self._cursor = 0
        self._last_progress = 0.0
        self._rewind_at: float | None = None
        self._failures = 0

    def wake(self) -> None:
        """Ask for a publish soon (new envelopes were committed)."""
        self._wake.set()

    async def aclose(self) -> None:
        """Nothing to release: each connection is closed when its session ends."""

    async def final_delivery(self, timeout: float) -> int:
        """``run`` already drained in-flight envelopes on stop (bounded by ``drain_s``)."""
        return 0

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, publish and apply acks until ``stop``; reconnect with backoff when the broker goes away."""
        while not stop.is_set():
            try:
                await self._session(stop)
            except aiomqtt.MqttError as exc:
                self._failures += 1
                if self.stats.state != "disconnected":
                    log.warning("MQTT broker unreachable, reconnecting with backoff",
                                extra={"error": str(exc), "broker": f"{self.mqtt.host}:{self.mqtt.port}"})
                self.stats.state, self.stats.last_error = "disconnected", f"MqttError: {exc}"
                await wait_any(stop, timeout=backoff_delay(self._failures, self.lims.retry_min_s,
                                                           self.lims.retry_max_s))
        self.stats.state = "stopped"

    def _client(self, online_since: str) -> aiomqtt.Client:
        will = aiomqtt.Will(self.topics.status, _json({"gateway": self.outbox.gateway_id, "state": "offline",
                                                      "reason": "connection_lost", "online_since": online_since}),
                            qos=1, retain=True)
        return aiomqtt.Client(self.mqtt.host, self.mqtt.port, identifier=self.client_id, clean_session=False,
                              will=will, keepalive=self.mqtt.keepalive, username=self.mqtt.username,
                              password=self.mqtt.password, timeout=self.lims.timeout_s,
                              max_inflight_messages=self.mqtt.window, logger=_library_log)

    async def _session(self, stop: asyncio.Event) -> None:
        """One connection: announce online, re-send unacked envelopes, pump; on stop drain and go offline."""
        since = self._now()
        async with self._client(since) as client:
            await client.subscribe(self.topics.acks, qos=1)
            await client.publish(self.topics.status, _json({"gateway": self.outbox.gateway_id, "state": "online",
                                                            "since": since}), qos=1, retain=True)
            if self._failures:
                log.info("MQTT broker connected again", extra={"failed_attempts": self._failures})
            self._failures = 0
            self.stats.state, self.stats.last_error = "connected", None
            self._inflight.clear()
            self._cursor = 0
            acks = asyncio.create_task(self._read_acks(client), name="mqtt-acks")
            try:
                await self._pump(client, acks, until=stop.is_set, stop=stop)
                await self._pump(client, acks, until=self._drained, deadline=time.monotonic() + self._drain_s)
                offline = {"gateway": self.outbox.gateway_id, "state": "offline", "reason": "stopped",
                           "at": self._now()}
                await client.publish(self.topics.status, _json(offline), qos=1, retain=True)
            finally:
                acks.cancel()
                await asyncio.gather(acks, return_exceptions=True)

    def _drained(self) -> bool:
        return not self._inflight and not self.outbox.pending(1, after_seq=self._cursor)

    async def _pump(self, client: aiomqtt.Client, acks: asyncio.Task[None], *, until: Callable[[], bool],
                    stop: asyncio.Event | None = None, deadline: float | None = None) -> None:
        """Publish pending envelopes while the window has room, until ``until()`` or ``deadline``."""
        while not until():
            if acks.done():
                acks.result()  # the ack reader ends only when the connection broke: raise its MqttError
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return
            self._wake.clear()
            self._check_stalled(now)
            batch = self._next_batch()
            if batch:
                await self._publish(client, acks, batch)
                continue
            waits = [t - now for t in (deadline, self._rewind_at) if t is not None]
            if self._inflight:
                waits.append(self._last_progress + self.lims.timeout_s - now)
            await wait_any(self._wake, *([stop] if stop else []), timeout=max(0.0, min(waits)) if waits else None)

    def _next_batch(self) -> list[StoredEnvelope]:
        room = self.mqtt.window - len(self._inflight)
        if room <= 0:
            return []
        if self._rewind_at is not None and time.monotonic() >= self._rewind_at:
            self._rewind_at, self._cursor = None, 0
        while rows := self.outbox.pending(room, after_seq=self._cursor):
            self._cursor = rows[-1].seq
            if batch := [stored for stored in rows if stored.seq not in self._inflight]:
                if not self._inflight:
                    self._last_progress = time.monotonic()
                return batch
        return []

    def _check_stalled(self, now: float) -> None:
        """No ack for ``timeout_s`` while envelopes wait: send every unacked envelope again."""
        if self._inflight and now - self._last_progress > self.lims.timeout_s:
            log.warning("no ack from the LIMS bridge; publishing unacked envelopes again",
                        extra={"inflight": len(self._inflight), "timeout_s": self.lims.timeout_s})
            self.stats.state, self.stats.last_error = "failing", "no ack from the LIMS bridge"
            self._inflight.clear()
            self._cursor = 0
            self._last_progress = now

    async def _publish(self, client: aiomqtt.Client, acks: asyncio.Task[None], batch: list[StoredEnvelope]) -> None:
        """Publish ``batch`` (QoS 1, concurrently); give up at once if the connection breaks meanwhile."""
        for stored in batch:
            self._inflight[stored.seq] = stored
        publishing = asyncio.ensure_future(self._publish_all(client, batch))
        await asyncio.wait([publishing, acks], return_when=asyncio.FIRST_COMPLETED)
        if not publishing.done():
            publishing.cancel()
            await asyncio.gather(publishing, return_exceptions=True)
            acks.result()
        publishing.result()

    async def _publish_all(self, client: aiomqtt.Client, batch: list[StoredEnvelope]) -> None:
        """All QoS 1 publishes of ``batch`` at once: waiting for each PUBACK in turn would cap the rate."""
        await asyncio.gather(*(client.publish(self.topics.envelopes, stored.text.encode("utf-8"), qos=1)
                               for stored in batch))

    async def _read_acks(self, client: aiomqtt.Client) -> None:
        """Apply acks as they come, in batches of whatever has queued up; ends with MqttError on disconnect."""
        messages = client.messages
        try:
            async for message in messages:
                queued = [message] + [await anext(messages) for _ in range(len(messages))]
                self._apply_acks([m.payload for m in queued if m.topic.matches(self.topics.acks)])
        finally:
            self._wake.set()

    def _apply_acks(self, payloads: list[Any]) -> None:
        answered: list[tuple[StoredEnvelope, dict[str, Any]]] = []
        for payload in payloads:
            entry = self._parse_ack(payload)
            if entry is None:
                continue
            stored = self._inflight.pop(entry["seq"], None) or self.outbox.get(entry["seq"])
            if stored is not None and stored.state == "pending":
                answered.append((stored, entry))
        if not answered:
            return
        report = PassReport()
        not_enrolled = self._answers.apply(answered, report)
        self.stats.count(report.delivered, report.rejected, time.time())
        self._last_progress = time.monotonic()
        if not_enrolled and self._rewind_at is None:
            self._rewind_at = time.monotonic() + self.lims.retry_max_s
        self.stats.state = "not_enrolled" if not_enrolled else "connected"
        self._wake.set()

    def _parse_ack(self, payload: Any) -> dict[str, Any] | None:
        """The ack entry, or None (logged) when it is not JSON of this gateway with an integer seq."""
        try:
            entry = json.loads(payload)
            if not isinstance(entry, dict) or entry.get("gateway") != self.outbox.gateway_id:
                raise ValueError(f"gateway is not {self.outbox.gateway_id!r}")
            if type(entry.get("seq")) is not int:
                raise ValueError("seq is not an integer")
        except (ValueError, TypeError) as exc:
            log.warning("ignoring malformed ack", extra={"error": str(exc), "payload": str(payload)[:200]})
            return None
        return entry

    def _now(self) -> str:
        return self._clock().isoformat(timespec="milliseconds")
