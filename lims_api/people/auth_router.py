"""Login (JSON and a small HTML form that sets a session cookie), logout and API tokens."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lims_api.audit import audit_log
from lims_api.core.deps import SessionDep
from lims_api.core.models import utc_now

from .auth import Principal, check_password, issue_token, token_digest
from .deps import SESSION_COOKIE, require
from .models import AuthToken, User
from .schemas import ApiTokenRequest, LoginRequest, TokenResponse

router = APIRouter(tags=["auth"])
Signed = Annotated[Principal, Depends(require("technician", "manager", "regulator", "admin"))]


def _login(session: Session, request: Request, username: str, password: str) -> tuple[str, AuthToken, User] | None:
    """Session token for good credentials (committed); a failure is audited and committed, then ``None``.

    A name or client with too many recent failures is refused with 429 before its password is hashed.
    """
    client = request.client.host if request.client else "unknown"
    throttle = request.app.state.login_throttle
    wait = throttle.retry_after(username, client)
    if wait is not None:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            f"too many failed logins; try again in {math.ceil(wait)} s",
                            headers={"Retry-After": str(math.ceil(wait))})
    with request.app.state.password_slots.slot():
        user = check_password(session, username, password, request.app.state.password_hasher)
    if user is None:
        throttle.failed(username, client)
        audit_log.append(session, "public", "auth.login_failed", f"user:{username}", {"client": client})
        session.commit()
        return None
    throttle.succeeded(username)
    secret, row = issue_token(session, user, "session", utc_now())
    audit_log.append(session, f"{user.role}:{user.username}", "auth.login", f"user:{user.username}", {})
    session.commit()
    return secret, row, user


@router.post("/api/v1/auth/login", response_model=TokenResponse,
             responses={401: {"description": "username or password is wrong"},
                        429: {"description": "too many failed logins for this name or client; see Retry-After"}})
def login(body: LoginRequest, request: Request, session: SessionDep) -> TokenResponse:
    """Exchange username and password for a session bearer token (expires after 12 h)."""
    outcome = _login(session, request, body.username, body.password)
    if outcome is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "username or password is wrong")
    secret, row, user = outcome
    return TokenResponse(token=secret, kind="session", role=user.role, expires_at=row.expires_at)


@router.post("/api/v1/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(principal: Signed, request: Request, session: SessionDep) -> None:
    """Revoke the token this request was made with."""
    header = request.headers.get("authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else request.cookies.get(
        SESSION_COOKIE, "")
    session.execute(update(AuthToken).where(AuthToken.token_hash == token_digest(token)).values(revoked_at=utc_now()))
    audit_log.append(session, principal.actor, "auth.logout", f"user:{principal.name}", {})
    session.commit()


@router.post("/api/v1/auth/tokens", response_model=TokenResponse, status_code=status.HTTP_201_CREATED)
def create_api_token(body: ApiTokenRequest, principal: Signed, session: SessionDep) -> TokenResponse:
    """An API token for the calling user (dashboards, scripts), valid for 365 days; shown once."""
    user = session.get(User, principal.user_id) if principal.user_id is not None else None
    if user is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the bootstrap admin token cannot mint API tokens")
    secret, row = issue_token(session, user, "api", utc_now(), label=body.label)
    audit_log.append(session, principal.actor, "auth.api_token", f"user:{user.username}", {"label": body.label})
    session.commit()
    return TokenResponse(token=secret, kind="api", role=user.role, expires_at=row.expires_at)


def _safe_next(target: str) -> str:
    """Only same-site paths are followed after login."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002
    """The login form of the pages."""
    return request.app.state.templates.TemplateResponse(request, "login.html", {"next": _safe_next(next)})


@router.post("/login", include_in_schema=False, response_model=None)
def login_submit(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",  # noqa: A002
) -> HTMLResponse | RedirectResponse:
    """Check the form, set the session cookie and go back to the page asked for."""
    try:
        outcome = _login(session, request, username, password)
    except HTTPException as exc:
        if exc.status_code != status.HTTP_429_TOO_MANY_REQUESTS:
            raise
        return request.app.state.templates.TemplateResponse(
            request, "login.html", {"next": _safe_next(next), "error": f"登录失败次数过多，请 {exc.headers['Retry-After']}"
                                    " 秒后再试"}, status_code=429, headers=exc.headers)
    if outcome is None:
        return request.app.state.templates.TemplateResponse(
            request, "login.html", {"next": _safe_next(next), "error": "用户名或密码错误"}, status_code=401
        )
    response = RedirectResponse(_safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    secure = request.app.state.settings.session_cookie_secure
    response.set_cookie(SESSION_COOKIE, outcome[0], httponly=True, samesite="strict", max_age=12 * 3600,
                        secure=request.url.scheme == "https" if secure is None else secure)
    return response


@router.post("/logout", include_in_schema=False, response_model=None)
def logout_submit(request: Request, session: SessionDep) -> RedirectResponse:
    """The pages' sign-out: revoke the cookie's session, delete the cookie, show the login form."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        row = session.scalar(select(AuthToken).where(AuthToken.token_hash == token_digest(token)))
        if row is not None and row.revoked_at is None:
            row.revoked_at = utc_now()
            user = session.get(User, row.user_id)
            name = user.username if user is not None else str(row.user_id)
            audit_log.append(session, f"{user.role if user else 'user'}:{name}", "auth.logout", f"user:{name}", {})
            session.commit()
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict")
    return response
