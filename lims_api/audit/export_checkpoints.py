"""The checkpoint part of an audit bundle: which signed checkpoints a (possibly filtered) export can carry.

A checkpoint goes into ``checkpoints.jsonl`` when every envelope of its ranges that is still
stored matches the export's filters. Envelopes removed from the database do not count
against that rule, so a deletion never hides its checkpoint: the verifier then finds the
envelope missing from the bundle and reports the day.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from protocols.bundle import LIMS_GATEWAY

from lims_api.ingest.models import StoredEnvelope

from .models import Checkpoint, SigningKey


def _stored_in(session: Session, ranges: list[list[Any]], filters: list[Any]) -> int:
    if not ranges:
        return 0
    in_ranges = or_(*(and_(StoredEnvelope.gateway_id == g, StoredEnvelope.seq.between(a, b)) for g, a, b in ranges))
    return int(session.scalar(select(func.count()).select_from(StoredEnvelope).where(in_ranges, *filters)) or 0)


def exportable_checkpoints(session: Session, filters: list[Any]) -> list[str]:
    """JCS lines of the checkpoints the export may carry, oldest day first."""
    lines = []
    for row in session.scalars(select(Checkpoint).order_by(Checkpoint.day)):
        ranges = json.loads(row.document)["ranges"]
        if not filters or _stored_in(session, ranges, []) == _stored_in(session, ranges, filters):
            lines.append(row.document)
    return lines


def lims_key_entries(session: Session, documents: list[str]) -> list[dict[str, Any]]:
    """keys.json entries (gateway ``"lims"``) for the keys that signed ``documents``."""
    kids = sorted({json.loads(doc)["kid"] for doc in documents})
    keys = session.scalars(select(SigningKey).where(SigningKey.kid.in_(kids)).order_by(SigningKey.kid))
    return [
        {"gateway": LIMS_GATEWAY, "kid": k.kid, "public_key": k.public_key,
         "valid_from": k.created_at.isoformat(timespec="milliseconds"), "revoked_at": None}
        for k in keys
    ]
