"""Query of stored results: full records for signed-in staff (scoped), published fields for the public."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query

from protocols.result import Verdict

from lims_api.core.deps import SessionDep, SettingsDep
from lims_api.people.auth import Principal, visible_sites
from lims_api.people.deps import ensure_site_visible, require

from .queries import find_results, result_object
from .schemas import PublicResult, PublicResultsResponse, ResultItem, ResultsResponse

router = APIRouter(prefix="/api/v1", tags=["results"])
Staff = Annotated[Principal, Depends(require("technician", "manager", "regulator", "admin"))]
DateQuery = Annotated[date | None, Query(description="local test date, YYYY-MM-DD")]


@router.get("/results", response_model=ResultsResponse)
def list_results(
    principal: Staff,
    session: SessionDep,
    site: str | None = None,
    date: DateQuery = None,  # noqa: A002
    verdict: Verdict | None = None,
    trace_code: Annotated[str | None, Query(max_length=200, description="batch trace code (渝溯源 etc.)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ResultsResponse:
    """Stored results in the caller's scope, filtered by site, local test date, verdict, trace code."""
    if site is not None:
        ensure_site_visible(session, principal, site)
    rows = find_results(
        session, site=site, tested_date=date, verdict=verdict, trace_code=trace_code,
        within_sites=visible_sites(session, principal), limit=limit,
    )
    return ResultsResponse(
        results=[
            ResultItem(gateway=r.gateway_id, seq=r.seq, hash=r.hash, stored_at=r.stored_at, trace_code=r.trace_code,
                       rerun_needed=r.verdict == "invalid", result=result_object(r))
            for r in rows
        ]
    )


@router.get("/public/results", response_model=PublicResultsResponse, tags=["public"])
def public_results(
    session: SessionDep,
    settings: SettingsDep,
    site: str | None = None,
    date: DateQuery = None,  # noqa: A002
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> PublicResultsResponse:
    """Published results (公示) of a day (default today): product, stall, item, verdict, date only."""
    day = date or datetime.now(ZoneInfo(settings.timezone)).date()
    rows = find_results(session, site=site, tested_date=day, published_only=True, limit=limit)
    return PublicResultsResponse(
        results=[
            PublicResult(product=r.sample_name, stall=r.stall, item=r.item, verdict=r.verdict,
                         date=r.tested_date.isoformat(), site_id=r.site_id)
            for r in rows
        ]
    )
