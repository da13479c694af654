"""Market board pages: a site's day for its staff, live over server-sent events.

``/board`` lists (or redirects to) the caller's sites; ``/board/{site}`` is the page;
``/board/{site}/live`` the part of it that changes (fetched again on each event);
``/board/{site}/events`` the ``text/event-stream``. A site outside the caller's scope is
the same 404 as an unknown one.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from lims_api.core.deps import SessionDep, SettingsDep
from lims_api.core.models import utc_now
from lims_api.core.schemas import INT64_MAX
from lims_api.ingest.models import Site
from lims_api.people.auth import Principal, can_see_site, visible_sites
from lims_api.people.deps import PrincipalDep

from .board import BoardFilters, VERDICTS, board_view, change_marker
from .render import not_found, render, to_login

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse, include_in_schema=False)
BOARD_ROLES = frozenset({"technician", "manager", "regulator", "admin"})
KEEPALIVE_S = 15.0
Optional = Annotated[str | None, Query(max_length=200)]
PageNumber = Annotated[int, Query(ge=1, le=100_000)]


def _today(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


def _filters(verdict: str | None, item: str | None, instrument: str | None, page: int) -> BoardFilters:
    return BoardFilters(verdict=verdict if verdict in VERDICTS else None, item=item or None,
                        instrument=instrument or None, page=page)


def _visible_site(session: Session, principal: Principal, site_id: str) -> Site | None:
    if principal.role not in BOARD_ROLES or not can_see_site(session, principal, site_id):
        return None
    return session.get(Site, site_id)


@router.get("/board", response_model=None)
def board_index(request: Request, principal: PrincipalDep, session: SessionDep) -> HTMLResponse | RedirectResponse:
    """The caller's sites; straight to the board when there is only one."""
    if principal.role == "public":
        return to_login(request)
    if principal.role not in BOARD_ROLES:
        return not_found(request)
    scope = visible_sites(session, principal)
    query = select(Site).order_by(Site.id)
    sites = session.scalars(query if scope is None else query.where(Site.id.in_(sorted(scope)))).all()
    if len(sites) == 1:
        return RedirectResponse(f"/board/{sites[0].id}", status_code=303)
    return render(request, "board_index.html", {"sites": sites})


@router.get("/board/{site_id}", response_model=None)
def board_page(
    request: Request, site_id: str, principal: PrincipalDep, session: SessionDep, settings: SettingsDep,
    verdict: Optional = None, item: Optional = None, instrument: Optional = None, page: PageNumber = 1,
) -> HTMLResponse | RedirectResponse:
    """Today's results of one site, positives on top with their case, live."""
    if principal.role == "public":
        return to_login(request)
    site = _visible_site(session, principal, site_id)
    if site is None:
        return not_found(request)
    filters = _filters(verdict, item, instrument, page)
    view = board_view(session, site, _today(settings.timezone), filters, utc_now(), principal.role)
    return render(request, "board.html", {"view": view, "filters": filters, "verdicts": VERDICTS})


@router.get("/board/{site_id}/live")
def board_live(
    request: Request, site_id: str, principal: PrincipalDep, session: SessionDep, settings: SettingsDep,
    verdict: Optional = None, item: Optional = None, instrument: Optional = None, page: PageNumber = 1,
) -> HTMLResponse:
    """The changing part of the board (counts, positives, table) as an HTML fragment."""
    site = _visible_site(session, principal, site_id)
    if site is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"site {site_id!r} not found")
    filters = _filters(verdict, item, instrument, page)
    view = board_view(session, site, _today(settings.timezone), filters, utc_now(), principal.role)
    return render(request, "_board_live.html", {"view": view, "filters": filters})


def _marker_from(last_event_id: str | None, since: int, cases: str) -> tuple[int, str]:
    """Where the client is: ``Last-Event-ID`` after a reconnect, else the page's own marker."""
    if last_event_id and ":" in last_event_id:
        head, _, stamp = last_event_id.partition(":")
        if head.isdigit() and int(head) <= INT64_MAX:
            return int(head), stamp
    return since, cases


@router.get("/board/{site_id}/events", response_class=StreamingResponse)
async def board_events(
    request: Request, site_id: str, principal: PrincipalDep, session: SessionDep, settings: SettingsDep,
    since: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0, cases: Annotated[str, Query(max_length=40)] = "",
    last_event_id: Annotated[str | None, Header(max_length=80)] = None,
) -> StreamingResponse:
    """``text/event-stream``: an ``change`` event whenever the site's results or cases change."""
    if await run_in_threadpool(_visible_site, session, principal, site_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"site {site_id!r} not found")
    session.close()  # the stream reads with short sessions of its own
    marker = _marker_from(last_event_id, since, cases)
    return StreamingResponse(_stream(request, site_id, marker, settings.board_poll_s, settings.event_stream_max_s),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _read_marker(request: Request, site_id: str) -> tuple[int, str]:
    with request.app.state.sessionmaker() as session:
        return change_marker(session, site_id)


async def _stream(request: Request, site_id: str, marker: tuple[int, str], poll_s: float,
                  max_s: float) -> AsyncIterator[str]:
    """Wake on the in-process notifier or every ``poll_s``; emit when the marker moved."""
    yield "retry: 1000\n\n"
    ends = time.monotonic() + max_s
    quiet_since = time.monotonic()
    with request.app.state.notifier.subscribe() as woken:
        while time.monotonic() < ends and not await request.is_disconnected():
            current = await run_in_threadpool(_read_marker, request, site_id)
            if current != marker:
                data = json.dumps({"last_id": current[0], "since": marker[0], "cases": current[1]})
                yield f"id: {current[0]}:{current[1]}\nevent: change\ndata: {data}\n\n"
                marker, quiet_since = current, time.monotonic()
            elif time.monotonic() - quiet_since > KEEPALIVE_S:
                yield ": keepalive\n\n"
                quiet_since = time.monotonic()
            try:
                await asyncio.wait_for(woken.wait(), timeout=poll_s)
            except TimeoutError:
                pass
            woken.clear()
