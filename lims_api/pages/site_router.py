"""Server-rendered pages (Chinese, no external assets): site list and a site's day for staff (public notice: notice.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from lims_api.core.deps import SessionDep, SettingsDep
from lims_api.ingest.models import Site
from lims_api.ingest.queries import site_day
from lims_api.people.auth import can_see_site
from lims_api.people.deps import PrincipalDep

from .views import day_view

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse, include_in_schema=False)
DayQuery = Annotated[date | None, Query(alias="date", description="YYYY-MM-DD; default today")]


def _not_found(request: Request, site_id: str) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(
        request, "not_found.html", {"message": f"检测点 {site_id} 不存在。"}, status_code=404
    )


def _day(settings_timezone: str, day: date | None) -> date:
    return day or datetime.now(ZoneInfo(settings_timezone)).date()


@router.get("/")
def site_list(request: Request, session: SessionDep) -> HTMLResponse:
    """All sites, linked to their public result board."""
    sites = session.scalars(select(Site).order_by(Site.id)).all()
    return request.app.state.templates.TemplateResponse(request, "sites.html", {"sites": sites})


@router.get("/sites/{site_id}/today", response_model=None)
def site_today(
    request: Request, site_id: str, principal: PrincipalDep, session: SessionDep, settings: SettingsDep,
    day: DayQuery = None,
) -> HTMLResponse | RedirectResponse:
    """Staff view of one site's day, positives first: its managers/technicians, its district's regulator, admin.

    Anonymous callers are sent to the login form; a site outside the caller's scope is a 404 page.
    """
    if principal.role == "public":
        return RedirectResponse(f"/login?next={quote(str(request.url.path))}", status_code=303)
    site = session.get(Site, site_id)
    if site is None or not can_see_site(session, principal, site_id):
        return _not_found(request, site_id)
    shown = _day(settings.timezone, day)
    counts, rows = day_view(site_day(session, site_id, shown))
    return request.app.state.templates.TemplateResponse(
        request, "site_today.html", {"site": site, "day": shown, "counts": counts, "rows": rows}
    )
