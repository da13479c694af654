"""Admin operations on the directory: districts, sites, rooms, users and their scope; each one audited."""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lims_api.audit import audit_log
from lims_api.core.errors import DirectoryError
from lims_api.ingest.models import Gateway, Site

from .auth import Principal, hash_password
from .models import District, Room, User, UserSite
from .schemas import DistrictIn, SitePut, UserIn, UserOut

SITE_ROLES = frozenset({"technician", "manager"})


def _require_district(session: Session, district_id: str | None) -> None:
    if district_id is not None and session.get(District, district_id) is None:
        raise DirectoryError(f"district {district_id!r} does not exist")


def _require_sites(session: Session, site_ids: list[str]) -> None:
    known = set(session.scalars(select(Site.id).where(Site.id.in_(site_ids))))
    missing = sorted(set(site_ids) - known)
    if missing:
        raise DirectoryError(f"site(s) {', '.join(missing)} do not exist")


def create_district(session: Session, actor: Principal, body: DistrictIn, now: datetime) -> District:
    """Create a district; ``DirectoryError`` if the id is taken."""
    if session.get(District, body.id) is not None:
        raise DirectoryError(f"district {body.id!r} already exists")
    district = District(id=body.id, name=body.name, created_at=now)
    session.add(district)
    audit_log.append(session, actor.actor, "district.create", f"district:{body.id}", {"name": body.name})
    return district


def put_site(session: Session, actor: Principal, site_id: str, body: SitePut, now: datetime) -> tuple[Site, bool]:
    """Create or update a site (kind, name, district); returns (site, created)."""
    _require_district(session, body.district_id)
    site = session.get(Site, site_id)
    created = site is None
    if site is None:
        site = Site(id=site_id, kind=body.kind, name=body.name, district_id=body.district_id, created_at=now)
        session.add(site)
    else:
        site.kind, site.name, site.district_id = body.kind, body.name, body.district_id
    audit_log.append(session, actor.actor, "site.create" if created else "site.update", f"site:{site_id}",
                     body.model_dump())
    return site, created


def create_room(session: Session, actor: Principal, site_id: str, name: str, now: datetime) -> Room:
    """Add a test room to a site."""
    _require_sites(session, [site_id])
    if session.scalar(select(Room).where(Room.site_id == site_id, Room.name == name)) is not None:
        raise DirectoryError(f"site {site_id!r} already has a room named {name!r}")
    room = Room(site_id=site_id, name=name, created_at=now)
    session.add(room)
    session.flush()
    audit_log.append(session, actor.actor, "room.create", f"room:{room.id}", {"site_id": site_id, "name": name})
    return room


def place_gateway(session: Session, actor: Principal, gateway_id: str, room_id: int) -> Gateway:
    """Put an enrolled gateway in a room of its own site."""
    gateway, room = session.get(Gateway, gateway_id), session.get(Room, room_id)
    if gateway is None or room is None:
        raise DirectoryError(f"gateway {gateway_id!r} or room {room_id} does not exist")
    if room.site_id != gateway.site_id:
        raise DirectoryError(f"room {room_id} is at site {room.site_id!r}, gateway at {gateway.site_id!r}")
    gateway.room_id = room_id
    audit_log.append(session, actor.actor, "gateway.place", f"gateway:{gateway_id}", {"room_id": room_id})
    return gateway


def _check_scope_fields(role: str, district_id: str | None, site_ids: list[str]) -> None:
    if role == "regulator" and district_id is None:
        raise DirectoryError("a regulator needs district_id")
    if role != "regulator" and district_id is not None:
        raise DirectoryError(f"district_id is only for regulators, not {role}")
    if role not in SITE_ROLES and site_ids:
        raise DirectoryError(f"site_ids are only for technicians and managers, not {role}")


def create_user(session: Session, actor: Principal, body: UserIn, now: datetime, hasher: PasswordHasher) -> User:
    """Create a user with a hashed password and its scope (district or sites)."""
    _check_scope_fields(body.role, body.district_id, body.site_ids)
    _require_district(session, body.district_id)
    _require_sites(session, body.site_ids)
    if session.scalar(select(User).where(User.username == body.username)) is not None:
        raise DirectoryError(f"user {body.username!r} already exists")
    user = User(username=body.username, password_hash=hash_password(body.password, hasher), role=body.role,
                district_id=body.district_id, created_at=now)
    session.add(user)
    session.flush()
    session.add_all(UserSite(user_id=user.id, site_id=site) for site in sorted(set(body.site_ids)))
    audit_log.append(session, actor.actor, "user.create", f"user:{body.username}",
                     {"role": body.role, "district_id": body.district_id, "site_ids": sorted(set(body.site_ids))})
    return user


def assign_sites(session: Session, actor: Principal, username: str, site_ids: list[str]) -> User:
    """Replace a technician's or manager's sites."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise DirectoryError(f"user {username!r} does not exist")
    _check_scope_fields(user.role, user.district_id, site_ids)
    _require_sites(session, site_ids)
    session.execute(delete(UserSite).where(UserSite.user_id == user.id))
    session.add_all(UserSite(user_id=user.id, site_id=site) for site in sorted(set(site_ids)))
    audit_log.append(session, actor.actor, "user.assign_sites", f"user:{username}",
                     {"site_ids": sorted(set(site_ids))})
    return user


def user_out(session: Session, user: User) -> UserOut:
    """Response body of a user, with its sites."""
    sites = sorted(session.scalars(select(UserSite.site_id).where(UserSite.user_id == user.id)))
    return UserOut(username=user.username, role=user.role, district_id=user.district_id, site_ids=sites)
