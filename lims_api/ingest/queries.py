"""Read-side queries over stored envelopes, shared by the JSON API and the pages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, case, select
from sqlalchemy.orm import Session

from .models import StoredEnvelope


def find_results(
    session: Session,
    *,
    site: str | None = None,
    tested_date: date | None = None,
    verdict: str | None = None,
    trace_code: str | None = None,
    within_sites: frozenset[str] | None = None,
    published_only: bool = False,
    limit: int = 100,
) -> Sequence[StoredEnvelope]:
    """Stored envelopes matching every given filter, newest test first; ``within_sites`` is the caller's scope.

    ``published_only`` keeps sample results only (what the public notice shows), not QC control runs.
    """
    query = select(StoredEnvelope)
    if published_only:
        query = query.where(StoredEnvelope.qc_control == "sample")
    if within_sites is not None:
        query = query.where(StoredEnvelope.site_id.in_(sorted(within_sites)))
    if trace_code is not None:
        query = query.where(StoredEnvelope.trace_code == trace_code)
    if site is not None:
        query = query.where(StoredEnvelope.site_id == site)
    if tested_date is not None:
        query = query.where(StoredEnvelope.tested_date == tested_date)
    if verdict is not None:
        query = query.where(StoredEnvelope.verdict == verdict)
    query = query.order_by(
        StoredEnvelope.tested_at.desc(), StoredEnvelope.gateway_id, StoredEnvelope.seq
    ).limit(limit)
    return session.scalars(query).all()


def site_day(session: Session, site: str, day: date) -> Sequence[StoredEnvelope]:
    """One site's results of one local day: positive samples first (not positive controls), then newest first."""
    positive_sample = and_(StoredEnvelope.verdict == "positive", StoredEnvelope.qc_control == "sample")
    positives_first = case((positive_sample, 0), else_=1)
    return session.scalars(
        select(StoredEnvelope)
        .where(StoredEnvelope.site_id == site, StoredEnvelope.tested_date == day)
        .order_by(positives_first, StoredEnvelope.tested_at.desc(), StoredEnvelope.gateway_id, StoredEnvelope.seq)
    ).all()


def result_object(row: StoredEnvelope) -> dict[str, Any]:
    """The ``result`` member exactly as it is in the stored envelope text."""
    result: dict[str, Any] = json.loads(row.raw_text)["result"]
    return result
