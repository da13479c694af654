"""Request and response bodies for login, tokens, gateway enrolment and the admin directory."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from protocols.envelope import GATEWAY_ID, b64url_decode
from protocols.result import SiteKind

from lims_api.core.schemas import Rfc3339, RowId, StrictIn

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
UserRole = Literal["technician", "manager", "regulator", "admin"]


class LoginRequest(StrictIn):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"username": "li.manager", "password": "correct horse"}]}
    )
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenResponse(BaseModel):
    token: str
    """The bearer secret; shown once, only its SHA-256 is stored."""
    kind: Literal["session", "api"]
    role: str
    expires_at: Rfc3339 | None


class ApiTokenRequest(StrictIn):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"label": "district dashboard"}]})
    label: str = Field(min_length=1, max_length=100)


class DistrictIn(StrictIn):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"id": "yuzhong", "name": "渝中区"}]})
    id: str = Field(min_length=1, max_length=64, pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)


class SitePut(StrictIn):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"kind": "market", "name": "渝中区七星岗农贸市场", "district_id": "yuzhong"}]},
    )
    kind: SiteKind
    name: str = Field(min_length=1, max_length=200)
    district_id: str | None = None


class SiteOut(BaseModel):
    id: str
    kind: str
    name: str
    district_id: str | None


class RoomIn(StrictIn):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "一号快检室"}]})
    name: str = Field(min_length=1, max_length=200)


class RoomOut(BaseModel):
    id: int
    site_id: str
    name: str


class GatewayRoomIn(StrictIn):
    room_id: RowId


class UserIn(StrictIn):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [
            {"username": "wang.tech", "password": "at least 10 chars", "role": "technician",
             "site_ids": ["yz-market-07"]},
            {"username": "zhao.reg", "password": "at least 10 chars", "role": "regulator", "district_id": "yuzhong"},
        ]},
    )
    username: str = Field(min_length=1, max_length=64, pattern=ID_PATTERN)
    password: str = Field(min_length=10, max_length=256)
    role: UserRole
    district_id: str | None = None
    """Required for a regulator, refused for the other roles."""
    site_ids: list[str] = Field(default_factory=list)
    """Sites of a technician or manager; refused for the other roles."""


class SiteAssignment(StrictIn):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"site_ids": ["yz-market-07"]}]})
    site_ids: list[str]


class UserOut(BaseModel):
    username: str
    role: str
    district_id: str | None
    site_ids: list[str]


class SiteIn(StrictIn):
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


class EnrolRequest(StrictIn):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "gateway": "gw-yz-market-07",
        "site": {"id": "yz-market-07", "kind": "market", "name": "渝中区七星岗农贸市场"},
        "public_key": _EXAMPLE_KEY,
    }]})
    gateway: str = Field(pattern=GATEWAY_ID.pattern)
    site: SiteIn
    public_key: PublicKey


class KeyRequest(StrictIn):
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


class RoomSignInIn(BaseModel):
    """What an admin sets for a technician's sign-in at the room pages of their sites."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"display_name": "王芳", "pin": "246810", "badge": "YZ-T-0042"}]})
    display_name: str = Field(min_length=1, max_length=64)
    pin: str | None = Field(default=None, pattern=r"^\d{4,12}$")
    """4-12 digits; stored as an argon2id hash. None: no PIN sign-in."""
    badge: str | None = Field(default=None, min_length=4, max_length=128)
    """The code the badge's barcode holds; stored as its SHA-256. None: no badge sign-in."""


class RoomSignInOut(BaseModel):
    username: str
    technician_id: str
    display_name: str
    has_pin: bool
    has_badge: bool


class RosterTechnician(BaseModel):
    id: str
    name: str
    pin_hash: str | None
    badge_sha256: str | None


class Roster(BaseModel):
    site: str
    issued_at: datetime
    technicians: list[RosterTechnician]
