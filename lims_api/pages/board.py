"""The market board's data: a site's day with positives first, their cases, counts by item, QC flags,
filters, and the full table one page at a time.

Counts come from grouped queries and the table from one page of rows (the stored envelope text is
never loaded), so a day of thousands of results renders in the time of a page of them.
``change_marker`` is the cheap "anything new?" probe the live event stream polls: the highest stored
envelope id of the site and the latest case update.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from lims_api.evidence.models import ResultFlag
from lims_api.followup.cases import is_overdue, next_actions
from lims_api.followup.models import Case
from lims_api.ingest.models import Site, StoredEnvelope

from .case_view import Window
from .paging import NEWEST_FIRST, Page
from .views import DayCounts, SampleRow

VERDICTS = ("positive", "negative", "invalid")
PAGE_SIZE = 100
MAX_POSITIVES = 100
"""Positives listed on top, newest first; more are reached with the table's 阳性 filter."""
QC_FLAGS = ("kit_expired", "unlabelled", "calibration_overdue")
"""Gateway flags the board shows beside a result, as the room page does (试剂过期, 未标记, 校准过期)."""


@dataclass(frozen=True)
class BoardFilters:
    """What the board's table is narrowed to; ``None`` means all."""

    verdict: str | None = None
    item: str | None = None
    instrument: str | None = None
    page: int = 1

    def conditions(self) -> list[object]:
        pairs = ((StoredEnvelope.verdict, self.verdict), (StoredEnvelope.item, self.item),
                 (StoredEnvelope.instrument_id, self.instrument))
        return [column == value for column, value in pairs if value is not None]

    def query(self, page: int | None = None) -> str:
        """The filters (and a page other than the first) as a query string (empty when none)."""
        pairs = [(k, v) for k, v in (("verdict", self.verdict), ("item", self.item),
                                     ("instrument", self.instrument)) if v]
        if page is not None and page > 1:
            pairs.append(("page", str(page)))
        return urlencode(pairs)


@dataclass(frozen=True)
class BoardRow:
    """One result line of the board, with its case when it is a positive sample."""

    id: int
    sample: SampleRow
    case_id: int | None
    case_state: str | None
    deadline: datetime | None
    overdue: bool
    window: Window | None = None
    actions: tuple[str, ...] = ()
    """Case steps the viewer may take now (one-click ones are offered on the board)."""
    flags: tuple[str, ...] = ()
    """``QC_FLAGS`` the gateway set on the result."""


@dataclass(frozen=True)
class ItemCount:
    item: str
    positive: int
    negative: int
    invalid: int

    @property
    def total(self) -> int:
        return self.positive + self.negative + self.invalid


@dataclass(frozen=True)
class BoardView:
    site: Site
    day: date
    counts: DayCounts
    by_item: list[ItemCount]
    positives: list[BoardRow]
    rows: list[BoardRow]
    """One page of the filtered table, newest first (the positives are also listed above it)."""
    page: Page
    items: list[str]
    instruments: list[str]
    last_id: int
    cases_stamp: str


def _day(site_id: str, day: date) -> list[object]:
    return [StoredEnvelope.site_id == site_id, StoredEnvelope.tested_date == day]


def _sample_tally(session: Session, site_id: str, day: date) -> tuple[DayCounts, list[ItemCount]]:
    """Counts of the day's samples (QC control runs are listed, not counted) overall and by item."""
    query = (select(StoredEnvelope.item, StoredEnvelope.verdict, func.count())
             .where(*_day(site_id, day), StoredEnvelope.qc_control == "sample")
             .group_by(StoredEnvelope.item, StoredEnvelope.verdict))
    tally: dict[str, dict[str, int]] = {}
    for item, verdict, count in session.execute(query):
        tally.setdefault(item, {}).setdefault(verdict, 0)
        tally[item][verdict] += count
    by_item = [ItemCount(i, v.get("positive", 0), v.get("negative", 0), v.get("invalid", 0)) for i, v in tally.items()]
    by_item.sort(key=lambda c: (-c.positive, c.item))
    totals = DayCounts(total=sum(c.total for c in by_item), positive=sum(c.positive for c in by_item),
                       negative=sum(c.negative for c in by_item), invalid=sum(c.invalid for c in by_item))
    return totals, by_item


