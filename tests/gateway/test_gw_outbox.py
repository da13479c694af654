"""Outbox: a contiguous, hash-linked, signed chain that survives reopening; source keys dedupe."""

from __future__ import annotations

import json
import sqlite3

from msgspec.structs import replace
import pytest

from gateway.errors import OutboxError
from gateway.outbox import COUNTS_BY_STATE, LAST_DELIVERED_AT, Outbox
from protocols.envelope import GENESIS_PREV, canonical, envelope_hash, public_key_bytes, verify_signature

from .conftest import GATEWAY_ID, now, result


def check_chain(texts: list[str], public_raw: bytes) -> None:
    """Seqs 1..n, each prev = hash of the one before, each signature valid, each text canonical."""
    prev = GENESIS_PREV
    for expected_seq, text in enumerate(texts, 1):
        envelope = json.loads(text)
        assert canonical(envelope).decode() == text
        assert (envelope["gateway"], envelope["seq"], envelope["prev"]) == (GATEWAY_ID, expected_seq, prev)
        verify_signature(envelope, public_raw)
        prev = envelope_hash(envelope)


def test_appends_form_a_verifiable_chain(outbox, private_key):
    stored = [outbox.append(result(n), f"src:{n}") for n in range(1, 6)]
    assert [s.seq for s in stored] == [1, 2, 3, 4, 5]
    assert all(s.hash == envelope_hash(json.loads(s.text)) for s in stored)
    check_chain([s.text for s in outbox.pending(100)], public_key_bytes(private_key.public_key()))
    assert json.loads(stored[2].text)["result"]["sample"]["name"] == "sample 3"


def test_same_source_key_is_stored_once(outbox):
    assert outbox.append(result(1), "src:1") is not None
    assert outbox.append(result(1), "src:1") is None
    assert outbox.append(result(2), None) is not None
    assert outbox.append(result(3), None) is not None  # None never dedupes
    assert [s.source_key for s in outbox.pending(10)] == ["ei-01/src:1", None, None]  # kept per instrument
    assert outbox.counts().last_seq == 3


def _of_instrument(n: int, instrument_id: str):
    reading = result(n)
    return replace(reading, instrument=replace(reading.instrument, id=instrument_id))


def test_the_same_key_at_two_instruments_is_two_readings(outbox):
    """Two readers reporting the same serial (unset, copied): neither reading is dropped as "already stored"."""
    assert outbox.append(_of_instrument(1, "gold-01"), "000000:41") is not None
    assert outbox.append(_of_instrument(2, "gold-02"), "000000:41") is not None
    assert outbox.append(_of_instrument(1, "gold-01"), "000000:41") is None  # gold-01 re-sent it: known
    assert [s.source_key for s in outbox.pending(10)] == ["gold-01/000000:41", "gold-02/000000:41"]


def test_an_outbox_written_before_keys_were_per_instrument_is_upgraded_once(tmp_path, private_key):
    path = tmp_path / "box.sqlite3"
    old = Outbox(path, gateway_id=GATEWAY_ID, private_key=private_key, clock=now)
    old.append(result(1), "src:1")
    old.close()
    with sqlite3.connect(path) as db:  # as the earlier version left it: bare keys, no meta row
        db.execute("UPDATE envelopes SET source_key = 'src:1'")
        db.execute("DELETE FROM meta WHERE name = 'source_keys'")
    for _ in range(2):  # the upgrade runs once; a second open changes nothing
        box = Outbox(path, gateway_id=GATEWAY_ID, private_key=private_key, clock=now)
        assert [s.source_key for s in box.pending(10)] == ["ei-01/src:1"]
        assert box.append(result(1), "src:1") is None  # the instrument re-sends: still known
        box.close()


def test_reopened_outbox_continues_the_chain(tmp_path, private_key):
    path = tmp_path / "box.sqlite3"
    first = Outbox(path, gateway_id=GATEWAY_ID, private_key=private_key, clock=now)
    for n in (1, 2):
        first.append(result(n), f"src:{n}")
    first.close()
    second = Outbox(path, gateway_id=GATEWAY_ID, private_key=private_key, clock=now)
    assert second.append(result(2), "src:2") is None
    assert second.append(result(3), "src:3").seq == 3
    check_chain([s.text for s in second.pending(10)], public_key_bytes(private_key.public_key()))
    second.close()


def test_outbox_of_another_gateway_is_refused(tmp_path, private_key):
    path = tmp_path / "box.sqlite3"
    Outbox(path, gateway_id=GATEWAY_ID, private_key=private_key, clock=now).close()
    with pytest.raises(OutboxError, match="belongs to gateway 'gw-test-01', not 'gw-other'"):
        Outbox(path, gateway_id="gw-other", private_key=private_key, clock=now)


def test_states_counts_and_backlog_paging(outbox):
    for n in range(1, 8):
        outbox.append(result(n), f"src:{n}")
    outbox.mark_delivered([1, 2, 4])
    outbox.mark_rejected(3, "schema: bad result")
    outbox.note_failed_attempt([5], "ConnectError: refused")
    counts = outbox.counts()
    assert (counts.pending, counts.delivered, counts.rejected, counts.last_seq) == (3, 3, 1, 7)
    assert counts.last_delivered_at is not None
    assert [s.seq for s in outbox.pending(2)] == [5, 6]
    assert [s.seq for s in outbox.pending(2, after_seq=6)] == [7]
    assert outbox.get(3).state == "rejected" and outbox.get(3).last_error == "schema: bad result"
    assert (outbox.get(5).attempts, outbox.get(5).last_error) == (1, "ConnectError: refused")
    outbox.mark_delivered([3])  # a rejected envelope does not flip to delivered
    assert outbox.get(3).state == "rejected"


def test_counts_read_the_state_index_not_the_envelope_texts(outbox):
    db = sqlite3.connect(outbox.path)
    try:
        plans = [" ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}")) for sql in (
            COUNTS_BY_STATE, LAST_DELIVERED_AT)]
    finally:
        db.close()
    assert all("COVERING INDEX envelopes_state" in plan for plan in plans), plans


def test_database_is_wal_with_full_sync_and_row_per_envelope(outbox):
    outbox.append(result(1), "src:1")
    db = sqlite3.connect(outbox.path)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    row = db.execute("SELECT seq, result_id, source_key, state, attempts, created_at FROM envelopes").fetchone()
    assert row[0] == 1 and row[2:5] == ("ei-01/src:1", "pending", 0) and "T" in row[5]
    db.close()
    assert outbox._db.execute("PRAGMA synchronous").fetchone() == (2,)  # 2 = FULL


def test_failed_seal_leaves_no_row_and_no_gap(outbox):
    class Broken:
        id = "x"
        instrument = result(1).instrument
        raw = result(1).raw

        def to_wire(self):
            return {"value": float("nan")}  # JCS cannot encode NaN

    outbox.append(result(1), "src:1")
    with pytest.raises(Exception, match="not_canonicalizable"):
        outbox.append(Broken(), "src:broken")  # type: ignore[arg-type]
    assert outbox.append(result(2), "src:broken").seq == 2
