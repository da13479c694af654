"""Opening the outbox file: a new one is created whole or not at all; a damaged or missing one is refused.

The gateway never starts an empty outbox in place of one that held a chain: a new chain would reuse seqs
the LIMS already holds. An empty file, a file that is not SQLite or fails ``PRAGMA quick_check``, and a
missing file whose status file shows a chain are errors naming the file and the recovery
(docs/durability.md, "Damaged or missing outbox").
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from .errors import OutboxError

STATUS_SUFFIX = ".status.json"
"""The daemon's status file sits next to the outbox: ``<outbox>.status.json``."""
RECOVERY = "see docs/durability.md, 'Damaged or missing outbox'"


def open_outbox_db(path: Path, initialise: Callable[[sqlite3.Connection], None]) -> sqlite3.Connection:
    """The outbox's connection (WAL, ``synchronous=FULL``); a missing file is made by ``initialise`` first."""
    if not path.exists():
        _refuse_lost_chain(path)
        _create(path, initialise)
    if path.stat().st_size == 0:
        raise OutboxError(f"{path}: the outbox is empty (0 bytes): truncated, not new; {RECOVERY}")
    try:
        db = _connect(path)
        (verdict,) = db.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise OutboxError(f"{path}: the outbox is damaged ({exc}); {RECOVERY}") from exc
    if verdict != "ok":
        db.close()
        raise OutboxError(f"{path}: the outbox is damaged (quick_check: {verdict}); {RECOVERY}")
    return db


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    return db


def _create(path: Path, initialise: Callable[[sqlite3.Connection], None]) -> None:
    """Initialise the outbox under a scratch name, then rename it into place (a crash leaves no half file)."""
    scratch = path.with_name(f".{path.name}.creating")
    for leftover in (scratch, scratch.with_name(scratch.name + "-wal"), scratch.with_name(scratch.name + "-shm")):
        leftover.unlink(missing_ok=True)
    try:
        db = _connect(scratch)
        try:
            initialise(db)
        finally:
            db.close()
        os.replace(scratch, path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except (sqlite3.Error, OSError) as exc:
        raise OutboxError(f"{path}: cannot create the outbox: {exc}") from exc


def _refuse_lost_chain(path: Path) -> None:
    """A missing outbox whose status file (or WAL) shows it held envelopes is lost, not new."""
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        raise OutboxError(f"{path}: the outbox is missing but its write-ahead log {wal.name} is there; {RECOVERY}")
    try:
        status = json.loads(path.with_name(path.name + STATUS_SUFFIX).read_text("utf-8"))
        last_seq = int(status.get("backlog", {}).get("last_seq", 0))
    except (OSError, ValueError, TypeError, AttributeError):
        return
    if last_seq > 0:
        raise OutboxError(f"{path}: the outbox is missing but its status file shows a chain up to seq {last_seq};"
                          f" {RECOVERY}")
