"""A reading is its source key and its raw bytes: a reset or wrapped instrument counter loses nothing."""

from __future__ import annotations

import base64
import sqlite3

from msgspec.structs import replace

from gateway.outbox import SOURCE_COUNTER_RESET_FLAG, Outbox
from protocols.envelope import public_key_bytes
from protocols.result import Raw, TestResult

from .conftest import GATEWAY_ID, now, result
from .test_gw_outbox import check_chain

_UNIQUE_KEY_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE envelopes (
    seq INTEGER PRIMARY KEY, result_id TEXT NOT NULL, source_key TEXT UNIQUE, envelope TEXT NOT NULL,
    hash TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'rejected')),
    attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, created_at TEXT NOT NULL, delivered_at TEXT
);
CREATE INDEX envelopes_pending ON envelopes (seq) WHERE state = 'pending';
"""
"""The envelopes table as outboxes before reading digests had it: ``source_key`` UNIQUE."""


def _with_raw(reading: TestResult, text: str) -> TestResult:
    return replace(reading, raw=Raw(transport="serial", data=base64.b64encode(text.encode()).decode()))


def _flags(outbox: Outbox) -> list[list[str]]:
    return [flags for (flags,) in outbox.query("SELECT json_extract(envelope, '$.result.qc.flags') FROM envelopes"
                                                " ORDER BY seq")]


def test_same_key_other_bytes_is_a_new_reading_flagged(outbox, private_key):
    assert outbox.append(result(1), "SN1:1") is not None
    assert outbox.append(result(1), "SN1:1") is None  # the same bytes again: a lost ack, not stored twice
    after_reset = _with_raw(result(7), "READING 7 after the counter went back to 1\r\n")
    stored = outbox.append(after_reset, "SN1:1")
    assert stored is not None and stored.seq == 2
    assert outbox.append(after_reset, "SN1:1") is None  # that one re-sent: known too
    third = outbox.append(_with_raw(result(8), "READING 8, second wrap\r\n"), "SN1:1")
    assert third is not None and third.seq == 3
    assert _flags(outbox) == ['[]', f'["{SOURCE_COUNTER_RESET_FLAG}"]', f'["{SOURCE_COUNTER_RESET_FLAG}"]']
    check_chain([s.text for s in outbox.pending(10)], public_key_bytes(private_key.public_key()))


def test_an_outbox_with_unique_source_keys_is_upgraded_on_open(tmp_path, private_key):
    """Rows, states and chain are kept, the UNIQUE constraint goes (once); then a reset counter is recognised."""
    path = tmp_path / "box.sqlite3"
    first = Outbox(path, gateway_id=GATEWAY_ID, private_key=private_key, clock=now)
    for n in (1, 2, 3):
        first.append(result(n), f"SN1:{n}")
    first.mark_delivered([1, 2])
    rows = first.query("SELECT seq, result_id, source_key, envelope, hash, state, attempts, last_error, created_at,"
                       " delivered_at FROM envelopes ORDER BY seq")
    first.close()
    path.unlink()
    with sqlite3.connect(path) as db:  # the same rows in the earlier layout
        db.executescript(_UNIQUE_KEY_SCHEMA)
        db.execute("INSERT INTO meta VALUES ('gateway_id', ?), ('source_keys', 'per_instrument')", (GATEWAY_ID,))
        db.executemany("INSERT INTO envelopes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.close()
    for _ in range(2):  # the upgrade runs once; a second open changes nothing
        box = Outbox(path, gateway_id=GATEWAY_ID, private_key=private_key, clock=now)
        counts = box.counts()
        assert (counts.delivered, counts.pending, counts.last_seq) == (2, 1, 3)
        assert box.append(result(2), "SN1:2") is None  # re-sent reading: known by its raw bytes
        box.close()
    box = Outbox(path, gateway_id=GATEWAY_ID, private_key=private_key, clock=now)
    assert box.append(_with_raw(result(9), "READING 9 after a power cycle\r\n"), "SN1:2").seq == 4
    assert _flags(box)[3] == f'["{SOURCE_COUNTER_RESET_FLAG}"]'
    check_chain([text for (text,) in box.query("SELECT envelope FROM envelopes ORDER BY seq")],
                public_key_bytes(private_key.public_key()))
    indexes = {name for (name,) in box.query("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"envelopes_pending", "envelopes_source_key"} <= indexes and not any("autoindex_envelopes" in i for i in indexes)
    box.close()
