"""Technicians' room-page sign-in: credentials set by an admin, and the roster a gateway fetches for its site.

A technician gets a pseudonymous ``technician_id`` (``t-`` and 10 hex digits, random) when their sign-in is
first set; results carry only that id as ``operator``. The roster request is a document signed by the
gateway (``{gateway, kid, site?, sent_at, sig}``, the heartbeat rule) and at most ``MAX_AGE`` old; the
answer lists the enabled technicians of the gateway's site with their PIN hash and badge digest.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Annotated

from argon2 import PasswordHasher
from msgspec import Meta
from sqlalchemy import select
from sqlalchemy.orm import Session

from protocols.wire.heartbeat import AwareDatetime, SignedDocument

from lims_api.audit import audit_log
from lims_api.core.errors import DirectoryError, HeartbeatRejected
from lims_api.ingest.heartbeat import MAX_AHEAD, parse_signed, validate_signed, verify_signed
from lims_api.ingest.models import Gateway

from .auth import Principal
from .models import User, UserSite
from .schemas import RoomSignInIn, RoomSignInOut, Roster, RosterTechnician

MAX_AGE = timedelta(minutes=5)
"""A roster request older than this is refused: a replayed one cannot fetch the roster later."""
WHAT = "roster request"


class _RosterRequest(SignedDocument, kw_only=True):
    site: Annotated[str, Meta(max_length=64)] | None = None
    sent_at: AwareDatetime


def badge_digest(code: str) -> str:
    """SHA-256 (hex) of a badge code, surrounding blanks removed (the gateway compares the same)."""
    return hashlib.sha256(code.strip().encode("utf-8")).hexdigest()


def set_room_sign_in(session: Session, actor: Principal, username: str, body: RoomSignInIn,
                     hasher: PasswordHasher) -> RoomSignInOut:
    """Set a technician's display name, PIN and badge; assigns the pseudonymous id on first use."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or user.role != "technician":
        raise DirectoryError(f"{username!r} is not a technician")
    if body.pin is None and body.badge is None:
        raise DirectoryError("give a pin, a badge or both")
    user.technician_id = user.technician_id or f"t-{secrets.token_hex(5)}"
    user.display_name = body.display_name
    user.pin_hash = hasher.hash(body.pin) if body.pin is not None else None
    user.badge_sha256 = badge_digest(body.badge) if body.badge is not None else None
    audit_log.append(session, actor.actor, "technician.room_sign_in", f"user:{username}",
                     {"technician_id": user.technician_id, "pin": body.pin is not None,
                      "badge": body.badge is not None})
    return RoomSignInOut(username=username, technician_id=user.technician_id, display_name=body.display_name,
                         has_pin=user.pin_hash is not None, has_badge=user.badge_sha256 is not None)


def roster_for(session: Session, gateway_id: str, body: bytes, now: datetime) -> Roster:
    """Verify a gateway's signed roster request and answer its site's technicians; ``HeartbeatRejected`` else."""
    document = parse_signed(body, WHAT)
    request = validate_signed(_RosterRequest, document, gateway_id, WHAT)
    if request.sent_at - now > MAX_AHEAD or now - request.sent_at > MAX_AGE:
        raise HeartbeatRejected(422, f"{WHAT} sent_at {request.sent_at.isoformat()} is not within"
                                     f" {MAX_AGE.total_seconds():.0f} s of the LIMS clock; replayed, or set the"
                                     " gateway's clock (NTP)")
    gateway = session.get(Gateway, gateway_id)
    if gateway is None:
        raise HeartbeatRejected(404, f"gateway {gateway_id!r} is not enrolled")
    verify_signed(session, document, gateway_id, request.kid, request.sig, now, WHAT)
    if request.site is not None and request.site != gateway.site_id:
        raise HeartbeatRejected(403, f"{WHAT} names site {request.site!r} but gateway {gateway_id!r} is enrolled"
                                     f" for {gateway.site_id!r}", code="wrong_site")
    users = session.scalars(
        select(User).join(UserSite, UserSite.user_id == User.id)
        .where(UserSite.site_id == gateway.site_id, User.role == "technician", User.disabled_at.is_(None),
               User.technician_id.is_not(None))
        .order_by(User.display_name, User.id))
    return Roster(site=gateway.site_id, issued_at=now, technicians=[
        RosterTechnician(id=u.technician_id or "", name=u.display_name or u.technician_id or "",
                         pin_hash=u.pin_hash, badge_sha256=u.badge_sha256) for u in users])
