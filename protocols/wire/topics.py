"""MQTT topic scheme: everything of one gateway lives under ``{prefix}/{gateway}/`` (docs/mqtt.md).

``envelopes``: one envelope's JCS text per message, gateway to LIMS; ``acks``: one ingest answer
(:mod:`protocols.wire.answers`, without ``line``) per message, LIMS to gateway; ``status``: the
gateway's retained online/offline JSON (also its last will).
"""

from __future__ import annotations

from dataclasses import dataclass

from protocols.errors import WireError

DEFAULT_PREFIX = "kuaijian/v1"
ENVELOPES = "envelopes"
ACKS = "acks"
STATUS = "status"


def check_prefix(prefix: str) -> str:
    """``prefix`` if it can head the topics: non-empty, no leading or trailing '/', no '+', '#' or NUL."""
    if not prefix or prefix.startswith("/") or prefix.endswith("/"):
        raise WireError(f"MQTT topic prefix {prefix!r} must be non-empty without a leading or trailing '/'")
    if any(char in prefix for char in "+#\x00"):
        raise WireError(f"MQTT topic prefix {prefix!r} must not contain '+', '#' or NUL")
    return prefix


@dataclass(frozen=True)
class GatewayTopics:
    """The three topics of one gateway."""

    envelopes: str
    acks: str
    status: str

    @classmethod
    def of(cls, prefix: str, gateway: str) -> GatewayTopics:
        base = f"{prefix}/{gateway}"
        return cls(envelopes=f"{base}/{ENVELOPES}", acks=f"{base}/{ACKS}", status=f"{base}/{STATUS}")


def envelope_filter(prefix: str) -> str:
    """Subscription filter matching every gateway's envelope topic under ``prefix``."""
    return f"{prefix}/+/{ENVELOPES}"


def gateway_of(prefix: str, topic: str) -> str:
    """The gateway level of an envelope topic (the ``+`` of :func:`envelope_filter`)."""
    head, tail = f"{prefix}/", f"/{ENVELOPES}"
    if not (topic.startswith(head) and topic.endswith(tail)) or len(topic) < len(head) + len(tail):
        raise WireError(f"topic {topic!r} is not an envelope topic under {prefix!r}")
    return topic[len(head):-len(tail)]
