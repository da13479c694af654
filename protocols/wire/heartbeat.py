"""Gateway heartbeats and the gateway's other signed documents: models and the build/sign/verify rules.

``{gateway, kid, site?, sent_at, interval_s?, status: {instruments: [{id, state, last_result_at,
last_error, calibration_due?}], backlog, last_seq, last_upload_at}, sig}``. ``sig`` is Ed25519 over
the JCS form of the document without ``sig`` (base64url), the envelope rule. ``site`` and
``calibration_due`` (``YYYY-MM-DD`` or null) are optional: older gateways do not send them. Every
signed gateway document (heartbeat, roster request) names ``gateway`` and ``kid`` and follows the same rule.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from protocols.calibration import parse_due_date
from protocols.envelope import b64url_decode, b64url_encode, canonical
from protocols.errors import EnvelopeError, WireError
from protocols.signing import Signer

MAX_INTERVAL_S = 86400.0
"""Longest heartbeat interval accepted (one day)."""
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
    """The members a reader needs; unknown members stay in the document (they are signed too)."""

    site: str | None = Field(default=None, max_length=64)
    sent_at: AwareDatetime
    interval_s: float | None = Field(default=None, gt=0, le=MAX_INTERVAL_S)
    status: GatewayStatus


def parse_document(model: type[Signed], document: dict[str, Any]) -> Signed:
    """``document`` as ``model``; ``WireError`` names each member that is wrong (``status.backlog: ...``)."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False))
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
