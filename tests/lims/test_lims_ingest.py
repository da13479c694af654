"""Ingest of signed envelopes: verification codes, duplicates, forks, prev links and durability."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from protocols.envelope import envelope_hash

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway


def _only(results: list[dict]) -> dict:
    assert len(results) == 1, results
    return results[0]


def test_happy_path_stores_exact_text_and_query_columns(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    first, second = gateway.next(), gateway.next(verdict="negative", measurement={"value": 12.5})
    results = lims.ingest(first, second)
    assert [(r["line"], r["seq"], r["status"], r["code"], r["error"]) for r in results] == [
        (1, 1, "stored", None, None),
        (2, 2, "stored", None, None),
    ]
    assert results[0]["hash"] == envelope_hash(first)
    assert results[0]["gateway"] == gateway.gateway
    # committed before the reply: a separate connection sees both rows
    rows = lims.rows(
        "SELECT seq, raw_text, hash, kid, site_id, tested_date, verdict, item, sample_name, stall,"
        " instrument_id, channel, value, unit FROM envelopes ORDER BY seq"
    )
    assert [r.raw_text for r in rows] == [gateway.line(first), gateway.line(second)]
    assert rows[0].hash == envelope_hash(first) and rows[0].kid == first["kid"]
    assert str(rows[0].tested_date) == "2026-11-23"
    assert (rows[0].site_id, rows[0].verdict, rows[0].sample_name, rows[0].stall) == (
        "yz-market-07", "positive", "小白菜", "A-12")
    assert (rows[0].instrument_id, rows[0].channel, rows[0].unit) == ("ei-01", "3", "%")
    assert (rows[0].value, rows[1].value) == (62.5, 12.5)


def test_tested_date_is_the_local_date_as_written(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    lims.ingest(gateway.next(tested_at="2026-11-24T07:30:00+08:00"))  # 2026-11-23 in UTC
    assert str(lims.scalar("SELECT tested_date FROM envelopes")) == "2026-11-24"


def test_replay_is_duplicate_and_stores_nothing_new(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    envelope = gateway.next()
    lims.ingest(envelope)
    again = _only(lims.ingest(envelope))
    assert (again["status"], again["code"], again["hash"]) == ("duplicate", None, envelope_hash(envelope))
    assert lims.scalar("SELECT count(*) FROM envelopes") == 1


def test_replay_in_another_spelling_is_still_judged_by_its_canonical_hash(lims: Lims, gateway: SigningGateway) -> None:
    """A resent line equal to the stored JCS text is a duplicate by its bytes; other spellings are parsed
    and hashed in full: the same envelope is a duplicate, a tampered one a fork."""
    lims.enrol(gateway)
    envelope = gateway.next()
    lims.ingest(envelope)
    spaced = json.dumps(envelope, ensure_ascii=True, separators=(", ", ": "))  # same value, other bytes
    assert _only(lims.ingest(spaced))["status"] == "duplicate"
    tampered = json.dumps({**envelope, "result": {**envelope["result"], "operator": "tech-0099"}})
    result = _only(lims.ingest(tampered))
    assert (result["status"], result["code"]) == ("rejected", "bad_signature")
    assert lims.scalar("SELECT count(*) FROM envelopes") == 1


def test_fork_is_rejected_alarmed_and_logged(
    lims: Lims, gateway: SigningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    lims.enrol(gateway)
    original = gateway.next()
    forged_twin = gateway.seal_at(1, original["prev"], verdict="negative")
    lims.ingest(original)
    with caplog.at_level(logging.WARNING, logger="lims_api"):
        result = _only(lims.ingest(forged_twin))
    assert (result["status"], result["code"]) == ("rejected", "fork")
    assert "seq 1" in result["error"]
    alarm = lims.rows("SELECT gateway_id, seq, stored_hash, received_hash, raw_text FROM fork_alarms")
    assert alarm == [
        (gateway.gateway, 1, envelope_hash(original), envelope_hash(forged_twin), gateway.line(forged_twin))
    ]
    assert lims.rows("SELECT hash FROM envelopes") == [(envelope_hash(original),)]
    fork_logs = [r for r in caplog.records if getattr(r, "code", None) == "fork"]
    assert fork_logs and fork_logs[0].levelno == logging.ERROR and fork_logs[0].seq == 1
    assert lims.client.get(f"/api/v1/gateways/{gateway.gateway}/chain", headers=lims.auth).json()["forks"] == 1


def test_forged_signature_is_rejected(
    lims: Lims, gateway: SigningGateway, caplog: pytest.LogCaptureFixture
) -> None:
    lims.enrol(gateway)
    envelope = gateway.next()
    tampered = copy.deepcopy(envelope)
    tampered["result"]["verdict"] = "negative"  # content changed after signing
    with caplog.at_level(logging.WARNING, logger="lims_api"):
        result = _only(lims.ingest(tampered))
    assert (result["status"], result["code"], result["seq"]) == ("rejected", "bad_signature", 1)
    assert lims.scalar("SELECT count(*) FROM envelopes") == 0
    assert any(getattr(r, "code", None) == "bad_signature" for r in caplog.records)


def test_signature_by_another_key_with_claimed_kid_is_rejected(
    lims: Lims, gateway: SigningGateway, make_gateway: type[SigningGateway]
) -> None:
    lims.enrol(gateway)
    impostor = make_gateway(gateway=gateway.gateway)
    envelope = impostor.next()
    envelope["kid"] = gateway.next()["kid"]
    assert _only(lims.ingest(envelope))["code"] == "bad_signature"


def test_unknown_gateway_and_unknown_kid(
    lims: Lims, gateway: SigningGateway, make_gateway: type[SigningGateway]
) -> None:
    lims.enrol(gateway)
    stranger = make_gateway(gateway="gw-never-enrolled")
    new_key = make_gateway(gateway=gateway.gateway)  # same id, key never enrolled
    results = lims.ingest(stranger.next(), new_key.next())
    assert [(r["gateway"], r["code"]) for r in results] == [
        ("gw-never-enrolled", "unknown_gateway"),
        (gateway.gateway, "unknown_kid"),
    ]
    assert "gw-never-enrolled" in results[0]["error"]
    assert lims.scalar("SELECT count(*) FROM envelopes") == 0


def test_revoked_kid_is_rejected(lims: Lims, gateway: SigningGateway) -> None:
    kid = lims.enrol(gateway)["kid"]
    stored = gateway.next()
    lims.ingest(stored)
    lims.client.post(f"/api/v1/gateways/{gateway.gateway}/keys/{kid}/revoke", headers=lims.auth)
    late = gateway.next()
    assert _only(lims.ingest(late))["code"] == "revoked_kid"
    # the already stored envelope replayed is still acknowledged as a duplicate
    assert _only(lims.ingest(stored))["status"] == "duplicate"


def test_malformed_line_does_not_block_the_rest(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    first, second = gateway.next(), gateway.next()
    body = lims.body(first, '{"v": 1, "gateway": ', second)
    results = lims.ingest(body)
    assert [(r["line"], r["status"], r["code"]) for r in results] == [
        (1, "stored", None),
        (2, "rejected", "malformed_json"),
        (3, "stored", None),
    ]
    assert "column" in results[1]["error"]
    assert results[1]["gateway"] is None and results[1]["seq"] is None
    assert lims.scalar("SELECT count(*) FROM envelopes") == 2


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ('{"a": NaN}', "NaN"),
        ('{"a": 1, "a": 2}', "duplicate member 'a'"),
    ],
)
def test_non_strict_json_is_malformed(lims: Lims, line: str, fragment: str) -> None:
    result = _only(lims.ingest(line))
    assert result["code"] == "malformed_json" and fragment in result["error"]


@pytest.mark.parametrize(
    ("splice", "fragment"),
    [
        (lambda line: line.replace('"channel":', '"channel":9,"channel":', 1), "duplicate member 'channel'"),
        (lambda line: line.replace('"evidence":', '"extra":NaN,"evidence":', 1), "NaN"),
        (lambda line: line.replace('"gateway":', '"gateway":"x","gateway":', 1), "duplicate member 'gateway'"),
    ],
)
def test_a_well_formed_envelope_with_non_strict_json_is_malformed(
    lims: Lims, gateway: SigningGateway, splice: Callable[[str], str], fragment: str
) -> None:
    """Spliced into a signed line (its JCS text), a duplicate member or NaN is caught: the line is no longer
    its own JCS form, so it is parsed strictly, and nothing is stored."""
    lims.enrol(gateway)
    line = splice(lims.body(gateway.next(evidence=[])).decode().strip())
    result = _only(lims.ingest(line))
    assert result["code"] == "malformed_json" and fragment in result["error"]
    assert lims.scalar("SELECT count(*) FROM envelopes") == 0


def test_invalid_utf8_line_is_malformed_and_blank_lines_are_skipped(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    body = b"\n" + b'{"x": "\xff"}\n' + b"\r\n" + lims.body(gateway.next()).replace(b"\n", b"\r\n")
    results = lims.ingest(body)
    assert [(r["line"], r["code"]) for r in results] == [(2, "malformed_json"), (4, None)]
    assert lims.scalar("SELECT raw_text FROM envelopes").endswith("}")  # CR of CRLF not stored


def test_envelope_schema_error_names_the_member(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    envelope = gateway.next()
    del envelope["prev"]
    result = _only(lims.ingest(envelope))
    assert (result["code"], result["gateway"], result["seq"]) == ("schema", gateway.gateway, 1)
    assert "prev" in result["error"]


def test_bad_result_names_the_field_path(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    envelope = gateway.next(measurement={"value": "lots"}, tested_at="2026-11-23T09:15:04")
    result = _only(lims.ingest(envelope))
    assert result["code"] == "bad_result"
    assert "result.measurement.value" in result["error"]
    assert "result.tested_at" in result["error"] and "offset" in result["error"]
    assert result["hash"] == envelope_hash(envelope)


def test_prev_not_matching_stored_predecessor_is_broken_prev(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    lims.ingest(gateway.next())
    wrong = gateway.seal_at(2, "ab" * 32)
    result = _only(lims.ingest(wrong))
    assert (result["code"], result["seq"]) == ("broken_prev", 2)
    assert "seq 1" in result["error"]
    assert lims.scalar("SELECT count(*) FROM envelopes") == 1


def test_gap_recorded_then_filled(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    chain = [gateway.next() for _ in range(6)]
    results = lims.ingest(chain[0], chain[5])  # seq 2..5 missing
    assert [r["status"] for r in results] == ["stored", "stored"]
    status = lims.client.get(f"/api/v1/gateways/{gateway.gateway}/chain", headers=lims.auth).json()
    assert (status["last_seq"], status["count"], status["forks"]) == (6, 2, 0)
    assert [(g["from_seq"], g["to_seq"]) for g in status["gaps"]] == [(2, 5)]
    lims.ingest(chain[2])  # middle: the gap splits
    status = lims.client.get(f"/api/v1/gateways/{gateway.gateway}/chain", headers=lims.auth).json()
    assert [(g["from_seq"], g["to_seq"]) for g in status["gaps"]] == [(2, 2), (4, 5)]
    assert [r["status"] for r in lims.ingest(chain[1], chain[4])] == ["stored"] * 2  # seq 2, then 5
    status = lims.client.get(f"/api/v1/gateways/{gateway.gateway}/chain", headers=lims.auth).json()
    assert [(g["from_seq"], g["to_seq"]) for g in status["gaps"]] == [(4, 4)]
    assert _only(lims.ingest(chain[3]))["status"] == "stored"
    status = lims.client.get(f"/api/v1/gateways/{gateway.gateway}/chain", headers=lims.auth).json()
    assert (status["gaps"], status["count"]) == ([], 6)
    assert lims.scalar("SELECT count(*) FROM gaps WHERE closed_at IS NULL") == 0
    assert lims.scalar("SELECT count(*) FROM gaps WHERE closed_at IS NOT NULL") == 2


def test_late_seq_must_match_prev_of_its_stored_successor(
    lims: Lims, gateway: SigningGateway, make_gateway: type[SigningGateway]
) -> None:
    lims.enrol(gateway)
    first, second, third = gateway.next(), gateway.next(), gateway.next()
    lims.ingest(first, third)
    substitute = gateway.seal_at(2, second["prev"], verdict="negative")  # links to 1, but 3 names another 2
    result = _only(lims.ingest(substitute))
    assert result["code"] == "broken_prev" and "seq 3" in result["error"]
    assert lims.client.get(f"/api/v1/gateways/{gateway.gateway}/chain", headers=lims.auth).json()["gaps"][0]["from_seq"] == 2
    assert _only(lims.ingest(second))["status"] == "stored"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversize_body_is_413(lims: Lims, gateway: SigningGateway, chunked: bool) -> None:
    lims.enrol(gateway)
    line = gateway.line(gateway.next()).encode() + b"\n"
    body = line * (1024 * 1024 // len(line) + 1)
    content = iter([body[i : i + 65536] for i in range(0, len(body), 65536)]) if chunked else body
    response = lims.client.post("/api/v1/ingest", content=content, headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code == 413
    assert "1048576 bytes" in response.json()["detail"]
    assert lims.scalar("SELECT count(*) FROM envelopes") == 0


def test_wrong_content_type_is_415(lims: Lims, gateway: SigningGateway) -> None:
    oversize = lims.body(gateway.next()) * 20000  # chunked: refused for its type before its size is read
    response = lims.client.post("/api/v1/ingest", content=iter([oversize]), headers={"Content-Type": "text/csv"})
    assert response.status_code == 415
    assert "application/x-ndjson" in response.json()["detail"]