def _stored(session: Session, conditions: list[object], limit: int, offset: int = 0) -> Sequence[StoredEnvelope]:
    """Newest first (``ix_envelopes_site_day_time`` walks the day in that order; no sort of the whole day)."""
    query = (select(StoredEnvelope).options(defer(StoredEnvelope.raw_text)).where(*conditions)
             .order_by(*NEWEST_FIRST).limit(limit).offset(offset))
    return session.scalars(query).all()


def _cases_of(session: Session, envelope_ids: Sequence[int]) -> dict[int, Case]:
    if not envelope_ids:
        return {}
    return {c.envelope_id: c for c in session.scalars(select(Case).where(Case.envelope_id.in_(envelope_ids)))}


def _flags_of(session: Session, envelope_ids: Sequence[int]) -> dict[int, set[str]]:
    if not envelope_ids:
        return {}
    found: dict[int, set[str]] = {}
    query = select(ResultFlag.envelope_id, ResultFlag.code).where(
        ResultFlag.envelope_id.in_(envelope_ids), ResultFlag.source == "gateway", ResultFlag.code.in_(QC_FLAGS))
    for envelope_id, code in session.execute(query):
        found.setdefault(envelope_id, set()).add(code)
    return found


def _rows(session: Session, stored: Sequence[StoredEnvelope], now: datetime, role: str) -> list[BoardRow]:
    ids = [r.id for r in stored]
    cases = _cases_of(session, [r.id for r in stored if r.verdict == "positive" and r.qc_control == "sample"])
    flags = _flags_of(session, ids)
    rows = []
    for stored_row in stored:
        found = cases.get(stored_row.id)
        rows.append(BoardRow(
            id=stored_row.id, sample=SampleRow.from_stored(stored_row), case_id=found.id if found else None,
            case_state=found.state if found else None, deadline=found.retest_deadline if found else None,
            overdue=found is not None and is_overdue(found, now), window=Window.of(found, now) if found else None,
            actions=tuple(next_actions(found, role, now)) if found else (),
            flags=tuple(code for code in QC_FLAGS if code in flags.get(stored_row.id, ()))))
    return rows


def _distinct(session: Session, column: object, site_id: str, day: date) -> list[str]:
    return list(session.scalars(select(column).where(*_day(site_id, day)).distinct().order_by(column)))


def board_view(session: Session, site: Site, day: date, filters: BoardFilters, now: datetime,
               role: str = "technician") -> BoardView:
    """Everything the board shows for ``site`` on local ``day`` to a viewer of ``role``."""
    counts, by_item = _sample_tally(session, site.id, day)
    positive = [*_day(site.id, day), StoredEnvelope.verdict == "positive", StoredEnvelope.qc_control == "sample"]
    conditions = [*_day(site.id, day), *filters.conditions()]
    total = session.scalar(select(func.count()).select_from(StoredEnvelope).where(*conditions)) or 0
    page = Page.of(filters.page, PAGE_SIZE, total)
    last_id, stamp = change_marker(session, site.id)
    return BoardView(
        site=site, day=day, counts=counts, by_item=by_item,
        positives=_rows(session, _stored(session, positive, MAX_POSITIVES), now, role),
        rows=_rows(session, _stored(session, conditions, PAGE_SIZE, page.offset), now, role), page=page,
        items=_distinct(session, StoredEnvelope.item, site.id, day),
        instruments=_distinct(session, StoredEnvelope.instrument_id, site.id, day),
        last_id=last_id, cases_stamp=stamp,
    )


def change_marker(session: Session, site_id: str) -> tuple[int, str]:
    """(highest stored envelope id of the site, latest case update as text): changes when the board would."""
    last_id = session.scalar(select(func.coalesce(func.max(StoredEnvelope.id), 0))
                             .where(StoredEnvelope.site_id == site_id))
    updated = session.scalar(select(func.max(Case.updated_at)).where(Case.site_id == site_id))
    return int(last_id or 0), updated.isoformat(timespec="microseconds") if updated is not None else ""
