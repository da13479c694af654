"""The outbox's SQLite schema and the one-time upgrades of files written by earlier versions.

``source_key`` is indexed, not UNIQUE: instruments reset and wrap their result counters, so one key
can name several readings (gateway.outbox tells them apart by their content).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

_ENVELOPES = """(
    seq INTEGER PRIMARY KEY,
    result_id TEXT NOT NULL,
    source_key TEXT,
    envelope TEXT NOT NULL,
    hash TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'rejected')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    delivered_at TEXT
)"""
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS envelopes {_ENVELOPES};
CREATE TABLE IF NOT EXISTS sample_labels (
    id INTEGER PRIMARY KEY,
    instrument TEXT NOT NULL,
    channel TEXT,
    label TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'bound', 'cancelled')),
    created_at TEXT NOT NULL,
    bound_seq INTEGER,
    bound_result_id TEXT,
    bound_key TEXT,
    bound_at TEXT
);
CREATE INDEX IF NOT EXISTS sample_labels_queued ON sample_labels (instrument, id) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS sample_labels_bound ON sample_labels (instrument, bound_key) WHERE state = 'bound';
"""
"""``sample_labels``: labels queued on the room page, bound in the append transaction (gateway.label_store)."""

_ENVELOPE_INDEXES = """
CREATE INDEX IF NOT EXISTS envelopes_pending ON envelopes (seq) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS envelopes_source_key ON envelopes (source_key) WHERE source_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS envelopes_state ON envelopes (state, delivered_at);
"""
"""``envelopes_state``: the status counts (every ``status_interval_s``, every heartbeat) read this small index,
not the envelopes' texts, so their cost does not grow with a backlog's bytes (docs/benchmarks.md, backlog drain)."""
_COPY_COLUMNS = "seq, result_id, source_key, envelope, hash, state, attempts, last_error, created_at, delivered_at"


def upgrade(db: sqlite3.Connection) -> None:
    """Bring a file of any earlier version to this schema, each step once, each in one transaction."""
    _scope_source_keys(db)
    _drop_unique_source_keys(db)
    db.executescript(_ENVELOPE_INDEXES)


def _scope_source_keys(db: sqlite3.Connection) -> None:
    """Keys stored before they were kept per instrument get their instrument prefix."""
    with immediate(db):
        if db.execute("SELECT 1 FROM meta WHERE name = 'source_keys'").fetchone() is None:
            db.execute("UPDATE envelopes SET source_key = json_extract(envelope, '$.result.instrument.id')"
                       " || '/' || source_key WHERE source_key IS NOT NULL")
            db.execute("INSERT INTO meta (name, value) VALUES ('source_keys', 'per_instrument')")


def _drop_unique_source_keys(db: sqlite3.Connection) -> None:
    """Files whose ``source_key`` was UNIQUE: copy the rows into a table without the constraint.

    SQLite cannot drop a UNIQUE constraint in place; the copy is one transaction, so a crash leaves
    the file as it was and the next open tries again.
    """
    if not any(unique and origin == "u" for _, _, unique, origin, _ in db.execute("PRAGMA index_list(envelopes)")):
        return
    with immediate(db):
        db.execute(f"CREATE TABLE envelopes_upgraded {_ENVELOPES}")
        db.execute(f"INSERT INTO envelopes_upgraded ({_COPY_COLUMNS}) SELECT {_COPY_COLUMNS} FROM envelopes")
        db.execute("DROP TABLE envelopes")
        db.execute("ALTER TABLE envelopes_upgraded RENAME TO envelopes")


@contextmanager
def immediate(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` if the block raises (autocommit connection)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
