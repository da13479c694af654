"""你点我检 over HTTP: public submission and status, staff triage, the technicians' queue, closing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from sqlalchemy.orm import Session

from lims_api.core.deps import SessionDep
from lims_api.core.errors import RequestError
from lims_api.core.models import utc_now
from lims_api.core.schemas import RowIdPath
from lims_api.people.auth import Principal, can_see_site
from lims_api.people.deps import require

from . import public_requests as desk
from .models import TestRequest
from .schemas import CloseRequestIn, PublicRequestIn, PublicRequestOut, RequestOut, RequestsResponse, TriageIn

router = APIRouter(prefix="/api/v1", tags=["requests"],
                   responses={409: {"description": "not allowed in the request's state"}})
Triagers = Annotated[Principal, Depends(require("manager", "regulator", "admin"))]
Staff = Annotated[Principal, Depends(require("technician", "manager", "regulator", "admin"))]


def _out(row: TestRequest) -> RequestOut:
    return RequestOut(
        id=row.id, product=row.product, site_id=row.site_id, status=row.status, created_at=row.created_at,
        result_id=row.result_id, note=row.note, assigned_site_id=row.assigned_site_id, triaged_by=row.triaged_by,
        triage_note=row.triage_note, closed_at=row.closed_at,
    )


def _visible(session: Session, principal: Principal, request_id: int) -> TestRequest:
    row = desk.visible_request(session, principal, request_id, lock=True)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"request {request_id} not found")
    return row


@router.post("/public/requests", response_model=PublicRequestOut, status_code=status.HTTP_201_CREATED,
             tags=["public"], responses={429: {"description": "more than 5 requests in an hour"}})
def submit(body: PublicRequestIn, request: Request, session: SessionDep) -> PublicRequestOut:
    """Propose a product to be tested at a market (no account needed; 5 per hour per client)."""
    address = request.client.host if request.client else "unknown"
    try:
        row = desk.submit(session, body, address, utc_now(), request.app.state.client_hash_key)
    except desk.RateLimited as exc:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(exc), headers={"Retry-After": "3600"}) from exc
    except RequestError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    session.commit()
    return PublicRequestOut.model_validate(_out(row).model_dump())


@router.get("/public/requests/{request_id}", response_model=PublicRequestOut, tags=["public"])
def public_status(request_id: RowIdPath, session: SessionDep) -> PublicRequestOut:
    """Status of a request and, once tested, its result id."""
    row = session.get(TestRequest, request_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"request {request_id} not found")
    return PublicRequestOut.model_validate(_out(row).model_dump())


@router.get("/requests", response_model=RequestsResponse)
def list_requests(
    principal: Staff, session: SessionDep, status_filter: Annotated[str | None, Query(alias="status")] = None
) -> RequestsResponse:
    """Requests in scope; for technicians, the queue of requests assigned to their sites."""
    return RequestsResponse(requests=[_out(r) for r in desk.queue(session, principal, status_filter)])


@router.post("/requests/{request_id}/triage", response_model=RequestOut)
def triage(request_id: RowIdPath, body: TriageIn, principal: Triagers, session: SessionDep) -> RequestOut:
    """Assign a request to a site in the caller's scope, or reject it."""
    row = _visible(session, principal, request_id)
    if body.site_id is not None and not can_see_site(session, principal, body.site_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"site {body.site_id!r} not found")
    try:
        desk.triage(session, row, principal, body)
    except RequestError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    session.commit()
    return _out(row)


@router.post("/requests/{request_id}/close", response_model=RequestOut)
def close(request_id: RowIdPath, body: CloseRequestIn, principal: Staff, session: SessionDep) -> RequestOut:
    """Close an assigned request with the result that answered it."""
    row = _visible(session, principal, request_id)
    if row.assigned_site_id is None or not can_see_site(session, principal, row.assigned_site_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"request {request_id} not found")
    try:
        desk.close(session, row, principal, body.result_id, utc_now())
    except RequestError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    session.commit()
    return _out(row)
