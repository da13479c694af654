"""An envelope's key and signature against its gateway's enrolled keys; key objects built once per process."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from protocols.envelope import b64url_decode, key_id, verify_signed_bytes
from protocols.errors import EnvelopeError

from lims_api.core.driver_sql import fetch, marks, read
from lims_api.core.errors import EnvelopeRejected

from .checks import CheckedEnvelope
from .models import GatewayKey

_REVOKED_AT = GatewayKey.__table__.c.revoked_at
_KEY_CACHE_SIZE = 4096
_public_keys: dict[str, tuple[str, Ed25519PublicKey] | None] = {}
"""base64url public key -> (its kid, key object), or ``None`` when it is no valid Ed25519 key."""


@dataclass(frozen=True)
class EnrolledKey:
    """One row of ``gateway_keys`` as ingest needs it."""

    kid: str
    public_key: str
    revoked_at: datetime | None


def gateway_keys(session: Session, gateway: str, kids: Sequence[str] | None = None) -> dict[str, EnrolledKey]:
    """The gateway's enrolled keys by kid (only ``kids`` when given)."""
    sql = "SELECT kid, public_key, revoked_at FROM gateway_keys WHERE gateway_id = ?"
    if kids is not None:
        sql += f" AND kid IN ({marks(len(kids))})"
    rows = fetch(session, sql, [gateway, *(kids or ())])
    return {kid: EnrolledKey(kid, public_key, read(session, _REVOKED_AT, revoked_at))
            for kid, public_key, revoked_at in rows}


def _key_object(public_key: str) -> tuple[str, Ed25519PublicKey] | None:
    if public_key not in _public_keys:
        if len(_public_keys) >= _KEY_CACHE_SIZE:
            _public_keys.clear()
        try:
            raw = b64url_decode(public_key)
            _public_keys[public_key] = (key_id(raw), Ed25519PublicKey.from_public_bytes(raw))
        except ValueError:
            _public_keys[public_key] = None
    return _public_keys[public_key]


def _reject(checked: CheckedEnvelope, code: str, message: str) -> EnvelopeRejected:
    return EnvelopeRejected(code, message, gateway=checked.gateway, seq=checked.seq, envelope_hash=checked.hash)


def signature_fault(checked: CheckedEnvelope, key: EnrolledKey | None, now: datetime) -> EnvelopeRejected | None:
    """Why ``checked`` is not validly signed by its enrolled, unrevoked ``kid``; ``None`` when it is."""
    if key is None:
        return _reject(checked, "unknown_kid", f"kid {checked.kid} is not enrolled for gateway {checked.gateway!r}")
    if key.revoked_at is not None and key.revoked_at <= now:
        return _reject(
            checked, "revoked_kid", f"kid {checked.kid} was revoked at {key.revoked_at.isoformat(timespec='seconds')}"
        )
    built = _key_object(key.public_key)
    if built is None or built[0] != checked.kid:
        return _reject(checked, "unknown_kid", "kid does not match the public key")
    try:
        verify_signed_bytes(checked.envelope, checked.signing, built[1])
    except EnvelopeError as exc:
        return _reject(checked, exc.code, exc.message)
    return None
