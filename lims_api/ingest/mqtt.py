"""One MQTT envelope message in, one ack out: the same verification and storage as HTTP ingest.

Topic layout (docs/mqtt.md): gateways publish one envelope's JCS text per message to
``{prefix}/{gateway}/envelopes``; the bridge answers on ``{prefix}/{gateway}/acks`` with one
entry of the HTTP ingest response (without ``line``). Everything here is synchronous and runs
in a worker thread; the envelope is committed before :func:`answer_envelope` returns.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from protocols.envelope import GATEWAY_ID
from protocols.errors import WireError
from protocols.wire import topics

from lims_api.core.errors import LimsError
from lims_api.core.log_limits import rate_limited

from .schemas import LineResult
from .service import ingest_ndjson

logger = rate_limited(logging.getLogger(__name__))

__all__ = ["Ack", "BridgeConfigError", "MqttTopics", "answer_envelope"]

class BridgeConfigError(LimsError):
    """The MQTT bridge is configured with values it cannot work with (e.g. a wildcard prefix)."""


@dataclass(frozen=True)
class MqttTopics:
    """The bridge's topics under ``prefix`` (:mod:`protocols.wire.topics`): what it subscribes to, where acks go."""

    prefix: str = topics.DEFAULT_PREFIX

    def __post_init__(self) -> None:
        try:
            topics.check_prefix(self.prefix)
        except WireError as exc:
            raise BridgeConfigError(str(exc)) from None

    @property
    def envelope_filter(self) -> str:
        """Subscription filter matching every gateway's envelope topic."""
        return topics.envelope_filter(self.prefix)

    def envelope_topic(self, gateway: str) -> str:
        return topics.GatewayTopics.of(self.prefix, gateway).envelopes

    def ack_topic(self, gateway: str) -> str:
        return topics.GatewayTopics.of(self.prefix, gateway).acks

    def gateway_of(self, topic: str) -> str:
        """The gateway level of an envelope topic (the ``+`` of :attr:`envelope_filter`)."""
        try:
            return topics.gateway_of(self.prefix, topic)
        except WireError as exc:
            raise BridgeConfigError(str(exc)) from None


@dataclass(frozen=True)
class Ack:
    """The answer to one envelope message: the gateway whose ack topic gets it, and the entry itself."""

    gateway: str
    entry: dict[str, Any]

    @property
    def status(self) -> str:
        return str(self.entry["status"])

    def payload(self) -> bytes:
        """Compact UTF-8 JSON of the entry, as published."""
        return json.dumps(self.entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _payload_problem(payload: bytes, max_bytes: int) -> str | None:
    """Why ``payload`` cannot be one envelope line, or ``None``; checked before any parsing."""
    if len(payload) > max_bytes:
        return f"payload of {len(payload)} bytes exceeds the limit of {max_bytes} bytes (max_body_bytes)"
    line = payload.removesuffix(b"\n").removesuffix(b"\r")
    if not line.strip():
        return "payload is empty; expected one envelope's JCS text"
    lines = line.count(b"\n") + 1
    if lines > 1:
        return f"payload holds {lines} lines; publish exactly one envelope per message"
    return None


def _ack_gateway(result: LineResult, topic_gateway: str) -> str:
    """The envelope's own gateway when it is a valid id, else the gateway of the topic it came on."""
    claimed = result.gateway
    if claimed is None or not GATEWAY_ID.fullmatch(claimed):
        return topic_gateway
    if claimed != topic_gateway:
        logger.warning(
            "envelope of gateway %s arrived on gateway %s's topic; acking to %s",
            claimed, topic_gateway, claimed,
            extra={"gateway": claimed, "topic_gateway": topic_gateway, "seq": result.seq},
        )
    return claimed


def answer_envelope(
    sessions: sessionmaker[Session], topic_gateway: str, payload: bytes, max_bytes: int
) -> Ack:
    """Verify and store one envelope message exactly as HTTP ingest does, committed before returning.

    Database failures (``sqlalchemy.exc.OperationalError``...) propagate: the caller retries.
    """
    problem = _payload_problem(payload, max_bytes)
    if problem is not None:
        logger.warning(
            "envelope message rejected (gateway topic %s): %s", topic_gateway, problem,
            extra={"gateway": topic_gateway, "code": "malformed_json", "reason": problem},
        )
        entry = LineResult(line=1, gateway=topic_gateway, seq=None, status="rejected", code="malformed_json",
                           error=problem)
        return Ack(topic_gateway, entry.model_dump(mode="json", exclude={"line"}))
    with sessions() as session:
        (result,) = ingest_ndjson(session, payload)
    entry = result.model_dump(mode="json", exclude={"line"})
    if entry["gateway"] is None:
        entry["gateway"] = topic_gateway
    return Ack(_ack_gateway(result, topic_gateway), entry)
