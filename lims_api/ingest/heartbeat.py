"""Gateway heartbeats: a signed health document, verified with the gateway's keys, kept as the latest per gateway.

The document, its model and its signature rule are :mod:`protocols.wire.heartbeat`. ``site``
(optional, the site id the gateway is configured for) must be the site the gateway is enrolled for,
else the heartbeat is refused (``wrong_site``, audit-logged). A heartbeat older than the stored one
is refused, so a replayed document cannot make a dead gateway look alive for longer.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocols.envelope import canonical
from protocols.errors import WireError
from protocols.wire.heartbeat import Heartbeat, Signed, parse_document, verify_document

from lims_api.core.errors import HeartbeatRejected

from .limits import bounds_problem
from .models import Gateway, GatewayHeartbeat, GatewayKey

DEFAULT_OFFLINE_AFTER = timedelta(seconds=90)
MISSED_BEATS = 3
MAX_AHEAD = timedelta(minutes=10)
"""How far ``sent_at`` may be ahead of the LIMS clock; a later time would block honest heartbeats as replays."""


def parse_signed(body: bytes, what: str = "heartbeat") -> dict[str, Any]:
    """A gateway's signed JSON document (heartbeat, roster request), bounded; ``HeartbeatRejected`` otherwise."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise HeartbeatRejected(422, f"{what} is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise HeartbeatRejected(422, f"{what} is not valid JSON: nested too deeply") from exc
    if not isinstance(document, dict):
        raise HeartbeatRejected(422, f"{what} must be a JSON object")
    too_big = bounds_problem(document, what)
    if too_big is not None:
        raise HeartbeatRejected(422, f"{what} is too large: {too_big}")
    if "sig" not in document:
        raise HeartbeatRejected(401, f"{what} is not signed: member 'sig' is missing")
    return document


def validate_signed(model: type[Signed], document: dict[str, Any], gateway_id: str, what: str = "heartbeat") -> Signed:
    """``document`` as ``model``, naming the gateway it was posted for; ``HeartbeatRejected`` (422) otherwise."""
    try:
        parsed = parse_document(model, document)
    except WireError as exc:
        raise HeartbeatRejected(422, f"{what} is malformed: {exc}") from exc
    if parsed.gateway != gateway_id:
        raise HeartbeatRejected(422, f"{what} names gateway {parsed.gateway!r} but was posted for {gateway_id!r}")
    return parsed


def _check_clock(beat: Heartbeat, now: datetime) -> None:
    ahead = beat.sent_at - now
    if ahead > MAX_AHEAD:
        raise HeartbeatRejected(
            422, f"heartbeat sent_at {beat.sent_at.isoformat()} is {ahead.total_seconds():.0f} s ahead of the LIMS"
                 f" clock (at most {MAX_AHEAD.total_seconds():.0f} s allowed); set the gateway's clock (NTP)")


def verify_signed(session: Session, document: dict[str, Any], gateway_id: str, kid: str, sig: str, now: datetime,
                  what: str = "heartbeat") -> None:
    """``sig`` verifies ``document`` (without ``sig``, JCS) under the gateway's key ``kid``, not revoked at ``now``."""
    key = session.scalar(select(GatewayKey).where(GatewayKey.gateway_id == gateway_id, GatewayKey.kid == kid))
    if key is None:
        raise HeartbeatRejected(403, f"kid {kid} is not a key of gateway {gateway_id!r}")
    if key.revoked_at is not None and key.revoked_at <= now:
        raise HeartbeatRejected(403, f"kid {kid} was revoked at {key.revoked_at.isoformat(timespec='seconds')}")
    try:
        verify_document(document, sig, key.public_key)
    except WireError as exc:
        raise HeartbeatRejected(403, f"{what} signature does not verify under kid {kid}") from exc


def accept_heartbeat(session: Session, gateway_id: str, body: bytes, now: datetime) -> GatewayHeartbeat:
    """Verify ``body`` and store it as the gateway's latest heartbeat; the caller commits.

    ``HeartbeatRejected`` carries the status: 401 unsigned, 403 unknown/revoked kid, bad
    signature or another site, 404 unknown gateway, 409 not newer than the stored one, 422 malformed, out of bounds or
    sent more than ``MAX_AHEAD`` ahead of ``now``.
    """
    document = parse_signed(body)
    beat = validate_signed(Heartbeat, document, gateway_id)
    _check_clock(beat, now)
    gateway = session.get(Gateway, gateway_id)
    if gateway is None:
        raise HeartbeatRejected(404, f"gateway {gateway_id!r} is not enrolled")
    verify_signed(session, document, beat.gateway, beat.kid, beat.sig, now)
    if beat.site is not None and beat.site != gateway.site_id:
        raise HeartbeatRejected(
            403, f"heartbeat names site {beat.site!r} but gateway {gateway_id!r} is enrolled for"
                 f" {gateway.site_id!r}", code="wrong_site")
    row = session.get(GatewayHeartbeat, gateway_id, with_for_update=True)
    if row is not None and row.sent_at >= beat.sent_at:
        raise HeartbeatRejected(
            409, f"heartbeat sent at {beat.sent_at.isoformat()} is not newer than the stored one "
                 f"({row.sent_at.isoformat()}); replayed or out of order")
    if row is None:
        row = GatewayHeartbeat(gateway_id=gateway_id)
        session.add(row)
    row.kid, row.sent_at, row.received_at, row.interval_s = beat.kid, beat.sent_at, now, beat.interval_s
    row.backlog, row.last_seq = beat.status.backlog, beat.status.last_seq
    row.document = canonical(document).decode("utf-8")
    return row


def clock_skew_s(row: GatewayHeartbeat) -> float:
    """received_at − sent_at in seconds (positive: the gateway clock is behind, or the network slow)."""
    return (row.received_at - row.sent_at).total_seconds()


def offline_after(row: GatewayHeartbeat, configured_s: float | None) -> timedelta:
    """How long without a heartbeat before the gateway counts as offline."""
    if configured_s is not None:
        return timedelta(seconds=configured_s)
    if row.interval_s is not None:
        return timedelta(seconds=MISSED_BEATS * row.interval_s)
    return DEFAULT_OFFLINE_AFTER


def is_online(row: GatewayHeartbeat | None, now: datetime, configured_s: float | None) -> bool:
    """A heartbeat arrived within the offline threshold."""
    return row is not None and now - row.received_at <= offline_after(row, configured_s)


def instruments_of(row: GatewayHeartbeat) -> list[dict[str, Any]]:
    """The instrument entries of the stored heartbeat."""
    status = json.loads(row.document).get("status", {})
    return [entry for entry in status.get("instruments", []) if isinstance(entry, dict)]
