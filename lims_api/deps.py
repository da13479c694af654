"""Request dependencies: the one database session, settings, the caller and its role checks, bounded body."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from .auth import PUBLIC, Principal, Role, can_see_site, resolve_token
from .errors import BodyTooLarge
from .models import utc_now
from .settings import LimsSettings


def get_settings(request: Request) -> LimsSettings:
    """The settings object ``create_app`` was built with."""
    settings: LimsSettings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; rolled back if the handler leaves anything uncommitted."""
    with request.app.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[LimsSettings, Depends(get_settings)]

_bearer = HTTPBearer(auto_error=False)
SESSION_COOKIE = "kj_session"


def current_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller from ``Authorization: Bearer`` (or the session cookie); the public when neither is sent.

    A token that is sent but unknown, expired or revoked is a 401, never a silent downgrade.
    """
    token = credentials.credentials if credentials is not None else request.cookies.get(SESSION_COOKIE)
    if not token:
        return PUBLIC
    admin = settings.admin_token.get_secret_value() if settings.admin_token else None
    principal = resolve_token(session, token, utc_now(), admin)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "bearer token is not valid (unknown, expired or revoked)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(*roles: Role) -> Callable[[Principal], Principal]:
    """Dependency allowing only ``roles``: 401 for the anonymous public, 403 for other roles."""
    allowed = frozenset(roles)

    def check(principal: PrincipalDep) -> Principal:
        if principal.role in allowed:
            return principal
        if principal.role == "public":
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "authentication required (Authorization: Bearer <token>)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"role {principal.role} may not do this (allowed: {', '.join(sorted(allowed))})"
        )

    check.__name__ = "require_" + "_or_".join(sorted(allowed))
    return check


require_admin = require("admin")


def ensure_site_visible(session: Session, principal: Principal, site_id: str) -> None:
    """404 (the same as for an unknown site) when ``site_id`` is outside the caller's scope."""
    if not can_see_site(session, principal, site_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"site {site_id!r} not found")


async def read_bounded_body(request: Request, settings: SettingsDep) -> bytes:
    """The whole request body, refused with 413 once it exceeds ``max_body_bytes``.

    Checks the declared Content-Length first, then the bytes actually received.
    """
    limit = settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> HTTPException:
    return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(BodyTooLarge(limit)))


BoundedBody = Annotated[bytes, Depends(read_bounded_body)]
