"""Who is asking: password checks (argon2id), bearer tokens (stored as SHA-256), principals and scope.

A ``Principal`` carries the role and the sites it may see; ``visible_sites`` turns that
into a filter (``None`` = every site) and ``can_see_site`` answers for one site.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from lims_api.ingest.models import Site

from .models import AuthToken, User, UserSite

Role = Literal["technician", "manager", "regulator", "admin", "public"]
USER_ROLES: tuple[Role, ...] = ("technician", "manager", "regulator", "admin")
SESSION_TTL = timedelta(hours=12)
API_TOKEN_TTL = timedelta(days=365)
"""API tokens expire too: a forgotten script's token does not stay valid for ever (mint a new one)."""
_hasher = PasswordHasher()


@cache
def _dummy_hash(time_cost: int, memory_kib: int) -> str:
    """A hash at the configured cost to verify unknown users against, so both failures cost the same."""
    return make_hasher(time_cost, memory_kib).hash("not-a-password")



@dataclass(frozen=True)
class Principal:
    """The caller: a user (or the bootstrap admin, or the anonymous public) and its scope."""

    role: Role
    name: str
    user_id: int | None = None
    site_ids: frozenset[str] = field(default_factory=frozenset)
    district_id: str | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return "public" if self.role == "public" else f"{self.role}:{self.name}"


PUBLIC = Principal(role="public", name="anonymous")
BOOTSTRAP_ADMIN = Principal(role="admin", name="bootstrap")


def make_hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    """argon2id hasher for new passwords; verification reads the cost from each stored hash."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


def hash_password(password: str, hasher: PasswordHasher = _hasher) -> str:
    """argon2id hash of ``password``."""
    return hasher.hash(password)


def check_password(session: Session, username: str, password: str, hasher: PasswordHasher = _hasher) -> User | None:
    """The active user when the password matches; ``None`` otherwise (same work either way).

    An unknown user is checked against a hash made at ``hasher``'s cost, the cost of new passwords.
    """
    user = session.scalar(select(User).where(User.username == username))
    dummy = _dummy_hash(hasher.time_cost, hasher.memory_cost)
    try:
        _hasher.verify(user.password_hash if user is not None else dummy, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled_at is not None:
        return None
    return user


def token_digest(token: str) -> str:
    """SHA-256 hex of a bearer token (tokens are 256-bit random, so a fast hash suffices)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(
    session: Session, user: User, kind: Literal["session", "api"], now: datetime, label: str | None = None
) -> tuple[str, AuthToken]:
    """Create a token for ``user``; returns the secret (shown once) and its stored row."""
    secret = secrets.token_urlsafe(32)
    row = AuthToken(
        user_id=user.id, token_hash=token_digest(secret), kind=kind, label=label, created_at=now,
        expires_at=now + (SESSION_TTL if kind == "session" else API_TOKEN_TTL),
    )
    session.add(row)
    session.flush()
    return secret, row


def principal_for_user(session: Session, user: User) -> Principal:
    """The principal of a stored user, with its assigned sites."""
    sites = frozenset(session.scalars(select(UserSite.site_id).where(UserSite.user_id == user.id)))
    return Principal(
        role=user.role, name=user.username, user_id=user.id, site_ids=sites,  # type: ignore[arg-type]
        district_id=user.district_id,
    )


def resolve_token(session: Session, token: str, now: datetime, admin_token: str | None) -> Principal | None:
    """The principal a bearer token stands for; ``None`` for unknown, expired or revoked tokens."""
    if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
        return BOOTSTRAP_ADMIN
    row = session.scalar(select(AuthToken).where(AuthToken.token_hash == token_digest(token)))
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled_at is not None:
        return None
    return principal_for_user(session, user)


def visible_sites(session: Session, principal: Principal) -> frozenset[str] | None:
    """Site ids the principal may read; ``None`` means all (admin). Public sees none through this."""
    if principal.role == "admin":
        return None
    if principal.role == "regulator":
        if principal.district_id is None:
            return frozenset()
        return frozenset(session.scalars(select(Site.id).where(Site.district_id == principal.district_id)))
    if principal.role in ("technician", "manager"):
        return principal.site_ids
    return frozenset()


def can_see_site(session: Session, principal: Principal, site_id: str) -> bool:
    """Whether ``site_id`` is inside the principal's scope."""
    if principal.role == "admin":
        return True
    if principal.role == "regulator":
        site = session.get(Site, site_id)
        return site is not None and principal.district_id is not None and site.district_id == principal.district_id
    if principal.role in ("technician", "manager"):
        return site_id in principal.site_ids
    return False
