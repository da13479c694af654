"""Technicians' room-page sign-in: an admin sets it; a gateway fetches its site's roster with its signature."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status

from protocols.wire.paths import ROSTER_PATH

from lims_api.core.deps import BoundedBody, SessionDep
from lims_api.core.errors import DirectoryError, HeartbeatRejected
from lims_api.core.models import utc_now

from .auth import Principal
from .deps import require
from .schemas import RoomSignInIn, RoomSignInOut, Roster
from .technicians import roster_for, set_room_sign_in

router = APIRouter(tags=["technicians"])
logger = logging.getLogger(__name__)
Admin = Annotated[Principal, Depends(require("admin"))]


@router.put("/api/v1/admin/users/{username}/room-sign-in", response_model=RoomSignInOut,
            responses={409: {"description": "not a technician, or neither PIN nor badge"}})
def put_room_sign_in(username: str, body: RoomSignInIn, admin: Admin, session: SessionDep,
                     request: Request) -> RoomSignInOut:
    """Set how a technician signs in at their sites' room pages (PIN, badge); returns their pseudonymous id."""
    try:
        answer = set_room_sign_in(session, admin, username, body, request.app.state.password_hasher)
    except DirectoryError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    session.commit()
    return answer


@router.post(
    ROSTER_PATH, response_model=Roster,
    responses={401: {"description": "unsigned"}, 403: {"description": "unknown/revoked kid, forged, or another site"},
               404: {"description": "unknown gateway"}, 422: {"description": "malformed, or not fresh"}},
)
def technicians(gateway: str, body: BoundedBody, session: SessionDep) -> Roster:
    """The enrolled technicians of the gateway's site (pseudonymous id, name, PIN hash, badge digest)."""
    try:
        return roster_for(session, gateway, body, utc_now())
    except HeartbeatRejected as exc:
        logger.warning("roster request refused: %s", exc.message,
                       extra={"gateway": gateway, "status": exc.status, "reason": exc.message})
        raise HTTPException(exc.status, exc.message) from exc
