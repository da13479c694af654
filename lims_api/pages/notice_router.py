"""The public notice page (公示) of a site, with its print layout and the 你点我检 form."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from lims_api.core.deps import SessionDep, SettingsDep
from lims_api.ingest.models import Site

from .notice import notice_days
from .render import not_found, render

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse, include_in_schema=False)
DayQuery = Annotated[date | None, Query(alias="date", description="YYYY-MM-DD; default today")]


@router.get("/public/sites/{site_id}")
def public_notice(
    request: Request, site_id: str, session: SessionDep, settings: SettingsDep, day: DayQuery = None
) -> HTMLResponse:
    """Anyone: a day's results (default today) and the six days before; product, stall, item, verdict, date."""
    site = session.get(Site, site_id)
    if site is None:
        return not_found(request)
    shown = day or datetime.now(ZoneInfo(settings.timezone)).date()
    today, *recent = notice_days(session, site_id, shown)
    return render(request, "notice.html", {"site": site, "today": today, "recent": recent})
