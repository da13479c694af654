"""Daily checkpoints: Merkle root over the envelopes stored on one LIMS-local day, signed by the LIMS.

"Day" is the local date of ``stored_at`` in ``settings.timezone`` (Asia/Shanghai by default):
the LIMS's own clock, which no gateway controls. Leaves are ordered by gateway id (byte order),
then seq. A checkpoint made after its day ended is final: it is never rewritten, and a later
run recomputes it and raises ``CheckpointMismatch`` if stored envelopes changed since.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from protocols.checkpoint import StoredLeaf, build_checkpoint, covers, root_hex
from protocols.envelope import canonical

from lims_api.core.errors import CheckpointMismatch
from lims_api.ingest.models import StoredEnvelope

from . import audit_log
from .models import Checkpoint
from .signing_key import register_key


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the local ``day`` as aware datetimes."""
    start = datetime.combine(day, time(), zone)
    return start, datetime.combine(day + timedelta(days=1), time(), zone)


def day_leaves(session: Session, day: date, zone: ZoneInfo) -> list[StoredLeaf]:
    """The envelopes stored on ``day``, ordered by (gateway, seq)."""
    start, end = day_bounds(day, zone)
    rows = session.execute(
        select(StoredEnvelope.gateway_id, StoredEnvelope.seq, StoredEnvelope.hash)
        .where(StoredEnvelope.stored_at >= start, StoredEnvelope.stored_at < end)
    ).all()
    leaves = [StoredLeaf(r.gateway_id, r.seq, r.hash) for r in rows]
    return sorted(leaves, key=lambda leaf: (leaf.gateway.encode(), leaf.seq))


def _check_still_holds(existing: Checkpoint, leaves: list[StoredLeaf]) -> None:
    """Every envelope an earlier checkpoint covered must still be stored, unchanged (and, once final, no more)."""
    ranges = json.loads(existing.document)["ranges"]
    covered = [leaf for leaf in leaves if covers(ranges, leaf.gateway, leaf.seq)]
    root = root_hex(leaf.hash for leaf in covered)
    extra = existing.final and len(leaves) != len(covered)
    if len(covered) != existing.count or root != existing.merkle_root or extra:
        raise CheckpointMismatch(
            f"day {existing.day}: the stored envelopes ({len(covered)} covered, root {root}) no longer match its "
            f"checkpoint ({existing.count}, root {existing.merkle_root})"
        )


@dataclass(frozen=True)
class CheckpointRun:
    """What one ``make_checkpoint`` call did for a day."""

    day: date
    outcome: str
    """``created``, ``refreshed``, ``unchanged`` (final and still matching)."""
    count: int
    merkle_root: str


def make_checkpoint(
    session: Session, day: date, key: Ed25519PrivateKey, zone: ZoneInfo, now: datetime
) -> CheckpointRun:
    """Create or refresh the checkpoint of ``day``; a final one is only re-checked."""
    leaves = day_leaves(session, day, zone)
    root = root_hex(leaf.hash for leaf in leaves)
    existing = session.get(Checkpoint, day, with_for_update=True)
    if existing is not None:
        _check_still_holds(existing, leaves)
        if existing.final:
            return CheckpointRun(day, "unchanged", existing.count, existing.merkle_root)
    register_key(session, key)
    _, head_hash = audit_log.head(session)
    document = build_checkpoint(day, leaves, head_hash, now.isoformat(timespec="milliseconds"), key)
    final = now >= day_bounds(day, zone)[1]
    text = canonical(document).decode("utf-8")
    if existing is None:
        session.add(Checkpoint(day=day, document=text, merkle_root=root, count=len(leaves), created_at=now,
                               final=final))
    else:
        existing.document, existing.merkle_root, existing.count = text, root, len(leaves)
        existing.created_at, existing.final = now, final
    outcome = "created" if existing is None else "refreshed"
    audit_log.append(session, "system:checkpoint", f"checkpoint.{outcome}", f"day:{day}",
                     {"count": len(leaves), "merkle_root": root, "final": final})
    return CheckpointRun(day, outcome, len(leaves), root)


def days_to_checkpoint(session: Session, zone: ZoneInfo, today: date) -> list[date]:
    """Every local day from the first stored envelope to ``today`` (empty days get an empty checkpoint)."""
    first = session.scalar(select(func.min(StoredEnvelope.stored_at)))
    if first is None:
        return [today]
    start = first.astimezone(zone).date()
    return [start + timedelta(days=n) for n in range((today - start).days + 1)]


def run_checkpoints(
    session: Session, key: Ed25519PrivateKey, zone: ZoneInfo, now: datetime, day: date | None = None
) -> list[CheckpointRun]:
    """Checkpoint ``day`` or every day so far, committing each one; mismatches raise after the others ran."""
    runs: list[CheckpointRun] = []
    failures: list[str] = []
    days = [day] if day is not None else days_to_checkpoint(session, zone, now.astimezone(zone).date())
    for each in days:
        try:
            runs.append(make_checkpoint(session, each, key, zone, now))
            session.commit()
        except CheckpointMismatch as exc:
            session.rollback()
            audit_log.append(session, "system:checkpoint", "checkpoint.mismatch", f"day:{each}", {"error": str(exc)})
            session.commit()
            failures.append(str(exc))
    if failures:
        raise CheckpointMismatch("; ".join(failures))
    return runs
