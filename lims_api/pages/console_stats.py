"""Regulator console figures: open positive cases, daily checkpoints with their signature check, chart series."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from protocols.checkpoint import CheckpointError, verify_checkpoint_signature
from protocols.envelope import b64url_decode

from lims_api.audit.models import Checkpoint, SigningKey
from lims_api.followup.cases import OPEN_STATES, is_overdue
from lims_api.followup.models import Case
from lims_api.ingest.models import Site, StoredEnvelope

CHART_DAYS = 14


@dataclass(frozen=True)
class CaseLine:
    id: int
    site_name: str
    product: str
    item: str
    state: str
    opened_at: datetime
    deadline: datetime | None
    overdue: bool


@dataclass(frozen=True)
class CheckpointLine:
    day: date
    count: int
    root: str
    signature_ok: bool
    final: bool


def unclosed_cases(session: Session, site_ids: list[str], now: datetime, limit: int = 100) -> list[CaseLine]:
    """Cases not yet closed in these sites, overdue ones first, then newest."""
    rows = session.execute(
        select(Case, StoredEnvelope.sample_name, StoredEnvelope.item, Site.name)
        .join(StoredEnvelope, StoredEnvelope.id == Case.envelope_id).join(Site, Site.id == Case.site_id)
        .where(Case.site_id.in_(site_ids), Case.state != "closed").order_by(Case.opened_at.desc()).limit(limit)
    ).all()
    lines = [CaseLine(id=c.id, site_name=site, product=product or "—", item=item, state=c.state,
                      opened_at=c.opened_at, deadline=c.retest_deadline, overdue=is_overdue(c, now))
             for c, product, item, site in rows]
    return sorted(lines, key=lambda line: not line.overdue)


def case_totals(lines: list[CaseLine]) -> tuple[int, int]:
    """(open: held or re-test requested, overdue)."""
    return sum(line.state in OPEN_STATES for line in lines), sum(line.overdue for line in lines)


def _signature_ok(document: str, keys: dict[str, str]) -> bool:
    doc = json.loads(document)
    public = keys.get(doc.get("kid", ""))
    if public is None:
        return False
    try:
        verify_checkpoint_signature(doc, b64url_decode(public))
    except (CheckpointError, ValueError):
        return False
    return True


def recent_checkpoints(session: Session, limit: int = CHART_DAYS) -> list[CheckpointLine]:
    """The newest daily checkpoints, each signature checked against the stored LIMS key."""
    keys = {k.kid: k.public_key for k in session.scalars(select(SigningKey))}
    return [CheckpointLine(day=c.day, count=c.count, root=c.merkle_root, signature_ok=_signature_ok(c.document, keys),
                           final=c.final)
            for c in session.scalars(select(Checkpoint).order_by(Checkpoint.day.desc()).limit(limit))]


@dataclass(frozen=True)
class ChartSeries:
    positives_by_item: list[tuple[str, int]]
    positives_by_day: list[tuple[str, int]]
    tests_by_site: list[tuple[str, int]]


def chart_series(session: Session, sites: list[Site], today: date) -> ChartSeries:
    """Series of the last ``CHART_DAYS`` local test days in these sites (samples only, not QC runs)."""
    first = today - timedelta(days=CHART_DAYS - 1)
    in_range = (StoredEnvelope.site_id.in_([s.id for s in sites]), StoredEnvelope.tested_date.between(first, today),
                StoredEnvelope.qc_control == "sample")
    positive = StoredEnvelope.verdict == "positive"
    by_item = session.execute(select(StoredEnvelope.item, func.count()).where(*in_range, positive)
                              .group_by(StoredEnvelope.item).order_by(func.count().desc(), StoredEnvelope.item)).all()
    by_day = dict(session.execute(select(StoredEnvelope.tested_date, func.count()).where(*in_range, positive)
                                  .group_by(StoredEnvelope.tested_date)).all())
    by_site = dict(session.execute(select(StoredEnvelope.site_id, func.count()).where(*in_range)
                                   .group_by(StoredEnvelope.site_id)).all())
    days = [first + timedelta(days=n) for n in range(CHART_DAYS)]
    return ChartSeries(
        positives_by_item=[(item, int(n)) for item, n in by_item],
        positives_by_day=[(d.strftime("%m-%d"), int(by_day.get(d, 0))) for d in days],
        tests_by_site=sorted(((s.name, int(by_site.get(s.id, 0))) for s in sites), key=lambda p: -p[1]),
    )
