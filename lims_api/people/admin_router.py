"""Admin directory: districts, sites, rooms, gateway placement, users and their scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status

from lims_api.core.deps import SessionDep
from lims_api.core.errors import DirectoryError
from lims_api.core.models import utc_now

from . import directory
from .auth import Principal
from .deps import require
from .schemas import DistrictIn, GatewayRoomIn, RoomIn, RoomOut, SiteAssignment, SiteOut, SitePut, UserIn, UserOut

router = APIRouter(prefix="/api/v1/admin", tags=["admin"],
                   responses={409: {"description": "conflicts with what is stored"}})
Admin = Annotated[Principal, Depends(require("admin"))]


def _conflict(exc: DirectoryError) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, str(exc))


@router.post("/districts", response_model=DistrictIn, status_code=status.HTTP_201_CREATED)
def create_district(body: DistrictIn, admin: Admin, session: SessionDep) -> DistrictIn:
    """Create a district."""
    try:
        directory.create_district(session, admin, body, utc_now())
    except DirectoryError as exc:
        raise _conflict(exc) from exc
    session.commit()
    return body


@router.put("/sites/{site_id}", response_model=SiteOut, responses={201: {"description": "created"}})
def put_site(site_id: str, body: SitePut, admin: Admin, session: SessionDep, response: Response) -> SiteOut:
    """Create or update a site and place it in a district."""
    try:
        site, created = directory.put_site(session, admin, site_id, body, utc_now())
    except DirectoryError as exc:
        raise _conflict(exc) from exc
    session.commit()
    if created:
        response.status_code = status.HTTP_201_CREATED
    return SiteOut(id=site.id, kind=site.kind, name=site.name, district_id=site.district_id)


@router.post("/sites/{site_id}/rooms", response_model=RoomOut, status_code=status.HTTP_201_CREATED)
def create_room(site_id: str, body: RoomIn, admin: Admin, session: SessionDep) -> RoomOut:
    """Add a test room to a site."""
    try:
        room = directory.create_room(session, admin, site_id, body.name, utc_now())
    except DirectoryError as exc:
        raise _conflict(exc) from exc
    session.commit()
    return RoomOut(id=room.id, site_id=room.site_id, name=room.name)


@router.put("/gateways/{gateway_id}/room", status_code=status.HTTP_204_NO_CONTENT)
def place_gateway(gateway_id: str, body: GatewayRoomIn, admin: Admin, session: SessionDep) -> None:
    """Put an enrolled gateway in a room of its site."""
    try:
        directory.place_gateway(session, admin, gateway_id, body.room_id)
    except DirectoryError as exc:
        raise _conflict(exc) from exc
    session.commit()


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(body: UserIn, admin: Admin, session: SessionDep, request: Request) -> UserOut:
    """Create a user with a role and its scope (sites for technicians/managers, district for regulators)."""
    try:
        with request.app.state.password_slots.slot():
            user = directory.create_user(session, admin, body, utc_now(), request.app.state.password_hasher)
    except DirectoryError as exc:
        raise _conflict(exc) from exc
    session.commit()
    return directory.user_out(session, user)


@router.put("/users/{username}/sites", response_model=UserOut)
def assign_sites(username: str, body: SiteAssignment, admin: Admin, session: SessionDep) -> UserOut:
    """Replace the sites of a technician or manager."""
    try:
        user = directory.assign_sites(session, admin, username, body.site_ids)
    except DirectoryError as exc:
        raise _conflict(exc) from exc
    session.commit()
    return directory.user_out(session, user)
