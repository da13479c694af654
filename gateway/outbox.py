"""Durable outbox: the gateway's hash-chained log of signed envelopes (SQLite).

Every result is sealed and committed here before the driver acks the instrument,
so ``synchronous=FULL`` is used: in WAL mode ``NORMAL`` may lose the last commits
on power loss, and a lost commit would mean a lost result *and* a reused seq.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from msgspec.structs import replace

from drivers.base import ReadingIdentity, raw_identity
from protocols.envelope import GENESIS_PREV, canonical, envelope_hash, seal
from protocols.result import TestResult
from protocols.signing import Signer

from .errors import OutboxError
from .outbox_file import open_outbox_db
from .outbox_schema import SCHEMA, immediate, upgrade

SOURCE_COUNTER_RESET_FLAG = "source_counter_reset"
"""qc flag of a reading whose source key was stored before with other raw bytes (counter reset or wrap)."""

Clock = Callable[[], datetime]
Prepare = Callable[[sqlite3.Connection, TestResult, int], TestResult]
"""``prepare(db, result, seq)``: last change to a result inside its append transaction (label binding)."""

_COLUMNS = "seq, result_id, source_key, envelope, hash, state, attempts, last_error"


@dataclass(frozen=True)
class StoredEnvelope:
    """One row of the outbox; ``text`` is the envelope's JCS form, sent as is."""

    seq: int
    result_id: str
    source_key: str | None
    text: str
    hash: str
    state: str = "pending"
    attempts: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class OutboxCounts:
    """Numbers for status pages and logs."""

    pending: int
    delivered: int
    rejected: int
    last_seq: int
    last_delivered_at: str | None


class Outbox:
    """One SQLite connection holding one gateway's chain; not thread-safe (use one loop)."""

    def __init__(self, path: str | Path, *, gateway_id: str, private_key: Signer, clock: Clock) -> None:
        self.path = Path(path)
        self.gateway_id = gateway_id
        self._key = private_key
        self._clock = clock
        self._db = open_outbox_db(self.path, self._initialise)
        try:
            self._initialise(self._db)
            upgrade(self._db)
        except sqlite3.Error as exc:
            self._db.close()
            raise OutboxError(f"{self.path}: cannot open outbox: {exc}") from exc

    def _initialise(self, db: sqlite3.Connection) -> None:
        """Tables (if missing) and the gateway id claim; runs on a new file before it is renamed into place."""
        db.executescript(SCHEMA)
        self._claim_gateway_id(db)

    def _claim_gateway_id(self, db: sqlite3.Connection) -> None:
        """Bind the file to one gateway id: another id would fork nobody's chain but reuse seqs."""
        db.execute("INSERT OR IGNORE INTO meta (name, value) VALUES ('gateway_id', ?)", (self.gateway_id,))
        (stored,) = db.execute("SELECT value FROM meta WHERE name = 'gateway_id'").fetchone()
        if stored != self.gateway_id:
            db.close()
            raise OutboxError(f"{self.path}: outbox belongs to gateway {stored!r}, not {self.gateway_id!r}")

    def close(self) -> None:
        """Close the connection (a WAL checkpoint happens on the last close)."""
        self._db.close()

    def append(self, result: TestResult, source_key: str | None, prepare: Prepare | None = None, *,
               identity: ReadingIdentity = raw_identity) -> StoredEnvelope | None:
        """Seal ``result`` as the next envelope and commit it; None if this reading is stored already.

        A reading is its source key *and* its content (``identity``, by default its raw bytes). The key
        names the reading at its instrument, kept per instrument (``<instrument id>/<source key>``) so two
        instruments whose keys coincide (an unset or copied serial) never take each other's readings for
        "already stored". The same key with the same content is the same reading offered again (a lost
        ack); the same key with other content is a new reading after the instrument's counter was reset
        or wrapped: it is stored and flagged ``source_counter_reset``.
        ``prepare`` runs in the same transaction, after the duplicate check, so what it writes
        commits or rolls back with the envelope and a known reading never reaches it.
        """
        if source_key is not None:
            source_key = f"{result.instrument.id}/{source_key}"
        with self.transaction() as db:
            if source_key is not None:
                same_key = [TestResult.from_wire(json.loads(text)["result"]) for (text,) in db.execute(
                    "SELECT envelope FROM envelopes WHERE source_key = ?", (source_key,))]
                if same_key:
                    reading = identity(result)
                    if any(identity(known) == reading for known in same_key):
                        return None
                    result = _flagged(result, SOURCE_COUNTER_RESET_FLAG)
            last = db.execute("SELECT seq, hash FROM envelopes ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS_PREV)
            if prepare is not None:
                result = prepare(db, result, seq)
            envelope = seal(self._key, gateway=self.gateway_id, seq=seq, prev=prev, result=result.to_wire())
            stored = StoredEnvelope(
                seq=seq,
                result_id=result.id,
                source_key=source_key,
                text=canonical(envelope).decode("utf-8"),
                hash=envelope_hash(envelope),
            )
            db.execute(
                "INSERT INTO envelopes (seq, result_id, source_key, envelope, hash, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (seq, stored.result_id, source_key, stored.text, stored.hash, self._now()),
            )
        return stored

    def pending(self, limit: int, *, after_seq: int = 0) -> list[StoredEnvelope]:
        """Up to ``limit`` pending envelopes with seq > ``after_seq``, oldest first."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM envelopes WHERE state = 'pending' AND seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        ).fetchall()
        return [StoredEnvelope(*row) for row in rows]

    def get(self, seq: int) -> StoredEnvelope | None:
        """The envelope at ``seq``, whatever its state."""
        row = self._db.execute(f"SELECT {_COLUMNS} FROM envelopes WHERE seq = ?", (seq,)).fetchone()
        return StoredEnvelope(*row) if row else None

    def mark_delivered(self, seqs: Iterable[int]) -> None:
        """Record that the LIMS holds these envelopes (stored or duplicate)."""
        now = self._now()
        self._write_many(
            "UPDATE envelopes SET state = 'delivered', delivered_at = ?, attempts = attempts + 1, last_error = NULL"
            " WHERE seq = ? AND state = 'pending'",
            [(now, seq) for seq in seqs],
        )

    def mark_rejected(self, seq: int, error: str) -> None:
        """Record that the LIMS refused this envelope for good; it is not sent again."""
        self._write_many(
            "UPDATE envelopes SET state = 'rejected', attempts = attempts + 1, last_error = ?"
            " WHERE seq = ? AND state = 'pending'",
            [(error, seq)],
        )

    def note_failed_attempt(self, seqs: Iterable[int], error: str) -> None:
        """Count an upload attempt that left these envelopes pending, and why."""
        self._write_many(
            "UPDATE envelopes SET attempts = attempts + 1, last_error = ? WHERE seq = ? AND state = 'pending'",
            [(error, seq) for seq in seqs],
        )

    def recent(self, limit: int, *, after_seq: int = 0) -> list[StoredEnvelope]:
        """Up to ``limit`` newest envelopes with seq > ``after_seq``, whatever their state, oldest first."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM envelopes WHERE seq > ? ORDER BY seq DESC LIMIT ?", (after_seq, limit),
        ).fetchall()
        return [StoredEnvelope(*row) for row in reversed(rows)]

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read-only statement on this connection (for stores sharing the file)."""
        return self._db.execute(sql, params).fetchall()

    def counts(self) -> OutboxCounts:
        """Pending/delivered/rejected counts, last seq and last delivery time."""
        return counts_of(self._db)

    def pending_count(self) -> int:
        """Number of pending envelopes (uses the partial index; cheap enough for every scrape)."""
        return int(self._db.execute("SELECT count(*) FROM envelopes WHERE state = 'pending'").fetchone()[0])

    def _write_many(self, sql: str, params: list[tuple[object, ...]]) -> None:
        with self.transaction() as db:
            db.executemany(sql, params)

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` if the block raises."""
        return immediate(self._db)

    def _now(self) -> str:
        return self._clock().isoformat(timespec="milliseconds")


