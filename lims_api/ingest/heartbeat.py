"""Gateway heartbeats: a signed health document, verified with the gateway's keys, kept as the latest per gateway.

Document: ``{gateway, kid, site?, sent_at, interval_s?, status: {instruments: [{id, state, last_result_at,
last_error, calibration_due?}], backlog, last_seq, last_upload_at}, sig}``; ``calibration_due`` (a
``YYYY-MM-DD`` date or null) is optional: older gateways do not send it. ``sig`` is Ed25519 over the JCS form of
the document without ``sig`` (the same rule as envelopes). ``site`` (optional, the site id the gateway
is configured for) must be the site the gateway is enrolled for, else the heartbeat is refused
(``wrong_site``, audit-logged). A heartbeat older than the stored one
is refused, so a replayed document cannot make a dead gateway look alive for longer.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from protocols.calibration import parse_due_date
from protocols.envelope import b64url_decode, canonical
from protocols.errors import EnvelopeError

from lims_api.core.errors import HeartbeatRejected

from .limits import bounds_problem
from .models import Gateway, GatewayHeartbeat, GatewayKey

DEFAULT_OFFLINE_AFTER = timedelta(seconds=90)
MISSED_BEATS = 3
MAX_INTERVAL_S = 86400.0
"""Longest heartbeat interval accepted (one day)."""
MAX_AHEAD = timedelta(minutes=10)
"""How far ``sent_at`` may be ahead of the LIMS clock; a later time would block honest heartbeats as replays."""
INT32_MAX = 2**31 - 1
JSON_SAFE_INT = 2**53 - 1
"""Largest integer JCS (RFC 8785) can sign exactly."""


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class InstrumentStatus(_Lenient):
    id: str = Field(min_length=1, max_length=64)
    state: str = Field(min_length=1, max_length=16)
    last_result_at: str | None = Field(default=None, max_length=40)
    last_error: str | None = Field(default=None, max_length=1000)
    calibration_due: date | None = None

    @field_validator("calibration_due", mode="before")
    @classmethod
    def _due_date(cls, value: object) -> date | None:
        return None if value is None else parse_due_date(value)


class GatewayStatus(_Lenient):
    instruments: list[InstrumentStatus] = Field(max_length=256)
    backlog: int = Field(ge=0, le=INT32_MAX)
    last_seq: int = Field(ge=0, le=JSON_SAFE_INT)
    last_upload_at: str | None = Field(default=None, max_length=40)


class SignedDocument(_Lenient):
    """What every signed gateway document names: the gateway, its key and the signature."""

    gateway: str = Field(min_length=1, max_length=64)
    kid: str = Field(pattern=r"^[0-9a-f]{16}$")
    sig: str = Field(min_length=1)


Signed = TypeVar("Signed", bound=SignedDocument)


class Heartbeat(SignedDocument):
    """The members the LIMS reads; unknown members are kept in the stored text (they are signed too)."""

    site: str | None = Field(default=None, max_length=64)
    sent_at: AwareDatetime
    interval_s: float | None = Field(default=None, gt=0, le=MAX_INTERVAL_S)
    status: GatewayStatus


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
        parsed = model.model_validate(document)
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False))
        raise HeartbeatRejected(422, f"{what} is malformed: {where}") from exc
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
        unsigned = canonical({k: v for k, v in document.items() if k != "sig"})
        Ed25519PublicKey.from_public_bytes(b64url_decode(key.public_key)).verify(b64url_decode(sig), unsigned)
    except (InvalidSignature, ValueError, EnvelopeError) as exc:
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
