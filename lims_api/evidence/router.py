"""Evidence and plausibility API: image upload from gateways, site opening hours, flags of a site and day."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import BaseModel, ConfigDict, field_validator

from lims_api.core.deps import BoundedBody, SessionDep
from lims_api.core.models import utc_now
from lims_api.ingest.models import Site
from lims_api.people.auth import Principal
from lims_api.people.deps import ensure_site_visible, require
from protocols.wire.paths import API_PREFIX, EVIDENCE_PATH

from .models import SiteSetting
from .files import EvidenceRefused, keep_upload
from .opening_hours import parse_hours
from .queries import FlaggedDay, flagged_day

router = APIRouter(tags=["evidence"])
SHA256 = re.compile(r"^[0-9a-f]{64}$")
Admin = Annotated[Principal, Depends(require("admin"))]
Overseer = Annotated[Principal, Depends(require("regulator", "admin"))]


@router.put(EVIDENCE_PATH, status_code=status.HTTP_201_CREATED,
            responses={200: {"description": "already stored"}, 409: {"description": "no stored result names it"}})
def upload_evidence(sha256: str, body: BoundedBody, session: SessionDep, response: Response) -> dict[str, str]:
    """Keep a camera image a stored, signed result names by its SHA-256 (the signature authorises it)."""
    if not SHA256.match(sha256):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "path must be 64 lowercase hex digits")
    try:
        outcome = keep_upload(session, sha256, body, utc_now())
    except EvidenceRefused as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    session.commit()
    if outcome == "already_stored":
        response.status_code = status.HTTP_200_OK
    return {"sha256": sha256, "status": outcome}


class OpeningHours(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"opening_hours": "06:00-20:00"}]})
    opening_hours: str | None
    """``HH:MM-HH:MM`` ranges, comma-separated, local time; null removes the rule."""

    @field_validator("opening_hours")
    @classmethod
    def _ranges(cls, value: str | None) -> str | None:
        if value is not None:
            parse_hours(value)
        return value


@router.put(f"{API_PREFIX}/admin/sites/{{site_id}}/opening-hours", response_model=OpeningHours)
def put_opening_hours(site_id: str, body: OpeningHours, admin: Admin, session: SessionDep) -> OpeningHours:
    """Set a site's opening hours; results tested outside them are flagged from now on."""
    if session.get(Site, site_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"site {site_id!r} not found")
    setting = session.get(SiteSetting, site_id) or SiteSetting(site_id=site_id)
    setting.opening_hours = body.opening_hours
    session.add(setting)
    session.commit()
    return body


@router.get(f"{API_PREFIX}/sites/{{site_id}}/flags", response_model=FlaggedDay)
def site_flags(site_id: str, principal: Overseer, session: SessionDep,
               day: Annotated[date, Query(description="tested date, instrument-local")]) -> FlaggedDay:
    """Counts per flag and each flagged result of one site and day, with its evidence (regulators, admin)."""
    ensure_site_visible(session, principal, site_id)
    return flagged_day(session, site_id, day)
