"""你点我检: residents propose products to test; staff triage and assign them; technicians close them with a result.

Status: new ──assign──▶ assigned ──close(result_id)──▶ closed; new ──reject──▶ rejected. A request is
closed only with a sample result stored at its assigned site for the same product (``answer_of``).
Each change is audited. The rate limit counts a client's requests of the last hour in the
database, so it holds across worker processes.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from lims_api.audit import audit_log
from lims_api.core.errors import RequestError
from lims_api.ingest.models import Site, StoredEnvelope
from lims_api.people.auth import Principal, can_see_site, visible_sites

from .models import TestRequest
from .schemas import PublicRequestIn, TriageIn

RATE_LIMIT = 5
RATE_WINDOW = timedelta(hours=1)


class RateLimited(RequestError):
    """The client sent ``RATE_LIMIT`` requests within ``RATE_WINDOW`` already."""


def client_hash(address: str, key: bytes) -> str:
    """HMAC-SHA256 of the client address under the server's secret ``key``: enough to count requests from one
    client, and not reversible by trying the few billion addresses (an unkeyed hash would be)."""
    return hmac.new(key, address.encode("utf-8"), hashlib.sha256).hexdigest()


def visible_request(session: Session, principal: Principal, request_id: int, lock: bool = False) -> TestRequest | None:
    """The request if the caller's scope holds its named or its assigned site (else ``None``, like unknown)."""
    row = session.get(TestRequest, request_id, with_for_update=lock)
    sites = [s for s in (row.site_id, row.assigned_site_id) if s] if row is not None else []
    return row if row is not None and any(can_see_site(session, principal, s) for s in sites) else None


def queue(session: Session, principal: Principal, status: str | None = None) -> list[TestRequest]:
    """Requests in scope, oldest first; a technician's queue holds only requests assigned to its sites."""
    query = select(TestRequest).order_by(TestRequest.id)
    scope = visible_sites(session, principal)
    if principal.role == "technician":
        query = query.where(TestRequest.status == "assigned", TestRequest.assigned_site_id.in_(sorted(scope or ())))
    elif scope is not None:
        query = query.where(or_(TestRequest.site_id.in_(sorted(scope)), TestRequest.assigned_site_id.in_(sorted(scope))))
    if status is not None:
        query = query.where(TestRequest.status == status)
    return list(session.scalars(query))


def submit(session: Session, body: PublicRequestIn, address: str, now: datetime, key: bytes) -> TestRequest:
    """Store a public request after the site check and the per-client rate limit (clients told apart by
    ``client_hash(address, key)``)."""
    site = session.get(Site, body.site_id)
    if site is None:
        raise RequestError(f"site {body.site_id!r} does not exist")
    who = client_hash(address, key)
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
        raise RequestError(f"request {request.id} is {request.status}, only new requests are triaged",
                           "status", status=request.status)
    if body.decision == "assign":
        if body.site_id is None or session.get(Site, body.site_id) is None:
            raise RequestError("assign needs the site_id of an existing site", "site")
        request.status, request.assigned_site_id = "assigned", body.site_id
    else:
        request.status = "rejected"
    request.triaged_by, request.triage_note = actor.actor, body.note
    audit_log.append(session, actor.actor, f"request.{body.decision}", f"request:{request.id}",
                     {"site_id": body.site_id, "note": body.note})
    return request


def same_product(asked: str, tested: str | None) -> bool:
    """Whether a tested sample name answers a request for ``asked``: equal or one containing the other
    after NFKC, case folding and removing spaces (``韭菜`` answers ``韭菜（散装）`` and back)."""
    def norm(text: str) -> str:
        return "".join(unicodedata.normalize("NFKC", text).casefold().split())

    want, got = norm(asked), norm(tested or "")
    return bool(want and got) and (want in got or got in want)


def answer_of(session: Session, request: TestRequest, result_id: str) -> StoredEnvelope:
    """The stored result ``result_id`` if it can answer ``request``; ``RequestError`` says why not."""
    site = request.assigned_site_id
    stored = session.scalar(select(StoredEnvelope).where(StoredEnvelope.result_id == result_id,
                                                         StoredEnvelope.site_id == site))
    if stored is None:
        raise RequestError(f"no result {result_id!r} is stored for site {site!r}", "no_result",
                           result_id=result_id, site=site)
    if stored.qc_control != "sample":
        raise RequestError(f"result {result_id!r} is a QC control run, not a tested sample", "control",
                           result_id=result_id)
    if not same_product(request.product, stored.sample_name):
        raise RequestError(f"result {result_id!r} tested {stored.sample_name!r}, not the requested "
                           f"{request.product!r}", "other_product", result_id=result_id,
                           tested=stored.sample_name or "", product=request.product)
    return stored


def close(session: Session, request: TestRequest, actor: Principal, result_id: str, now: datetime) -> TestRequest:
    """Close an assigned request with a stored sample result of its assigned site and of the same product."""
    if request.status != "assigned":
        raise RequestError(f"request {request.id} is {request.status}, only assigned requests are closed",
                           "status", status=request.status)
    answer_of(session, request, result_id)
    request.status, request.result_id, request.closed_at = "closed", result_id, now
    audit_log.append(session, actor.actor, "request.close", f"request:{request.id}", {"result_id": result_id})
    return request
