"""Gateway enrolment and key revocation (admin operations) on the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocols.envelope import b64url_decode, key_id

from .errors import EnrolmentError
from .models import Gateway, GatewayKey, Site
from .schemas import EnrolRequest


def enrol_gateway(session: Session, request: EnrolRequest, now: datetime) -> tuple[GatewayKey, bool]:
    """Store site (if new), gateway and key; return (key, created). Same key again → (stored key, False)."""
    if session.get(Site, request.site.id) is None:
        session.add(Site(id=request.site.id, kind=request.site.kind, name=request.site.name, created_at=now))
    gateway = session.get(Gateway, request.gateway)
    if gateway is None:
        session.add(Gateway(id=request.gateway, site_id=request.site.id, enrolled_at=now))
    elif gateway.site_id != request.site.id:
        raise EnrolmentError(
            f"gateway {request.gateway!r} is enrolled for site {gateway.site_id!r}, not {request.site.id!r}"
        )
    kid = key_id(b64url_decode(request.public_key))
    existing = session.scalar(select(GatewayKey).where(GatewayKey.gateway_id == request.gateway, GatewayKey.kid == kid))
    if existing is not None:
        if existing.revoked_at is not None:
            raise EnrolmentError(f"key {kid} of gateway {request.gateway!r} was revoked; enrol a new key")
        return existing, False
    key = GatewayKey(gateway_id=request.gateway, kid=kid, public_key=request.public_key, valid_from=now)
    session.add(key)
    session.flush()
    return key, True


def revoke_key(session: Session, gateway: str, kid: str, now: datetime) -> GatewayKey | None:
    """Mark a key revoked from ``now`` (kept if already revoked); ``None`` when unknown."""
    key = session.scalar(select(GatewayKey).where(GatewayKey.gateway_id == gateway, GatewayKey.kid == kid))
    if key is not None and key.revoked_at is None:
        key.revoked_at = now
    return key
