"""People and places: districts, rooms, users with roles, their site assignments and bearer tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lims_api.core.models import Base, UTCDateTime, utc_now


class District(Base):
    """An administrative district (区); regulators see every site in theirs."""

    __tablename__ = "districts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Room(Base):
    """A rapid-test room (快检室) inside a site; gateways are placed in rooms."""

    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("site_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class User(Base):
    """A person who logs in; ``role`` is technician, manager, regulator or admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String)
    """argon2id hash (argon2-cffi PasswordHasher)."""
    role: Mapped[str] = mapped_column(String(16))
    district_id: Mapped[str | None] = mapped_column(ForeignKey("districts.id"), default=None)
    """The regulator's district; ``None`` for other roles."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    technician_id: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    """A technician's pseudonymous id: what results carry as ``operator`` once they sign in at a room page."""
    display_name: Mapped[str | None] = mapped_column(String(64), default=None)
    """Shown on the room page of the technician's sites only, never in a result."""
    pin_hash: Mapped[str | None] = mapped_column(String, default=None)
    """argon2id hash of the room-page PIN."""
    badge_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    """SHA-256 (hex) of the badge code the room page's scanner reads."""


class UserSite(Base):
    """A technician's or manager's assignment to one site."""

    __tablename__ = "user_sites"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), primary_key=True)


class AuthToken(Base):
    """A bearer token: ``session`` from login (expires) or ``api`` for clients; only its SHA-256 is stored."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
