"""The flagged view: per site and day, how many results carry which flag, and each flagged result."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from lims_api.ingest.models import StoredEnvelope

from .models import EvidenceFile, ResultEvidence, ResultFlag


class FlagOut(BaseModel):
    source: str
    code: str
    detail: str | None


class EvidenceOut(BaseModel):
    kind: str
    sha256: str
    taken_at: str | None
    media_type: str | None
    received: bool
    """True once the image itself reached the LIMS and matched its hash."""


class FlaggedResult(BaseModel):
    gateway: str
    seq: int
    result_id: str
    tested_at: datetime
    instrument_id: str
    channel: str | None
    item: str
    sample_name: str | None
    stall: str | None
    verdict: str
    value: float | None
    unit: str
    flags: list[FlagOut]
    evidence: list[EvidenceOut]


class FlaggedDay(BaseModel):
    site_id: str
    day: date
    counts: dict[str, int]
    """flag code -> number of results of the day carrying it."""
    results: list[FlaggedResult]


def flagged_day(session: Session, site_id: str, day: date) -> FlaggedDay:
    """Two queries: the day's flagged envelopes with their flags, then their evidence."""
    rows = session.execute(
        select(StoredEnvelope, ResultFlag)
        .join(ResultFlag, ResultFlag.envelope_id == StoredEnvelope.id)
        .where(StoredEnvelope.site_id == site_id, StoredEnvelope.tested_date == day)
        .order_by(StoredEnvelope.tested_at, StoredEnvelope.id, ResultFlag.id)
    ).all()
    envelopes: dict[int, StoredEnvelope] = {}
    flags: dict[int, list[FlagOut]] = {}
    for envelope, flag in rows:
        envelopes[envelope.id] = envelope
        flags.setdefault(envelope.id, []).append(FlagOut(source=flag.source, code=flag.code, detail=flag.detail))
    evidence: dict[int, list[EvidenceOut]] = {}
    if envelopes:
        for entry, received in session.execute(
            select(ResultEvidence, EvidenceFile.sha256)
            .outerjoin(EvidenceFile, EvidenceFile.sha256 == ResultEvidence.sha256)
            .where(ResultEvidence.envelope_id.in_(envelopes))
        ).all():
            evidence.setdefault(entry.envelope_id, []).append(EvidenceOut(
                kind=entry.kind, sha256=entry.sha256, taken_at=entry.taken_at, media_type=entry.media_type,
                received=received is not None))
    counts = Counter(code for items in flags.values() for code in {f.code for f in items})
    results = [FlaggedResult(
        gateway=e.gateway_id, seq=e.seq, result_id=e.result_id, tested_at=e.tested_at, instrument_id=e.instrument_id,
        channel=e.channel, item=e.item, sample_name=e.sample_name, stall=e.stall, verdict=e.verdict, value=e.value,
        unit=e.unit, flags=flags[e.id], evidence=evidence.get(e.id, [])) for e in envelopes.values()]
    return FlaggedDay(site_id=site_id, day=day, counts=dict(sorted(counts.items())), results=results)
