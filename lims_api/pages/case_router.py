"""Case pages: a positive's case with its 4-hour window, history and the steps as form posts.

``GET /cases/{id}`` shows the case to managers of its site, regulators of its district and admins;
``POST /cases/{id}/actions`` takes one step (form fields of ``CaseActionIn``) and returns to
``next`` (the board or the case page), or shows the case again with the reason in the reader's
language (409 a rule, 422 a field, 403 a role).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from lims_api.core.deps import SessionDep, SettingsDep
from lims_api.core.errors import CaseError
from lims_api.core.models import utc_now
from lims_api.followup import cases
from lims_api.followup.models import Case
from lims_api.followup.schemas import CaseActionIn
from lims_api.people.auth import Principal, can_see_site
from lims_api.people.deps import PrincipalDep

from .case_view import case_view
from .forms import FormError, form_error_from, local_datetime, safe_next, say_coded, say_form_error
from .i18n import pick_lang, translator
from .render import not_found, render, to_login

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse, include_in_schema=False)
CASE_ROLES = frozenset({"manager", "regulator", "admin"})
FIELDS = ("notified_at", "requested_at", "lab_outcome", "lab_report_ref", "disposition", "note")


def _visible_case(session: Any, principal: Principal, case_id: int, lock: bool = False) -> Case | None:
    if principal.role not in CASE_ROLES:
        return None
    case = session.get(Case, case_id, with_for_update=lock)
    return case if case is not None and can_see_site(session, principal, case.site_id) else None


def _page(request: Request, session: Any, case: Case, principal: Principal, *, error: str | None = None,
          done: str | None = None, status_code: int = 200) -> HTMLResponse:
    view = case_view(session, case, principal.role, utc_now())
    back = safe_next(request.query_params.get("next"), f"/board/{case.site_id}")
    return render(request, "case.html", {"view": view, "error": error, "done": done, "back": back},
                  status_code=status_code)


@router.get("/cases/{case_id}", response_model=None)
def case_page(request: Request, case_id: int, principal: PrincipalDep, session: SessionDep,
              done: str | None = None) -> HTMLResponse | RedirectResponse:
    """One case: the result it is about, the window, the history and the steps the caller may take."""
    if principal.role == "public":
        return to_login(request)
    case = _visible_case(session, principal, case_id)
    if case is None:
        return not_found(request)
    return _page(request, session, case, principal, done=done if done in cases.TRANSITIONS_ACTIONS else None)


def _inputs(form: Any, timezone: str) -> CaseActionIn:
    raw = {name: (form.get(name) or None) for name in ("action", *FIELDS)}
    for name in ("notified_at", "requested_at"):
        raw[name] = local_datetime(raw[name], name, timezone)
    try:
        return CaseActionIn(**raw)
    except ValidationError as exc:
        raise form_error_from(exc) from None


def _show(zone: ZoneInfo, t: Any, code: str) -> Any:
    """How each ``CaseError`` parameter reads on the page (local times, state and step names)."""
    listed = "disposition" if code == "disposition" else "action"

    def show(name: str, value: Any) -> str:
        if isinstance(value, datetime):
            return value.astimezone(zone).strftime("%m-%d %H:%M")
        if name == "allowed":
            return "、".join(t(f"{listed}.{v}") for v in value) or t("none")
        if name in ("state", "action", "disposition"):
            return t(f"{'case' if name == 'state' else name}.{value}")
        return str(value)

    return show


@router.post("/cases/{case_id}/actions", response_model=None)
async def case_action(request: Request, case_id: int, principal: PrincipalDep, session: SessionDep,
                      settings: SettingsDep) -> HTMLResponse | RedirectResponse:
    """Take one case step from a form; back to ``next`` on success, the case page with the reason otherwise."""
    if principal.role == "public":
        return to_login(request)
    form = await request.form()
    case = _visible_case(session, principal, case_id, lock=True)
    if case is None:
        return not_found(request)
    t = translator(pick_lang(request))
    try:
        body = _inputs(form, settings.timezone)
        cases.act(session, case, body.action, principal.role, principal.actor,
                  body.model_dump(exclude={"action"}), utc_now())
    except FormError as exc:
        session.rollback()
        return _page(request, session, case, principal, error=say_form_error(t, exc), status_code=422)
    except CaseError as exc:
        session.rollback()
        message = say_coded(t, exc, "err.case", _show(ZoneInfo(settings.timezone), t, exc.code))
        return _page(request, session, case, principal, error=message, status_code=409)
    except PermissionError:
        session.rollback()
        message = t("err.case.role").format(action=t(f"action.{form.get('action')}"))
        return _page(request, session, case, principal, error=message, status_code=403)
    session.commit()
    target = safe_next(str(form.get("next") or ""), f"/cases/{case_id}")
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}done={body.action}" if target.startswith("/cases/") else target,
                            status_code=303)
