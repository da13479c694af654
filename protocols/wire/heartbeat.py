"""Gateway heartbeats and the gateway's other signed documents: models and the build/sign/verify rules.

``{gateway, kid, site?, sent_at, interval_s?, status: {instruments: [{id, state, last_result_at,
last_error, calibration_due?}], backlog, last_seq, last_upload_at}, sig}``. ``sig`` is Ed25519 over
the JCS form of the document without ``sig`` (base64url), the envelope rule. ``site`` and
``calibration_due`` (``YYYY-MM-DD`` or null) are optional: older gateways do not send them. Every
signed gateway document (heartbeat, roster request) names ``gateway`` and ``kid`` and follows the same rule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec
from msgspec import Meta

from protocols._validation import DueDate, Invalid, convert
from protocols.envelope import b64url_decode, b64url_encode, canonical
from protocols.errors import EnvelopeError, WireError
from protocols.signing import Signer

MAX_INTERVAL_S = 86400.0
"""Longest heartbeat interval accepted (one day)."""
INT32_MAX = 2**31 - 1
JSON_SAFE_INT = 2**53 - 1
"""Largest integer JCS (RFC 8785) can sign exactly."""
AwareDatetime = Annotated[datetime, Meta(tz=True)]
"""A datetime with its UTC offset."""


class _Lenient(msgspec.Struct, kw_only=True):
    """A document part: unknown members ignored (they stay in the signed document)."""


class InstrumentStatus(_Lenient, kw_only=True):
    id: Annotated[str, Meta(min_length=1, max_length=64)]
    state: Annotated[str, Meta(min_length=1, max_length=16)]
    last_result_at: Annotated[str, Meta(max_length=40)] | None = None
    last_error: Annotated[str, Meta(max_length=1000)] | None = None
    calibration_due: DueDate | None = None


class GatewayStatus(_Lenient, kw_only=True):
    instruments: Annotated[list[InstrumentStatus], Meta(max_length=256)]
    backlog: Annotated[int, Meta(ge=0, le=INT32_MAX)]
    last_seq: Annotated[int, Meta(ge=0, le=JSON_SAFE_INT)]
    last_upload_at: Annotated[str, Meta(max_length=40)] | None = None


class SignedDocument(_Lenient, kw_only=True):
    """What every signed gateway document names: the gateway, its key and the signature."""

    gateway: Annotated[str, Meta(min_length=1, max_length=64)]
    kid: Annotated[str, Meta(pattern=r"^[0-9a-f]{16}$")]
    sig: Annotated[str, Meta(min_length=1)]


Signed = TypeVar("Signed", bound=SignedDocument)


class Heartbeat(SignedDocument, kw_only=True):
    """The members a reader needs; unknown members stay in the document (they are signed too)."""

    site: Annotated[str, Meta(max_length=64)] | None = None
    sent_at: AwareDatetime
    interval_s: Annotated[float, Meta(gt=0, le=MAX_INTERVAL_S)] | None = None
    status: GatewayStatus


def parse_document(model: type[Signed], document: dict[str, Any]) -> Signed:
    """``document`` as ``model``; ``WireError`` names each member that is wrong (``status.backlog: ...``)."""
    try:
        return convert(document, model, strict=False)
    except Invalid as exc:
        where = "; ".join(f"{'.'.join(str(p) for p in found.loc)}: {found.why}" for found in exc.problems)
        raise WireError(where) from exc


def build_heartbeat(snapshot: dict[str, Any], kid: str, sent_at: datetime, interval_s: float,
                    site_id: str | None = None) -> dict[str, Any]:
    """The unsigned heartbeat built from a gateway health snapshot; ``site`` names the configured site when given."""
    backlog = snapshot.get("backlog", {})
    site = {} if site_id is None else {"site": site_id}
    return {
        "gateway": snapshot["gateway"],
        "kid": kid,
        **site,
        "sent_at": sent_at.isoformat(timespec="milliseconds"),
        "interval_s": interval_s,
        "status": {
            "instruments": [
                {"id": i["id"], "state": i["state"], "last_result_at": i.get("last_result_at"),
                 "last_error": i.get("last_error"), "calibration_due": i.get("calibration_due")}
                for i in snapshot.get("instruments", [])
            ],
            "backlog": int(backlog.get("pending", 0)),
            "last_seq": int(backlog.get("last_seq", 0)),
            "last_upload_at": snapshot.get("uplink", {}).get("last_upload_at"),
        },
    }


def _unsigned(document: dict[str, Any]) -> bytes:
    return canonical({k: v for k, v in document.items() if k != "sig"})


def sign_document(document: dict[str, Any], key: Signer) -> dict[str, Any]:
    """``document`` plus ``sig``: Ed25519 over the JCS bytes of its other members, base64url."""
    unsigned = {k: v for k, v in document.items() if k != "sig"}
    return {**unsigned, "sig": b64url_encode(key.sign(canonical(unsigned)))}


def verify_document(document: dict[str, Any], sig: str, public_key: str) -> None:
    """Check ``sig`` over ``document`` (without its ``sig``) under ``public_key`` (raw Ed25519, base64url).

    ``WireError`` if it does not verify.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(b64url_decode(public_key))
        key.verify(b64url_decode(sig), _unsigned(document))
    except (InvalidSignature, ValueError, EnvelopeError) as exc:
        raise WireError("signature does not verify") from exc
