"""你点我检 as pages show it: the staff queue with the results that could answer each request, and the
public status of one request with its answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims_api.followup.models import TestRequest
from lims_api.followup.public_requests import queue, same_product
from lims_api.ingest.models import Site, StoredEnvelope
from lims_api.people.auth import Principal, visible_sites

from .views import SampleRow

CANDIDATES = 5
LOOKBACK = timedelta(days=2)
"""Results tested up to this long before the request still count as its answer's candidates."""


@dataclass(frozen=True)
class Candidate:
    """A stored sample result of the assigned site whose product matches the request."""

    result_id: str
    sample: SampleRow


@dataclass(frozen=True)
class QueueRow:
    request: TestRequest
    site_name: str
    assigned_name: str | None
    candidates: list[Candidate]


@dataclass(frozen=True)
class QueueView:
    rows: list[QueueRow]
    sites: list[Site]
    """Sites the caller may assign requests to."""
    can_triage: bool
    show_all: bool


def _candidates(session: Session, row: TestRequest) -> list[Candidate]:
    """Newest matching sample results of the assigned site since shortly before the request."""
    if row.status != "assigned" or row.assigned_site_id is None:
        return []
    query = (select(StoredEnvelope).where(StoredEnvelope.site_id == row.assigned_site_id,
                                          StoredEnvelope.qc_control == "sample",
                                          StoredEnvelope.tested_at >= row.created_at - LOOKBACK)
             .order_by(StoredEnvelope.id.desc()).limit(200))
    found = [s for s in session.scalars(query) if same_product(row.product, s.sample_name)]
    return [Candidate(s.result_id, SampleRow.from_stored(s)) for s in found[:CANDIDATES]]


def queue_view(session: Session, principal: Principal, show_all: bool) -> QueueView:
    """The caller's queue: open requests (new and assigned), or every request with ``show_all``."""
    rows = [r for r in queue(session, principal) if show_all or r.status in ("new", "assigned")]
    names = {s.id: s.name for s in session.scalars(select(Site))}
    scope = visible_sites(session, principal)
    sites = [s for s in session.scalars(select(Site).order_by(Site.id)) if scope is None or s.id in scope]
    return QueueView(
        rows=[QueueRow(r, names.get(r.site_id, r.site_id), names.get(r.assigned_site_id or ""),
                       _candidates(session, r)) for r in rows],
        sites=sites, can_triage=principal.role in ("manager", "regulator", "admin"), show_all=show_all)


@dataclass(frozen=True)
class PublicAnswer:
    """What a resident sees of the result that answered the request (the public fields only)."""

    product: str
    stall: str
    item: str
    verdict: str
    """``negative`` | ``positive`` | ``invalid``; pages word it 合格 / 不合格 / 无效 (``public.verdict.*``)."""
    date: str


@dataclass(frozen=True)
class StatusView:
    number: int
    product: str
    site_name: str
    status: str
    created_at: datetime
    answer: PublicAnswer | None


def status_view(session: Session, request_id: int) -> StatusView | None:
    """One request's public status, with its answer once closed; ``None`` when there is no such request."""
    row = session.get(TestRequest, request_id)
    if row is None:
        return None
    site = session.get(Site, row.assigned_site_id or row.site_id)
    answer = None
    if row.status == "closed" and row.result_id is not None:
        stored = session.scalar(select(StoredEnvelope).where(StoredEnvelope.result_id == row.result_id,
                                                             StoredEnvelope.site_id == row.assigned_site_id))
        if stored is not None:
            answer = PublicAnswer(stored.sample_name or "—", stored.stall or "—", stored.item, stored.verdict,
                                  stored.tested_date.isoformat())
    return StatusView(row.id, row.product, site.name if site else row.site_id, row.status, row.created_at, answer)
