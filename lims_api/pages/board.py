"""The market board's data: a site's day with positives first, their cases, counts by item, filters.

``change_marker`` is the cheap "anything new?" probe the live event stream polls: the highest
stored envelope id of the site and the latest case update.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims_api.followup.cases import is_overdue, next_actions
from lims_api.followup.models import Case
from lims_api.ingest.models import Site, StoredEnvelope
from lims_api.ingest.queries import site_day

from .case_view import Window
from .views import DayCounts, SampleRow

VERDICTS = ("positive", "negative", "invalid")


@dataclass(frozen=True)
class BoardFilters:
    """What the board's table is narrowed to; ``None`` means all."""

    verdict: str | None = None
    item: str | None = None
    instrument: str | None = None

    def keeps(self, row: StoredEnvelope) -> bool:
        return (
            (self.verdict is None or row.verdict == self.verdict)
            and (self.item is None or row.item == self.item)
            and (self.instrument is None or row.instrument_id == self.instrument)
        )

    def query(self) -> str:
        """The filters as a query string (empty when none)."""
        pairs = [(k, v) for k, v in (("verdict", self.verdict), ("item", self.item),
                                     ("instrument", self.instrument)) if v]
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
    """The filtered table, positives first then newest first."""
    items: list[str]
    instruments: list[str]
    last_id: int
    cases_stamp: str


def _cases_of(session: Session, envelope_ids: Sequence[int]) -> dict[int, Case]:
    if not envelope_ids:
        return {}
    return {c.envelope_id: c for c in session.scalars(select(Case).where(Case.envelope_id.in_(envelope_ids)))}


def _row(stored: StoredEnvelope, case: Case | None, now: datetime, role: str) -> BoardRow:
    return BoardRow(
        id=stored.id, sample=SampleRow.from_stored(stored), case_id=case.id if case else None,
        case_state=case.state if case else None, deadline=case.retest_deadline if case else None,
        overdue=case is not None and is_overdue(case, now), window=Window.of(case, now) if case else None,
        actions=tuple(next_actions(case, role, now)) if case else (),
    )


def _by_item(rows: Sequence[StoredEnvelope]) -> list[ItemCount]:
    tally = Counter((r.item, r.verdict) for r in rows)
    items = sorted({r.item for r in rows}, key=lambda i: (-tally[(i, "positive")], i))
    return [ItemCount(i, tally[(i, "positive")], tally[(i, "negative")], tally[(i, "invalid")]) for i in items]


def board_view(session: Session, site: Site, day: date, filters: BoardFilters, now: datetime,
               role: str = "technician") -> BoardView:
    """Everything the board shows for ``site`` on local ``day`` to a viewer of ``role``."""
    stored = site_day(session, site.id, day)
    samples = [r for r in stored if r.qc_control == "sample"]  # QC control runs are listed, not counted
    cases = _cases_of(session, [r.id for r in samples if r.verdict == "positive"])
    rows = [_row(r, cases.get(r.id), now, role) for r in stored]
    last_id, stamp = change_marker(session, site.id)
    return BoardView(
        site=site, day=day, counts=DayCounts.of(r.verdict for r in samples), by_item=_by_item(samples),
        positives=[row for row in rows if row.sample.verdict == "positive" and not row.sample.control],
        rows=[row for row, r in zip(rows, stored, strict=True) if filters.keeps(r)],
        items=sorted({r.item for r in stored}), instruments=sorted({r.instrument_id for r in stored}),
        last_id=last_id, cases_stamp=stamp,
    )


def change_marker(session: Session, site_id: str) -> tuple[int, str]:
    """(highest stored envelope id of the site, latest case update as text): changes when the board would."""
    last_id = session.scalar(select(func.coalesce(func.max(StoredEnvelope.id), 0))
                             .where(StoredEnvelope.site_id == site_id))
    updated = session.scalar(select(func.max(Case.updated_at)).where(Case.site_id == site_id))
    return int(last_id or 0), updated.isoformat(timespec="microseconds") if updated is not None else ""
