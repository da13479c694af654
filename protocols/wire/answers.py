"""The LIMS's answer for one ingested envelope: one entry of the HTTP ``results`` or one MQTT ack.

``{"line"?, "gateway", "seq", "status": "stored"|"duplicate"|"rejected", "code", "error", "hash"}``;
``line`` only over HTTP. ``code`` names a rejection's fault.
"""

from __future__ import annotations

from typing import Literal, TypedDict, get_args

IngestStatus = Literal["stored", "duplicate", "rejected"]
IngestCode = Literal[
    "malformed_json",
    "schema",
    "bad_result",
    "unknown_gateway",
    "unknown_kid",
    "revoked_kid",
    "bad_signature",
    "fork",
    "broken_prev",
    "wrong_site",
]
INGEST_STATUSES: tuple[str, ...] = get_args(IngestStatus)
INGEST_CODES: tuple[str, ...] = get_args(IngestCode)
DELIVERED_STATUSES = frozenset({"stored", "duplicate"})
"""The LIMS holds the envelope (now or from before)."""
NOT_ENROLLED_CODES = frozenset({"unknown_gateway", "unknown_kid", "revoked_kid"})
"""Rejections that say "this gateway/key is not (or no longer) enrolled": keep, retry later."""


class IngestAnswer(TypedDict, total=False):
    """One answer entry as JSON carries it; a reader must allow for members that are missing."""

    line: int
    gateway: str | None
    seq: int | None
    status: IngestStatus
    code: IngestCode | None
    error: str | None
    hash: str | None
