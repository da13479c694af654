"""你点我检: residents propose products to test; staff triage and assign them; technicians close them with a result.

Status: new ──assign──▶ assigned ──close(result_id)──▶ closed; new ──reject──▶ rejected.
Each change is audited. The rate limit counts a client's requests of the last hour in the
database, so it holds across worker processes.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims_api.audit import audit_log
from lims_api.core.errors import RequestError
from lims_api.ingest.models import Site, StoredEnvelope
from lims_api.people.auth import Principal

from .models import TestRequest
from .schemas import PublicRequestIn, TriageIn

RATE_LIMIT = 5
RATE_WINDOW = timedelta(hours=1)


class RateLimited(RequestError):
    """The client sent ``RATE_LIMIT`` requests within ``RATE_WINDOW`` already."""


def client_hash(address: str) -> str:
    """SHA-256 of the client address: enough to count, without keeping the address."""
    return hashlib.sha256(address.encode("utf-8")).hexdigest()


def submit(session: Session, body: PublicRequestIn, address: str, now: datetime) -> TestRequest:
    """Store a public request after the site check and the per-client rate limit."""
    site = session.get(Site, body.site_id)
    if site is None:
        raise RequestError(f"site {body.site_id!r} does not exist")
    who = client_hash(address)
    recent = session.scalar(
        select(func.count()).select_from(TestRequest)
        .where(TestRequest.client_hash == who, TestRequest.created_at > now - RATE_WINDOW)
    )
    if (recent or 0) >= RATE_LIMIT:
        raise RateLimited(f"at most {RATE_LIMIT} requests per hour from one client; try again later")
    request = TestRequest(product=body.product, site_id=body.site_id, note=body.note, client_hash=who,
                          status="new", created_at=now)
    session.add(request)
    session.flush()
    audit_log.append(session, "public", "request.submit", f"request:{request.id}",
                     {"product": body.product, "site_id": body.site_id})
    return request


def triage(session: Session, request: TestRequest, actor: Principal, body: TriageIn) -> TestRequest:
    """Assign a new request to a site (to be tested there) or reject it."""
    if request.status != "new":
        raise RequestError(f"request {request.id} is {request.status}, only new requests are triaged")
    if body.decision == "assign":
        if body.site_id is None or session.get(Site, body.site_id) is None:
            raise RequestError("assign needs the site_id of an existing site")
        request.status, request.assigned_site_id = "assigned", body.site_id
    else:
        request.status = "rejected"
    request.triaged_by, request.triage_note = actor.actor, body.note
    audit_log.append(session, actor.actor, f"request.{body.decision}", f"request:{request.id}",
                     {"site_id": body.site_id, "note": body.note})
    return request


def close(session: Session, request: TestRequest, actor: Principal, result_id: str, now: datetime) -> TestRequest:
    """Close an assigned request with the id of a result stored for its assigned site."""
    if request.status != "assigned":
        raise RequestError(f"request {request.id} is {request.status}, only assigned requests are closed")
    stored = session.scalar(
        select(StoredEnvelope.id).where(StoredEnvelope.result_id == result_id,
                                        StoredEnvelope.site_id == request.assigned_site_id)
    )
    if stored is None:
        raise RequestError(f"no result {result_id!r} is stored for site {request.assigned_site_id!r}")
    request.status, request.result_id, request.closed_at = "closed", result_id, now
    audit_log.append(session, actor.actor, "request.close", f"request:{request.id}", {"result_id": result_id})
    return request
