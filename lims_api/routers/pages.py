"""Server-rendered pages: site list and a site's results of the day (Chinese, no external assets)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from ..deps import SessionDep, SettingsDep
from ..models import Site
from ..pages import day_view
from ..queries import site_day

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse)


@router.get("/")
def site_list(request: Request, session: SessionDep) -> HTMLResponse:
    """All enrolled sites, linked to their daily page."""
    sites = session.scalars(select(Site).order_by(Site.id)).all()
    return request.app.state.templates.TemplateResponse(request, "sites.html", {"sites": sites})


@router.get("/sites/{site_id}/today")
def site_today(
    request: Request,
    site_id: str,
    session: SessionDep,
    settings: SettingsDep,
    day: Annotated[date | None, Query(alias="date", description="YYYY-MM-DD; default today")] = None,
) -> HTMLResponse:
    """One site's results of a day, positives first; 404 page for an unknown site."""
    templates = request.app.state.templates
    site = session.get(Site, site_id)
    if site is None:
        return templates.TemplateResponse(
            request, "not_found.html", {"message": f"检测点 {site_id} 不存在。"}, status_code=404
        )
    shown = day or datetime.now(ZoneInfo(settings.timezone)).date()
    counts, rows = day_view(site_day(session, site_id, shown))
    return templates.TemplateResponse(
        request, "site_today.html", {"site": site, "day": shown, "counts": counts, "rows": rows}
    )
