"""The public notice (公示) of a market: one day's published results, paged, with the handling of each
不合格 batch, a product search, and the six days before as counts.

Published are sample results with a verdict (阴性 → 合格, 阳性 → 不合格) and a product name. Invalid
runs (无效: no verdict, the sample is re-tested) and unlabelled results (no product to name) are not
rows; the page states how many there were. Only ``PublicRow`` fields reach the template: the stored
envelope text, which holds operator, supplier and barcode, is never loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from datetime import date, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from lims_api.followup.models import Case
from lims_api.ingest.models import StoredEnvelope

from .paging import NEWEST_FIRST, Page

RECENT_DAYS = 7
PAGE_SIZE = 200
VERDICTS = ("positive", "negative")
"""Verdicts that are published; ``invalid`` is not a result a resident can act on."""


@dataclass(frozen=True)
class PublicRow:
    """One line of the public board: only the published fields, and the batch's handling."""

    product: str
    stall: str
    item: str
    verdict: str
    date: str
    handling: str | None
    """Text key of the follow-up (``handling.held`` ...) for a 不合格 batch; ``None`` for 合格."""
    result_id: str
    """The result's public page (QR code) is ``/public/results/{result_id}``."""


@dataclass(frozen=True)
class NoticeCounts:
    passed: int
    failed: int
    invalid: int
    unlabelled: int

    @property
    def published(self) -> int:
        return self.passed + self.failed


@dataclass(frozen=True)
class NoticeView:
    day: date
    query: str
    counts: NoticeCounts
    rows: list[PublicRow]
    page: Page
    recent: list[tuple[date, NoticeCounts]]


def _labelled() -> object:
    return and_(StoredEnvelope.sample_name.is_not(None), func.trim(StoredEnvelope.sample_name) != "")


def _day_filter(site_id: str, first: date, last: date) -> list[object]:
    return [StoredEnvelope.site_id == site_id, StoredEnvelope.tested_date.between(first, last),
            StoredEnvelope.qc_control == "sample"]


def _counts(session: Session, site_id: str, first: date, last: date) -> dict[date, NoticeCounts]:
    """Per day: published 合格/不合格, invalid runs, unlabelled results — one grouped query."""
    labelled = case((_labelled(), 1), else_=0)
    query = (select(StoredEnvelope.tested_date, StoredEnvelope.verdict, labelled, func.count())
             .where(*_day_filter(site_id, first, last))
             .group_by(StoredEnvelope.tested_date, StoredEnvelope.verdict, labelled))
    tally: dict[date, dict[str, int]] = {}
    for day, verdict, is_labelled, count in session.execute(query):
        slot = tally.setdefault(day, {"positive": 0, "negative": 0, "invalid": 0, "unlabelled": 0})
        key = "invalid" if verdict == "invalid" else verdict if is_labelled else "unlabelled"
        slot[key] = slot.get(key, 0) + count
    return {day: NoticeCounts(t["negative"], t["positive"], t["invalid"], t["unlabelled"]) for day, t in tally.items()}


def _handling(case_row: Case | None) -> str:
    """What the public reads about a 不合格 batch, from its case."""
    if case_row is None:
        return "handling.pending"
    if case_row.disposition is not None:
        return f"handling.{case_row.disposition}"
    if case_row.lab_outcome is not None:
        return f"handling.lab_{case_row.lab_outcome}"
    return f"handling.{case_row.state}"


def _published(site_id: str, day: date, query: str) -> list[object]:
    conditions = [*_day_filter(site_id, day, day), StoredEnvelope.verdict.in_(VERDICTS), _labelled()]
    if query:
        conditions.append(or_(StoredEnvelope.sample_name.contains(query, autoescape=True),
                              StoredEnvelope.item.contains(query, autoescape=True)))
    return conditions


COLUMNS = (StoredEnvelope.id, StoredEnvelope.sample_name, StoredEnvelope.stall, StoredEnvelope.item,
           StoredEnvelope.verdict, StoredEnvelope.tested_date, StoredEnvelope.result_id)


def _slice(session: Session, conditions: list[object], offset: int, limit: int) -> list[Any]:
    """Rows ``offset`` .. ``offset + limit`` newest first (an index walk of the day, no sort of it)."""
    query = select(*COLUMNS).where(*conditions).order_by(*NEWEST_FIRST).offset(offset).limit(limit)
    return list(session.execute(query).all())


def notice_view(session: Session, site_id: str, day: date, query: str = "", page: int = 1) -> NoticeView:
    """The notice of ``day`` (rows matching ``query`` in product or item, one page) and the days before."""
    first = day - timedelta(days=RECENT_DAYS - 1)
    counts = _counts(session, site_id, first, day)
    conditions = _published(site_id, day, query)
    failing = [*conditions, StoredEnvelope.verdict == "positive"]
    passing = [*conditions, StoredEnvelope.verdict == "negative"]
    n_failing = session.scalar(select(func.count()).select_from(StoredEnvelope).where(*failing)) or 0
    n_passing = session.scalar(select(func.count()).select_from(StoredEnvelope).where(*passing)) or 0
    paging = Page.of(page, PAGE_SIZE, n_failing + n_passing)
    found = _slice(session, failing, paging.offset, PAGE_SIZE)  # 不合格 first, then 合格, newest first in each
    if len(found) < PAGE_SIZE:
        found += _slice(session, passing, max(0, paging.offset - n_failing), PAGE_SIZE - len(found))
    failed = [r.id for r in found if r.verdict == "positive"]
    cases = {c.envelope_id: c for c in session.scalars(select(Case).where(Case.envelope_id.in_(failed)))} if failed else {}
    rows = [PublicRow(product=r.sample_name, stall=r.stall or "—", item=r.item, verdict=r.verdict,
                      date=r.tested_date.isoformat(),
                      handling=_handling(cases.get(r.id)) if r.verdict == "positive" else None,
                      result_id=r.result_id)
            for r in found]
    empty = NoticeCounts(0, 0, 0, 0)
    recent = [(d, counts.get(d, empty)) for d in (day - timedelta(days=n) for n in range(1, RECENT_DAYS))]
    return NoticeView(day=day, query=query, counts=counts.get(day, empty), rows=rows, page=paging, recent=recent)
