"""Gateway key lifecycle on the database: enrol, rotate, revoke; each change audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocols.envelope import b64url_decode, key_id

from lims_api.audit import audit_log
from lims_api.core.errors import EnrolmentError
from lims_api.ingest.models import Gateway, GatewayKey, Site

from .schemas import EnrolRequest


def _add_key(session: Session, gateway: str, public_key: str, now: datetime) -> tuple[GatewayKey, bool]:
    """Store ``public_key`` for ``gateway``; (stored key, False) when it is already there."""
    kid = key_id(b64url_decode(public_key))
    existing = session.scalar(select(GatewayKey).where(GatewayKey.gateway_id == gateway, GatewayKey.kid == kid))
    if existing is not None:
        if existing.revoked_at is not None:
            raise EnrolmentError(f"key {kid} of gateway {gateway!r} was revoked; enrol a new key")
        return existing, False
    key = GatewayKey(gateway_id=gateway, kid=kid, public_key=public_key, valid_from=now)
    session.add(key)
    session.flush()
    return key, True


def enrol_gateway(
    session: Session, request: EnrolRequest, now: datetime, actor: str = "admin:bootstrap"
) -> tuple[GatewayKey, bool]:
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
    key, created = _add_key(session, request.gateway, request.public_key, now)
    if created:
        audit_log.append(session, actor, "gateway.enrol", f"gateway:{request.gateway}",
                         {"kid": key.kid, "public_key": key.public_key, "site_id": request.site.id})
    return key, created


def rotate_key(
    session: Session, gateway: str, public_key: str, now: datetime, actor: str
) -> tuple[GatewayKey, bool] | None:
    """Add a new key to an enrolled gateway (the old one stays valid until revoked); ``None`` if unknown."""
    if session.get(Gateway, gateway) is None:
        return None
    key, created = _add_key(session, gateway, public_key, now)
    if created:
        audit_log.append(session, actor, "gateway.key_rotate", f"gateway:{gateway}",
                         {"kid": key.kid, "public_key": key.public_key})
    return key, created


def revoke_key(
    session: Session, gateway: str, kid: str, now: datetime, actor: str = "admin:bootstrap"
) -> GatewayKey | None:
    """Mark a key revoked from ``now`` (kept if already revoked); ``None`` when unknown."""
    key = session.scalar(select(GatewayKey).where(GatewayKey.gateway_id == gateway, GatewayKey.kid == kid))
    if key is not None and key.revoked_at is None:
        key.revoked_at = now
        audit_log.append(session, actor, "gateway.key_revoke", f"gateway:{gateway}", {"kid": kid})
    return key
