"""Request and response bodies of the JSON API (kept apart from the ORM models)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

from protocols.envelope import GATEWAY_ID, b64url_decode
from protocols.result import SiteKind

Rfc3339 = Annotated[datetime, PlainSerializer(lambda d: d.isoformat(timespec="milliseconds"), return_type=str)]
"""Aware datetime rendered as RFC 3339 with an explicit offset."""

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


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SiteIn(_In):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    kind: SiteKind
    name: str = Field(min_length=1, max_length=200)


def _raw_ed25519(value: str) -> str:
    try:
        raw = b64url_decode(value)
    except ValueError as exc:
        raise ValueError("public_key must be base64url (no padding)") from exc
    if len(raw) != 32:
        raise ValueError(f"public_key must decode to 32 raw bytes, got {len(raw)}")
    try:
        Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise ValueError("public_key is not a valid Ed25519 public key") from exc
    return value


PublicKey = Annotated[str, AfterValidator(_raw_ed25519)]
"""Raw 32-byte Ed25519 public key, base64url without padding."""
_EXAMPLE_KEY = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"


class EnrolRequest(_In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "gateway": "gw-yz-market-07",
        "site": {"id": "yz-market-07", "kind": "market", "name": "渝中区七星岗农贸市场"},
        "public_key": _EXAMPLE_KEY,
    }]})
    gateway: str = Field(pattern=GATEWAY_ID.pattern)
    site: SiteIn
    public_key: PublicKey


class KeyRequest(_In):
    """A gateway's new public key (rotation)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"public_key": _EXAMPLE_KEY}]})
    public_key: PublicKey


class EnrolResponse(BaseModel):
    gateway: str
    kid: str
    site_id: str
    valid_from: Rfc3339


class RevokeResponse(BaseModel):
    gateway: str
    kid: str
    revoked_at: Rfc3339


class LineResult(BaseModel):
    """Outcome of one non-empty NDJSON line of an ingest request."""

    line: int
    gateway: str | None
    seq: int | None
    status: IngestStatus
    code: IngestCode | None = None
    error: str | None = None
    hash: str | None = None


class IngestResponse(BaseModel):
    results: list[LineResult]


class ResultItem(BaseModel):
    gateway: str
    seq: int
    hash: str
    stored_at: Rfc3339
    trace_code: str | None
    rerun_needed: bool
    """The verdict is ``invalid``: the sample must be tested again (no case is opened)."""
    result: dict[str, Any]


class PublicResult(BaseModel):
    """What the public may see of a result (公示): no operator, supplier, origin contact or barcode."""

    product: str | None
    stall: str | None
    item: str
    verdict: str
    date: str
    site_id: str


class PublicResultsResponse(BaseModel):
    results: list[PublicResult]


class ResultsResponse(BaseModel):
    results: list[ResultItem]


class GapOut(BaseModel):
    from_seq: int
    to_seq: int
    opened_at: Rfc3339


class ChainResponse(BaseModel):
    gateway: str
    last_seq: int
    """Highest stored seq; 0 when nothing is stored yet."""
    count: int
    gaps: list[GapOut]
    """Open gaps only, oldest seq first."""
    forks: int
