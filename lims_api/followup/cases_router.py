"""Positive cases: list, read and act on them (managers of the site, regulators of its district, admin)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from lims_api.core.deps import SessionDep
from lims_api.core.errors import CaseError
from lims_api.core.models import utc_now
from lims_api.core.schemas import RowIdPath
from lims_api.people.auth import Principal, can_see_site, visible_sites
from lims_api.people.deps import require

from . import cases
from .models import Case
from .schemas import CaseActionIn, CaseEventOut, CaseOut, CasesResponse

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])
CaseStaff = Annotated[Principal, Depends(require("manager", "regulator", "admin"))]


def _out(session: Session, case: Case, with_events: bool) -> CaseOut:
    events = [
        CaseEventOut(at=e.at, actor=e.actor, action=e.action, from_state=e.from_state, to_state=e.to_state,
                     details=json.loads(e.details))
        for e in (cases.case_events(session, case.id) if with_events else [])
    ]
    return CaseOut(
        id=case.id, result_id=case.result_id, site_id=case.site_id, state=case.state, opened_at=case.opened_at,
        vendor_notified_at=case.vendor_notified_at, retest_deadline=case.retest_deadline,
        lab_outcome=case.lab_outcome, lab_report_ref=case.lab_report_ref, disposition=case.disposition,
        overdue=cases.is_overdue(case, utc_now()), events=events,
    )


def _visible_case(session: Session, principal: Principal, case_id: int, lock: bool = False) -> Case:
    case = session.get(Case, case_id, with_for_update=lock)
    if case is None or not can_see_site(session, principal, case.site_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"case {case_id} not found")
    return case


@router.get("", response_model=CasesResponse)
def list_cases(
    principal: CaseStaff, session: SessionDep, state: str | None = None, overdue: bool | None = None,
    site: str | None = None,
) -> CasesResponse:
    """Cases in the caller's scope, newest first; ``overdue=true`` lists only overdue ones."""
    query = select(Case).order_by(Case.id.desc())
    scope = visible_sites(session, principal)
    if scope is not None:
        query = query.where(Case.site_id.in_(sorted(scope)))
    if state is not None:
        query = query.where(Case.state == state)
    if site is not None:
        query = query.where(Case.site_id == site)
    now = utc_now()
    found = [c for c in session.scalars(query) if overdue is None or cases.is_overdue(c, now) == overdue]
    return CasesResponse(cases=[_out(session, c, with_events=False) for c in found])


@router.get("/{case_id}", response_model=CaseOut)
def read_case(case_id: RowIdPath, principal: CaseStaff, session: SessionDep) -> CaseOut:
    """One case with its full event history."""
    return _out(session, _visible_case(session, principal, case_id), with_events=True)


@router.post("/{case_id}/actions", response_model=CaseOut, responses={409: {"description": "illegal step"}})
def act(case_id: RowIdPath, body: CaseActionIn, principal: CaseStaff, session: SessionDep) -> CaseOut:
    """Take one step of the case workflow (see ``cases.TRANSITIONS``)."""
    case = _visible_case(session, principal, case_id, lock=True)  # concurrent steps wait their turn
    inputs = body.model_dump(exclude={"action"})
    try:
        cases.act(session, case, body.action, principal.role, principal.actor, inputs, utc_now())
    except CaseError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except PermissionError as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
    session.commit()
    return _out(session, case, with_events=True)
