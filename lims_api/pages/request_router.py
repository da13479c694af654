"""你点我检 pages: the staff queue (``/requests``: assign, reject, close with a result) and the public
status page a resident follows (``/public/requests/{id}``).

Form posts mirror the API (``/api/v1/requests/{id}/triage`` and ``/close``) with the same rules
(``followup.public_requests``) and return to the queue, or show it again with the reason in the
reader's language.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from lims_api.core.deps import SessionDep
from lims_api.core.errors import RequestError
from lims_api.core.models import utc_now
from lims_api.followup import public_requests as desk
from lims_api.followup.schemas import TriageIn
from lims_api.people.auth import Principal, can_see_site
from lims_api.people.deps import PrincipalDep

from .forms import say_coded
from .i18n import pick_lang, translator
from .render import not_found, render, to_login
from .request_view import queue_view, status_view

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse, include_in_schema=False)
STAFF = frozenset({"technician", "manager", "regulator", "admin"})
TRIAGERS = frozenset({"manager", "regulator", "admin"})
DONE = ("assign", "reject", "close")


def _queue(request: Request, session: Any, principal: Principal, *, error: str | None = None,
           done: str | None = None, status_code: int = 200) -> HTMLResponse:
    view = queue_view(session, principal, request.query_params.get("status") == "all")
    return render(request, "requests.html", {"view": view, "error": error, "done": done}, status_code=status_code)


@router.get("/requests", response_model=None)
def request_queue(request: Request, principal: PrincipalDep, session: SessionDep,
                  done: str | None = None) -> HTMLResponse | RedirectResponse:
    """Requests in the caller's scope with the step each one waits for."""
    if principal.role == "public":
        return to_login(request)
    if principal.role not in STAFF:
        return not_found(request)
    return _queue(request, session, principal, done=done if done in DONE else None)


def _say(request: Request, exc: RequestError) -> str:
    t = translator(pick_lang(request))
    return say_coded(t, exc, "err.request", lambda name, value: t(f"request.status.{value}") if name == "status"
                     else str(value))


def _refused(request: Request, session: Any, principal: Principal, message: str, code: int) -> HTMLResponse:
    session.rollback()
    return _queue(request, session, principal, error=message, status_code=code)


@router.post("/requests/{request_id}/triage", response_model=None)
async def triage_form(request: Request, request_id: int, principal: PrincipalDep,
                      session: SessionDep) -> HTMLResponse | RedirectResponse:
    """Assign (to a site in scope) or reject a new request."""
    if principal.role == "public":
        return to_login(request)
    form = await request.form()
    row = desk.visible_request(session, principal, request_id, lock=True) if principal.role in TRIAGERS else None
    if row is None:
        return not_found(request)
    t = translator(pick_lang(request))
    try:
        body = TriageIn(decision=form.get("decision"), site_id=form.get("site_id") or None,
                        note=form.get("note") or None)
    except ValidationError:
        return _refused(request, session, principal, t("err.request.site"), 422)
    if body.site_id is not None and not can_see_site(session, principal, body.site_id):
        return _refused(request, session, principal, t("err.request.site"), 422)
    try:
        desk.triage(session, row, principal, body)
    except RequestError as exc:
        return _refused(request, session, principal, _say(request, exc), 409)
    session.commit()
    return RedirectResponse(f"/requests?done={body.decision}", status_code=303)


@router.post("/requests/{request_id}/close", response_model=None)
async def close_form(request: Request, request_id: int, principal: PrincipalDep,
                     session: SessionDep) -> HTMLResponse | RedirectResponse:
    """Close an assigned request with a result of its site and product (chosen or typed)."""
    if principal.role == "public":
        return to_login(request)
    form = await request.form()
    row = desk.visible_request(session, principal, request_id, lock=True) if principal.role in STAFF else None
    if row is None or row.assigned_site_id is None or not can_see_site(session, principal, row.assigned_site_id):
        return not_found(request)
    result_id = str(form.get("result_id_typed") or form.get("result_id") or "").strip()
    if not result_id or len(result_id) > 100:
        return _refused(request, session, principal, translator(pick_lang(request))("request.err.result_id"), 422)
    try:
        desk.close(session, row, principal, result_id, utc_now())
    except RequestError as exc:
        return _refused(request, session, principal, _say(request, exc), 409)
    session.commit()
    return RedirectResponse("/requests?done=close", status_code=303)


@router.get("/public/requests/{request_id}")
def request_status(request: Request, request_id: int, session: SessionDep) -> HTMLResponse:
    """Anyone with the number: the request's status and, once tested, the published fields of its result."""
    view = status_view(session, request_id)
    if view is None:
        return render(request, "request_status.html", {"view": None}, status_code=404)
    return render(request, "request_status.html", {"view": view})
