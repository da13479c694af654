"""The public notice page (公示) of a site, with its print layout and the 你点我检 form."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from lims_api.core.deps import SessionDep, SettingsDep
from lims_api.ingest.models import Site

from .notice import notice_view
from .render import not_found, render

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse, include_in_schema=False)
DayQuery = Annotated[date | None, Query(alias="date", description="YYYY-MM-DD; default today")]
SearchQuery = Annotated[str, Query(max_length=50, description="part of a product or item name")]
PageQuery = Annotated[int, Query(ge=1, le=10_000)]


@router.get("/public/sites/{site_id}")
def public_notice(
    request: Request, site_id: str, session: SessionDep, settings: SettingsDep, day: DayQuery = None,
    q: SearchQuery = "", page: PageQuery = 1,
) -> HTMLResponse:
    """Anyone: a day's results (default today; product, stall, item, 合格/不合格, 处理情况, date), searchable
    and paged, and the counts of the six days before."""
    site = session.get(Site, site_id)
    if site is None:
        return not_found(request)
    shown = day or datetime.now(ZoneInfo(settings.timezone)).date()
    view = notice_view(session, site_id, shown, q.strip(), page)
    return render(request, "notice.html", {"site": site, "view": view})
