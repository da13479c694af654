"""Request dependencies of the caller: who is asking (token or session cookie) and the role checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from lims_api.core.deps import SessionDep, SettingsDep
from lims_api.core.models import utc_now

from .auth import PUBLIC, Principal, Role, can_see_site, resolve_token

_bearer = HTTPBearer(auto_error=False)
SESSION_COOKIE = "kj_session"


def current_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller from ``Authorization: Bearer`` (or the session cookie); the public when neither is sent.

    A bearer token that is sent but unknown, expired or revoked is a 401, never a silent downgrade. A session
    cookie that has expired or was revoked (logout) makes the caller the public again, so a page shows the
    login form and an API route that needs a role still answers 401.
    """
    token = credentials.credentials if credentials is not None else request.cookies.get(SESSION_COOKIE)
    if not token:
        return PUBLIC
    admin = settings.admin_token.get_secret_value() if settings.admin_token else None
    principal = resolve_token(session, token, utc_now(), admin)
    if principal is None and credentials is None:
        return PUBLIC
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
