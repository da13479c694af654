"""Regulator console: sites of the district with gateway health, QC of the day, chain status, cases,
checkpoints, charts, and the audit-bundle download (regulators of the district; admin).

``/console/health`` serves the live part alone (overview, health, QC, chain, cases) for the page to refresh."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from lims_api.audit import audit_log
from lims_api.audit.export import export_bundle
from lims_api.core.deps import SessionDep, SettingsDep
from lims_api.core.errors import ExportError
from lims_api.core.models import utc_now
from lims_api.core.settings import LimsSettings
from lims_api.ingest.models import Site
from lims_api.people.auth import Principal, can_see_site, visible_sites
from lims_api.people.deps import PrincipalDep, require
from lims_api.people.models import District

from .charts import columns, horizontal_bars
from .console import scoped_sites, site_health
from .console_qc import qc_due_count, qc_today
from .console_stats import case_totals, chart_series, recent_checkpoints, unclosed_cases
from .i18n import pick_lang, translator
from .render import render, to_login

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse, include_in_schema=False)
CONSOLE_ROLES = frozenset({"regulator", "admin"})
Overseer = Annotated[Principal, Depends(require("regulator", "admin"))]
DistrictParam = Annotated[str | None, Query(max_length=64)]


def _scope(session: Session, principal: Principal, district: str | None) -> frozenset[str] | None:
    """The caller's sites; an admin may narrow to one district."""
    scope = visible_sites(session, principal)
    if principal.role == "admin" and district:
        return frozenset(session.scalars(select(Site.id).where(Site.district_id == district)))
    return scope


def _live_context(session: Session, principal: Principal, district: str | None,
                  settings: LimsSettings) -> dict[str, Any]:
    """What the live part shows: overview, gateway health, QC, chain, cases (one read, scoped)."""
    now, today = utc_now(), datetime.now(ZoneInfo(settings.timezone)).date()
    sites = list(scoped_sites(session, _scope(session, principal, district)))
    site_ids = [s.id for s in sites]
    health = site_health(session, sites, today, now, settings.heartbeat_offline_s)
    qc = qc_today(session, site_ids, today)
    cases = unclosed_cases(session, site_ids, now)
    gateways = [g for s in health for g in s.gateways]
    open_cases, overdue = case_totals(cases)
    summary = {
        "console.sites": len(sites), "console.online": sum(g.state == "online" for g in gateways),
        "console.offline_count": sum(g.state != "online" for g in gateways),
        "console.tests_today": sum(s.tests_today for s in health),
        "console.positives_today": sum(s.positives_today for s in health),
        "console.qc_due": qc_due_count(qc),
        "console.open_cases": open_cases, "console.overdue_cases": overdue,
    }
    return {"principal": principal, "health": health, "qc": qc, "site_names": {s.id: s.name for s in sites},
            "cases": cases, "summary": summary, "sites": sites, "today": today, "now": now}


@router.get("/console", response_model=None)
def console_page(
    request: Request, principal: PrincipalDep, session: SessionDep, settings: SettingsDep,
    district: DistrictParam = None,
) -> HTMLResponse | RedirectResponse:
    """The console page (anonymous: login; other roles: 403 page); its live part refreshes itself."""
    if principal.role == "public":
        return to_login(request)
    if principal.role not in CONSOLE_ROLES:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role} may not open the console")
    context = _live_context(session, principal, district, settings)
    series = chart_series(session, context["sites"], context["today"])
    t = translator(pick_lang(request))
    charts = {
        "by_item": horizontal_bars(t("console.chart.by_item"), series.positives_by_item, color="#b3001b",
                                   empty=t("console.no_data")),
        "by_day": columns(t("console.chart.by_day"), series.positives_by_day),
        "by_site": horizontal_bars(t("console.chart.by_site"), series.tests_by_site, empty=t("console.no_data")),
    }
    districts = session.scalars(select(District).order_by(District.id)).all() if principal.role == "admin" else []
    return render(request, "console.html", {
        **context, "checkpoints": recent_checkpoints(session), "charts": charts, "districts": districts,
        "district": district, "refresh_ms": round(settings.console_refresh_s * 1000),
    })


@router.get("/console/health")
def console_health(
    request: Request, principal: Overseer, session: SessionDep, settings: SettingsDep,
    district: DistrictParam = None,
) -> HTMLResponse:
    """The console's live part as an HTML fragment (401 anonymous, 403 other roles), fetched by console.js."""
    response = render(request, "_console_live.html", _live_context(session, principal, district, settings))
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/console/export", response_class=FileResponse)
def console_export(
    request: Request, principal: Overseer, session: SessionDep,
    date_from: Annotated[date, Query(alias="from")], date_to: Annotated[date, Query(alias="to")],
    site: Annotated[str | None, Query(max_length=64)] = None,
) -> FileResponse:
    """Stream the audit bundle (contract §3) of ``[from, to]`` as .tar.gz; regulators export one site of theirs."""
    site = site or None
    if site is None and principal.role != "admin":
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "choose a site of your district to export")
    if site is not None and not can_see_site(session, principal, site):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"site {site!r} not found")
    scratch = Path(tempfile.mkdtemp(prefix="kj-export-"))
    name = f"kuaijian-{site or 'all'}-{date_from}-{date_to}"
    try:
        count = export_bundle(request.app.state.engine, scratch / name, date_from, date_to, site, as_tar=True)
    except ExportError as exc:
        shutil.rmtree(scratch, ignore_errors=True)
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    audit_log.append(session, principal.actor, "console.export", f"bundle:{name}",
                     {"from": date_from.isoformat(), "to": date_to.isoformat(), "site": site, "envelopes": count})
    session.commit()
    return FileResponse(scratch / f"{name}.tar.gz", media_type="application/gzip", filename=f"{name}.tar.gz",
                        background=BackgroundTask(shutil.rmtree, scratch, ignore_errors=True))
