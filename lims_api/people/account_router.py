"""A user's own account (list and revoke tokens, change the password) and the admin's disable/enable."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lims_api.audit import audit_log
from lims_api.core.deps import SessionDep
from lims_api.core.models import utc_now
from lims_api.core.schemas import Rfc3339, RowIdPath, StrictIn

from .auth import Principal, check_password, hash_password
from .deps import require
from .models import AuthToken, User

router = APIRouter(tags=["auth"], responses={409: {"description": "not allowed for this account"}})
Signed = Annotated[Principal, Depends(require("technician", "manager", "regulator", "admin"))]
Admin = Annotated[Principal, Depends(require("admin"))]
MIN_PASSWORD = 12


class TokenOut(BaseModel):
    """One of the caller's tokens (never its secret)."""

    id: int
    kind: Literal["session", "api"]
    label: str | None
    created_at: Rfc3339
    expires_at: Rfc3339 | None
    revoked_at: Rfc3339 | None


class TokensResponse(BaseModel):
    tokens: list[TokenOut]


class PasswordChange(StrictIn):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=MIN_PASSWORD, max_length=256)


class UserState(BaseModel):
    username: str
    disabled_at: Rfc3339 | None


def _user(session: Session, principal: Principal) -> User:
    user = session.get(User, principal.user_id) if principal.user_id is not None else None
    if user is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "the bootstrap admin token has no account")
    return user


@router.get("/api/v1/auth/tokens", response_model=TokensResponse)
def list_tokens(principal: Signed, session: SessionDep) -> TokensResponse:
    """The caller's session and API tokens, newest first."""
    user = _user(session, principal)
    rows = session.scalars(select(AuthToken).where(AuthToken.user_id == user.id).order_by(AuthToken.id.desc()))
    return TokensResponse(tokens=[TokenOut(id=r.id, kind=r.kind, label=r.label, created_at=r.created_at,  # type: ignore[arg-type]
                                           expires_at=r.expires_at, revoked_at=r.revoked_at) for r in rows])


@router.post("/api/v1/auth/tokens/{token_id}/revoke", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: RowIdPath, principal: Signed, session: SessionDep) -> None:
    """Revoke one of the caller's tokens (404 for another user's)."""
    user = _user(session, principal)
    row = session.get(AuthToken, token_id)
    if row is None or row.user_id != user.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"token {token_id} not found")
    if row.revoked_at is None:
        row.revoked_at = utc_now()
        audit_log.append(session, principal.actor, "auth.token_revoke", f"user:{user.username}", {"token": token_id})
        session.commit()


@router.post("/api/v1/auth/password", status_code=status.HTTP_204_NO_CONTENT,
             responses={401: {"description": "the current password is wrong"}})
def change_password(body: PasswordChange, principal: Signed, request: Request, session: SessionDep) -> None:
    """Set a new password (at least 12 characters); every session of the user ends, API tokens stay."""
    user = _user(session, principal)
    with request.app.state.password_slots.slot():
        if check_password(session, user.username, body.current_password, request.app.state.password_hasher) is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "the current password is wrong")
        user.password_hash = hash_password(body.new_password, request.app.state.password_hasher)
    _revoke_all(session, user.id, utc_now(), kinds=("session",))
    audit_log.append(session, principal.actor, "auth.password_change", f"user:{user.username}", {})
    session.commit()


def _revoke_all(session: Session, user_id: int, now: datetime, kinds: tuple[str, ...]) -> None:
    session.execute(update(AuthToken).where(AuthToken.user_id == user_id, AuthToken.kind.in_(kinds),
                                            AuthToken.revoked_at.is_(None)).values(revoked_at=now))


def _set_disabled(session: Session, admin: Principal, username: str, disabled: bool) -> UserState:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"user {username!r} not found")
    now = utc_now()
    user.disabled_at = now if disabled else None
    if disabled:
        _revoke_all(session, user.id, now, kinds=("session", "api"))
    audit_log.append(session, admin.actor, "user.disable" if disabled else "user.enable", f"user:{username}", {})
    session.commit()
    return UserState(username=username, disabled_at=user.disabled_at)


@router.post("/api/v1/admin/users/{username}/disable", response_model=UserState, tags=["admin"])
def disable_user(username: str, admin: Admin, session: SessionDep) -> UserState:
    """Disable a user: logins fail and every token of the user is revoked."""
    return _set_disabled(session, admin, username, True)


@router.post("/api/v1/admin/users/{username}/enable", response_model=UserState, tags=["admin"])
def enable_user(username: str, admin: Admin, session: SessionDep) -> UserState:
    """Let a disabled user log in again (its old tokens stay revoked)."""
    return _set_disabled(session, admin, username, False)
