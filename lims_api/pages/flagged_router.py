"""The console's flagged view: per site and day, counts per flag and each flagged result beside its snapshot
(regulators of the district; admin). Also serves the snapshots themselves to the same people."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from lims_api.core.deps import SessionDep, SettingsDep
from lims_api.evidence.models import EvidenceFile, ResultEvidence
from lims_api.evidence.queries import flagged_day
from lims_api.ingest.models import StoredEnvelope
from lims_api.people.auth import Principal, can_see_site, visible_sites
from lims_api.people.deps import PrincipalDep, require

from .console import scoped_sites
from .render import render, to_login

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse, include_in_schema=False)
Overseer = Annotated[Principal, Depends(require("regulator", "admin"))]
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@router.get("/console/flagged", response_model=None)
def flagged_page(
    request: Request, principal: PrincipalDep, session: SessionDep, settings: SettingsDep,
    site: Annotated[str | None, Query(max_length=64)] = None, day: date | None = None,
) -> HTMLResponse | RedirectResponse:
    """Flagged results of one site and day (default: the first site in scope, today)."""
    if principal.role == "public":
        return to_login(request)
    if principal.role not in ("regulator", "admin"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role} may not open the console")
    sites = list(scoped_sites(session, visible_sites(session, principal)))
    day = day or datetime.now(ZoneInfo(settings.timezone)).date()
    chosen = next((s for s in sites if s.id == site), sites[0] if sites and not site else None)
    if site and chosen is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"site {site!r} not found")
    flagged = flagged_day(session, chosen.id, day) if chosen is not None else None
    return render(request, "flagged.html", {"principal": principal, "sites": sites, "site": chosen, "day": day,
                                            "flagged": flagged})


@router.get("/console/evidence/{sha256}", response_class=Response)
def evidence_image(sha256: str, principal: Overseer, session: SessionDep) -> Response:
    """A snapshot, to whoever may see a site whose result names it (404 otherwise, as for an unknown one)."""
    if not SHA256.match(sha256):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such image")
    sites = session.scalars(
        select(StoredEnvelope.site_id).join(ResultEvidence, ResultEvidence.envelope_id == StoredEnvelope.id)
        .where(ResultEvidence.sha256 == sha256).distinct()).all()
    image = session.get(EvidenceFile, sha256)
    if image is None or not any(can_see_site(session, principal, site) for site in sites):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such image")
    return Response(image.content, media_type=image.media_type,
                    headers={"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"})
