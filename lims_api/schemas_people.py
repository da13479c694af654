"""Request and response bodies for login, tokens and the admin directory (districts, sites, rooms, users)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from protocols.result import SiteKind

from .schemas import Rfc3339

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
UserRole = Literal["technician", "manager", "regulator", "admin"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(_In):
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


class ApiTokenRequest(_In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"label": "district dashboard"}]})
    label: str = Field(min_length=1, max_length=100)


class DistrictIn(_In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"id": "yuzhong", "name": "渝中区"}]})
    id: str = Field(min_length=1, max_length=64, pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)


class SitePut(_In):
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


class RoomIn(_In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "一号快检室"}]})
    name: str = Field(min_length=1, max_length=200)


class RoomOut(BaseModel):
    id: int
    site_id: str
    name: str


class GatewayRoomIn(_In):
    room_id: int


class UserIn(_In):
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


class SiteAssignment(_In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"site_ids": ["yz-market-07"]}]})
    site_ids: list[str]


class UserOut(BaseModel):
    username: str
    role: str
    district_id: str | None
    site_ids: list[str]
