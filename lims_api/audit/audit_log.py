"""Tamper-evident audit log: append-only entries chained by SHA-256 over their JCS form.

Each entry is ``{seq, at, actor, action, subject, details, prev_hash}`` plus ``hash`` =
SHA-256(JCS(entry without hash)); ``prev_hash`` is the previous entry's hash (64 zeros
first). Appending first updates the one-row ``audit_head`` table, which serialises
appenders (row lock on PostgreSQL, write lock on SQLite) until the caller commits, so
the chain can never fork. Editing, deleting or reordering a committed entry breaks
``verify_audit_chain``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocols.envelope import canonical

from lims_api.core.driver_sql import fetch, insert_rows
from lims_api.core.models import utc_now_ms

from .models import AuditEntry, AuditHead

GENESIS_HASH = "0" * 64
HEAD_ID = 1
_ENTRIES = AuditEntry.__table__


def entry_hash(
    seq: int, at: datetime, actor: str, action: str, subject: str, details: dict[str, Any], prev_hash: str
) -> str:
    """Lowercase hex SHA-256 of the JCS form of the entry without ``hash``."""
    document = {
        "seq": seq,
        "at": at.isoformat(timespec="milliseconds"),
        "actor": actor,
        "action": action,
        "subject": subject,
        "details": details,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical(document)).hexdigest()


def append(
    session: Session, actor: str, action: str, subject: str, details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Add the next entry in the caller's transaction (commit makes it durable, rollback drops it).

    Three statements straight to the driver (the ingest opens a case, and so appends, per positive)."""
    details = details or {}
    moment = at if at is not None else utc_now_ms()
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    [(seq, prev_hash)] = fetch(session, "UPDATE audit_head SET seq = seq + 1 WHERE id = ? RETURNING seq, hash",
                               (HEAD_ID,))
    digest = entry_hash(seq, moment, actor, action, subject, details, prev_hash)
    insert_rows(session, _ENTRIES, [dict(seq=seq, at=moment, actor=actor, action=action, subject=subject,
                                         details=canonical(details).decode("utf-8"), prev_hash=prev_hash,
                                         hash=digest)])
    fetch(session, "UPDATE audit_head SET hash = ? WHERE id = ?", (digest, HEAD_ID))


def head(session: Session) -> tuple[int, str]:
    """(last seq, last hash) of the committed chain; (0, 64 zeros) when empty."""
    row = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID)).one()
    return int(row.seq), str(row.hash)


@dataclass(frozen=True)
class ChainCheck:
    """Outcome of ``verify_audit_chain``: entries checked and the first fault (``None`` when intact)."""

    entries: int
    fault: str | None

    @property
    def ok(self) -> bool:
        return self.fault is None


def check_entries(entries: Iterable[AuditEntry], head_seq: int, head_hash: str) -> ChainCheck:
    """Walk entries in seq order: consecutive seqs, links, recomputed hashes, and the head row."""
    expected_seq, prev = 1, GENESIS_HASH
    for count, entry in enumerate(entries):
        if entry.seq != expected_seq:
            return ChainCheck(count, f"seq {expected_seq} is missing (next entry has seq {entry.seq})")
        if entry.prev_hash != prev:
            return ChainCheck(count, f"seq {entry.seq}: prev_hash is not the hash of seq {entry.seq - 1}")
        recomputed = entry_hash(
            entry.seq, entry.at, entry.actor, entry.action, entry.subject, json.loads(entry.details), entry.prev_hash
        )
        if recomputed != entry.hash:
            return ChainCheck(count, f"seq {entry.seq}: content does not match its hash (entry was altered)")
        expected_seq, prev = entry.seq + 1, entry.hash
    checked = expected_seq - 1
    if checked != head_seq or prev != head_hash:
        return ChainCheck(checked, f"head says seq {head_seq} but the log ends at seq {checked} (entries removed?)")
    return ChainCheck(checked, None)


def verify_audit_chain(session: Session) -> ChainCheck:
    """Check the whole stored chain, streaming it in seq order."""
    head_seq, head_hash = head(session)
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=2000))
    return check_entries(rows, head_seq, head_hash)
