"""A positive's case as its page shows it: the result (product, stall, item), the 4-hour window, history, steps."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from lims_api.followup import cases
from lims_api.followup.models import Case, CaseEvent
from lims_api.ingest.models import Site, StoredEnvelope

from .views import SampleRow


@dataclass(frozen=True)
class Window:
    """The vendor's re-test window (Food Safety Law art. 88): not started, running, over, or answered."""

    notified_at: datetime | None
    deadline: datetime | None
    minutes_left: int | None
    """Whole minutes until the deadline while it runs; ``None`` before notification or after it."""
    overdue: bool

    @classmethod
    def of(cls, case: Case, now: datetime) -> Window:
        left = None
        if case.retest_deadline is not None and case.retest_deadline > now:
            left = int((case.retest_deadline - now).total_seconds() // 60)
        return cls(case.vendor_notified_at, case.retest_deadline, left, cases.is_overdue(case, now))

    @property
    def left_text(self) -> str:
        """``3 小时 05 分``-style remaining time (digits and units; the template adds the words)."""
        if self.minutes_left is None:
            return ""
        hours, minutes = divmod(self.minutes_left, 60)
        return f"{hours}:{minutes:02d}"


@dataclass(frozen=True)
class EventLine:
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str
    details: dict[str, Any]


@dataclass(frozen=True)
class CaseView:
    case: Case
    site: Site
    sample: SampleRow
    result_id: str
    window: Window
    events: list[EventLine]
    actions: list[str]
    """Steps the viewer may take now (``cases.next_actions``)."""


def _events(session: Session, case_id: int) -> list[EventLine]:
    rows: list[CaseEvent] = cases.case_events(session, case_id)
    return [EventLine(e.at, e.actor, e.action, e.from_state, e.to_state, json.loads(e.details)) for e in rows]


def case_view(session: Session, case: Case, role: str, now: datetime) -> CaseView:
    """Everything the case page shows to a viewer of ``role``."""
    stored = session.get(StoredEnvelope, case.envelope_id)
    site = session.get(Site, case.site_id)
    assert stored is not None and site is not None  # foreign keys
    return CaseView(case=case, site=site, sample=SampleRow.from_stored(stored), result_id=case.result_id,
                    window=Window.of(case, now), events=_events(session, case.id),
                    actions=list(cases.next_actions(case, role, now)))
