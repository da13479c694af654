"""Queued sample labels (outbox table ``sample_labels``), consumed in the transaction storing the result.

Because a label is marked bound in the same SQLite transaction that appends the envelope, a crash
leaves either both (result stored, label bound) or neither; a re-read the outbox recognises by its
source key is refused before any label is looked at, so it cannot consume one.

Several results of one sample (an ASTM message with many items) share its label: a result with
the same instrument, channel, driver sample id and raw bytes as the one that consumed a label is
bound to that label again instead of consuming the next one.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from msgspec.structs import replace

from protocols.plausibility import MethodTiming, label_timing_flags
from protocols.result import TestResult

from .labels import SampleLabel, apply_label, channel_key
from .outbox import Outbox

TimingOf = Callable[[TestResult], MethodTiming | None]
"""The method timing that applies to a result (None: label timing is not checked)."""


@dataclass(frozen=True)
class QueuedLabel:
    """A label row as the room page lists it."""

    id: int
    created_at: str
    label: SampleLabel


def same_sample_key(result: TestResult) -> str:
    """Identity of "this sample in this instrument message": channel, driver sample id, raw bytes."""
    text = f"{channel_key(result.channel)}\x1f{result.sample.id}\x1f{result.raw.data}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class LabelBook:
    """The label queue of one gateway, stored in its outbox; use from the daemon's loop only."""

    def __init__(self, outbox: Outbox, clock: Callable[[], datetime], timing: TimingOf = lambda result: None) -> None:
        self._outbox = outbox
        self._clock = clock
        self._timing = timing

    def queue(self, label: SampleLabel) -> int:
        """Queue ``label`` behind the others of its instrument; returns its id."""
        with self._outbox.transaction() as db:
            cursor = db.execute(
                "INSERT INTO sample_labels (instrument, channel, label, created_at) VALUES (?, ?, ?, ?)",
                (label.instrument, channel_key(label.channel), label.to_json(), self._now()))
        return int(cursor.lastrowid or 0)

    def cancel(self, label_id: int) -> bool:
        """Withdraw a queued label; False if it is unknown or already bound."""
        with self._outbox.transaction() as db:
            cursor = db.execute("UPDATE sample_labels SET state = 'cancelled' WHERE id = ? AND state = 'queued'",
                                (label_id,))
        return cursor.rowcount == 1

    def queued(self) -> list[QueuedLabel]:
        """Every queued label, oldest first (the order they will bind in)."""
        rows = self._outbox.query(
            "SELECT id, created_at, label FROM sample_labels WHERE state = 'queued' ORDER BY id")
        return [QueuedLabel(row[0], row[1], SampleLabel.from_json(row[2])) for row in rows]

    def latest(self, instrument: str) -> SampleLabel | None:
        """The instrument's most recent label that was not cancelled (prefills operator and kit)."""
        rows = self._outbox.query(
            "SELECT label FROM sample_labels WHERE instrument = ? AND state != 'cancelled' ORDER BY id DESC LIMIT 1",
            (instrument,))
        return SampleLabel.from_json(rows[0][0]) if rows else None

    def bind(self, db: sqlite3.Connection, result: TestResult, seq: int) -> TestResult:
        """Inside the outbox's append transaction: the result with its label applied (or flagged)."""
        if result.qc.control != "sample":
            return result  # controls and blanks are not samples: they neither take a label nor need one
        instrument, key = result.instrument.id, same_sample_key(result)
        row = db.execute(
            "SELECT label, created_at FROM sample_labels WHERE instrument = ? AND state = 'bound' AND bound_key = ?"
            " ORDER BY id DESC LIMIT 1", (instrument, key)).fetchone()
        if row is not None:
            return self._labelled(result, row[0], row[1])
        row = db.execute(
            "SELECT id, label, created_at FROM sample_labels WHERE instrument = ? AND state = 'queued'"
            " AND (channel IS NULL OR channel = ?) ORDER BY id LIMIT 1",
            (instrument, channel_key(result.channel))).fetchone()
        if row is None:
            return apply_label(result, None)
        db.execute(
            "UPDATE sample_labels SET state = 'bound', bound_seq = ?, bound_result_id = ?, bound_key = ?,"
            " bound_at = ? WHERE id = ?", (seq, result.id, key, self._now(), row[0]))
        return self._labelled(result, row[1], row[2])

    def _labelled(self, result: TestResult, label_json: str, created_at: str) -> TestResult:
        """The label applied, plus its timing flags (written after the test, or too soon before it)."""
        labelled = apply_label(result, SampleLabel.from_json(label_json))
        timing = self._timing(result)
        if timing is None:
            return labelled
        flags = label_timing_flags(datetime.fromisoformat(created_at), datetime.fromisoformat(result.tested_at),
                                   datetime.fromisoformat(result.received_at), timing.label_to_result_s)
        if not flags:
            return labelled
        return replace(labelled, qc=replace(labelled.qc, flags=[*labelled.qc.flags, *flags]))

    def _now(self) -> str:
        return self._clock().isoformat(timespec="milliseconds")
