"""The public notice (公示) of a market: a day's results and the six days before, published fields only.

Only ``PublicRow`` fields reach the template (product, stall, item, verdict, date): the stored
envelope text, which holds operator, supplier and barcode, is never handed to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from lims_api.ingest.models import StoredEnvelope

from .views import DayCounts, PublicRow, public_rows

RECENT_DAYS = 7


@dataclass(frozen=True)
class NoticeDay:
    day: date
    counts: DayCounts
    rows: list[PublicRow]


def notice_days(session: Session, site_id: str, last_day: date, days: int = RECENT_DAYS) -> list[NoticeDay]:
    """``days`` days ending at ``last_day``, newest first; each with its counts and rows (positives first)."""
    first_day = last_day - timedelta(days=days - 1)
    positives_first = case((StoredEnvelope.verdict == "positive", 0), else_=1)
    stored = session.scalars(
        select(StoredEnvelope)
        .where(StoredEnvelope.site_id == site_id, StoredEnvelope.tested_date.between(first_day, last_day),
               StoredEnvelope.qc_control == "sample")
        .order_by(StoredEnvelope.tested_date.desc(), positives_first, StoredEnvelope.tested_at.desc(),
                  StoredEnvelope.gateway_id, StoredEnvelope.seq)
    ).all()
    by_day: dict[date, list[StoredEnvelope]] = {}
    for row in stored:
        by_day.setdefault(row.tested_date, []).append(row)
    return [
        NoticeDay(day=day, counts=DayCounts.of(r.verdict for r in by_day.get(day, [])),
                  rows=public_rows(by_day.get(day, [])))
        for day in (last_day - timedelta(days=n) for n in range(days))
    ]