def _flagged(result: TestResult, flag: str) -> TestResult:
    """``result`` with qc flag ``flag`` added once."""
    if flag in result.qc.flags:
        return result
    return replace(result, qc=replace(result.qc, flags=[*result.qc.flags, flag]))


COUNTS_BY_STATE = "SELECT state, count(*) FROM envelopes GROUP BY state"
LAST_DELIVERED_AT = "SELECT max(delivered_at) FROM envelopes WHERE state = 'delivered'"
"""Only delivered rows carry ``delivered_at``; both statements read the ``envelopes_state`` index."""


def counts_of(db: sqlite3.Connection) -> OutboxCounts:
    """Pending/delivered/rejected counts, last seq and last delivery time of an outbox database."""
    by_state = dict(db.execute(COUNTS_BY_STATE).fetchall())
    (last_seq,) = db.execute("SELECT coalesce(max(seq), 0) FROM envelopes").fetchone()
    (last_delivered_at,) = db.execute(LAST_DELIVERED_AT).fetchone()
    return OutboxCounts(
        pending=by_state.get("pending", 0),
        delivered=by_state.get("delivered", 0),
        rejected=by_state.get("rejected", 0),
        last_seq=last_seq,
        last_delivered_at=last_delivered_at,
    )


def read_counts(path: str | Path) -> OutboxCounts:
    """Counts of the outbox at ``path`` through a read-only connection (safe while the daemon runs)."""
    try:
        db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise OutboxError(f"{path}: cannot open outbox read-only: {exc}") from exc
    try:
        return counts_of(db)
    except sqlite3.Error as exc:
        raise OutboxError(f"{path}: cannot read outbox: {exc}") from exc
    finally:
        db.close()


def read_owner(path: str | Path) -> str | None:
    """Gateway id an existing outbox at ``path`` belongs to (read-only); ``None`` when there is no file yet."""
    if not Path(path).exists():
        return None
    try:
        db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT value FROM meta WHERE name = 'gateway_id'").fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise OutboxError(f"{path}: cannot read outbox: {exc}") from exc
    return None if row is None else str(row[0])
