"""The Merkle log in the LIMS: sequencing, signed tree heads, proofs over the API, receipts, tampering."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from lims_api import LimsSettings, create_app
from lims_api.__main__ import main
from lims_api.audit import merkle_log
from protocols.envelope import b64url_encode, key_id, public_key_bytes
from protocols.merkle_proof import verify_consistency
from protocols.receipt import verify_receipt
from protocols.treehead import cosign

from .conftest import delete_envelope

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway


def _tree_head(lims: Lims, data_dir: Path, capsys: pytest.CaptureFixture) -> tuple[int, str]:
    code = main(["tree-head", "--db", lims.url, "--data-dir", str(data_dir)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _seed(lims: Lims, gateway: SigningGateway, make_gateway: type[SigningGateway], count: int = 3) -> list[str]:
    other = make_gateway(gateway="gw-aa-other")
    lims.enrol(gateway)
    lims.enrol(other)
    envelopes = [gateway.next(verdict="negative") for _ in range(count)] + [other.next(verdict="negative")]
    lims.ingest(*envelopes)
    return [e["result"]["id"] for e in envelopes]


@pytest.fixture
def logged(lims: Lims, gateway: SigningGateway, make_gateway: type[SigningGateway], tmp_path: Path,
           capsys: pytest.CaptureFixture) -> list[str]:
    """Four stored results under a signed tree head; their result ids in log order."""
    ids = _seed(lims, gateway, make_gateway)
    assert _tree_head(lims, tmp_path / "data", capsys)[0] == 0
    return ids


def _receipt(lims: Lims, result_id: str) -> dict[str, Any]:
    response = lims.client.get(f"/api/v1/log/receipts/{result_id}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_log_grows_append_only_and_every_result_has_a_receipt(
    lims: Lims, gateway: SigningGateway, make_gateway: type[SigningGateway], tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    ids = _seed(lims, gateway, make_gateway)
    assert lims.client.get("/api/v1/log/tree-heads/latest").status_code == 404
    assert lims.client.get(f"/api/v1/log/receipts/{ids[0]}").status_code == 404
    code, out = _tree_head(lims, tmp_path / "data", capsys)
    assert code == 0 and "tree head signed: size 4" in out
    assert "unchanged: size 4" in _tree_head(lims, tmp_path / "data", capsys)[1]
    assert lims.rows("SELECT log_index FROM envelopes ORDER BY id") == [(0,), (1,), (2,), (3,)]
    for index, result_id in enumerate(ids):
        receipt = _receipt(lims, result_id)
        report = verify_receipt(receipt)
        assert report.ok, report.checks
        assert receipt["inclusion"]["index"] == index and receipt["inclusion"]["size"] == 4

    more = [gateway.next(verdict="negative") for _ in range(3)]
    lims.ingest(*more)
    assert "signed: size 7" in _tree_head(lims, tmp_path / "data", capsys)[1]
    heads = lims.client.get("/api/v1/log/tree-heads").json()["tree_heads"]
    assert [h["tree_head"]["size"] for h in heads] == [4, 7]
    proof = lims.client.get("/api/v1/log/consistency", params={"first": 4, "second": 7}).json()
    old, new = (bytes.fromhex(h["tree_head"]["root"]) for h in heads)
    verify_consistency(4, 7, old, new, [bytes.fromhex(p) for p in proof["path"]])
    old_inclusion = lims.client.get(f"/api/v1/log/inclusion/{ids[1]}", params={"size": 4}).json()
    assert old_inclusion["size"] == 4 and old_inclusion["index"] == 1
    assert lims.client.get("/api/v1/log/consistency", params={"first": 5, "second": 6}).status_code == 404
    assert lims.client.get("/api/v1/log/consistency", params={"first": 7, "second": 4}).status_code == 404
    assert verify_receipt(_receipt(lims, more[-1]["result"]["id"])).ok


def test_qc_runs_have_no_public_receipt(lims: Lims, gateway: SigningGateway, tmp_path: Path,
                                        capsys: pytest.CaptureFixture) -> None:
    lims.enrol(gateway)
    control = gateway.next(qc={"control": "negative_control", "flags": []})
    lims.ingest(control)
    assert _tree_head(lims, tmp_path / "data", capsys)[0] == 0
    response = lims.client.get(f"/api/v1/log/receipts/{control['result']['id']}")
    assert response.status_code == 404 and "no published result" in response.json()["detail"]


def test_an_altered_stored_result_fails_its_receipt_and_the_next_tree_head(
    lims: Lims, gateway: SigningGateway, logged: list[str], tmp_path: Path, capsys: pytest.CaptureFixture,
) -> None:
    ids = logged
    with lims.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE envelopes SET raw_text = REPLACE(raw_text, '\"negative\"', '\"positive\"') "
                             "WHERE log_index = 1")
    failed = {c.name: c.detail for c in verify_receipt(_receipt(lims, ids[1])).checks if not c.ok}
    assert set(failed) == {"gateway_signature", "inclusion"}

    with lims.engine.begin() as conn:  # the hash column rewritten too: the signed head no longer holds
        conn.exec_driver_sql("UPDATE envelopes SET hash = '" + "ab" * 32 + "' WHERE log_index = 1")
    lims.ingest(gateway.next(verdict="negative"))
    code, out = _tree_head(lims, tmp_path / "data", capsys)
    assert code == 2 and "first 4 entries give root" in out and "altered, removed or moved" in out
    assert lims.scalar("SELECT count(*) FROM tree_heads") == 1
    assert lims.scalar("SELECT count(*) FROM audit_log WHERE action = 'log.mismatch'") == 1
    assert "inclusion" in {c.name for c in verify_receipt(_receipt(lims, ids[2])).checks if not c.ok}


def test_reordered_or_deleted_log_entries_are_named(
    lims: Lims, logged: list[str], tmp_path: Path, capsys: pytest.CaptureFixture,
) -> None:
    ids = logged
    with lims.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE envelopes SET log_index = log_index + 100 WHERE log_index IN (0, 1)")
        conn.exec_driver_sql("UPDATE envelopes SET log_index = 1 WHERE log_index = 100")
        conn.exec_driver_sql("UPDATE envelopes SET log_index = 0 WHERE log_index = 101")
    report = verify_receipt(_receipt(lims, ids[0]))
    assert [c.name for c in report.checks if not c.ok] == ["inclusion"]
    code, out = _tree_head(lims, tmp_path / "data", capsys)
    assert code == 2 and "altered, removed or moved" in out
    with lims.engine.begin() as conn:  # what removing a result takes: its dependent rows go first
        delete_envelope(conn, "log_index = 2")
    code, out = _tree_head(lims, tmp_path / "data", capsys)
    assert code == 2 and "log entry 2 is no longer stored" in out


def test_the_service_signs_tree_heads_by_itself_and_keeps_witness_cosignatures(
    settings: LimsSettings, lims: Lims, gateway: SigningGateway,
) -> None:
    witness = Ed25519PrivateKey.generate()
    raw = public_key_bytes(witness.public_key())
    fast = settings.model_copy(update={"tree_head_interval_min": 0.002,
                                       "witness_keys": {key_id(raw): b64url_encode(raw)}})
    lims.enrol(gateway)
    with TestClient(create_app(fast)) as client:
        result = gateway.next(verdict="negative")
        assert client.post("/api/v1/ingest", content=lims.body(result),
                           headers={"Content-Type": "application/x-ndjson"}).status_code == 200
        deadline = time.monotonic() + 20
        while client.get("/api/v1/log/tree-heads/latest").status_code != 200:  # the first head is of size 1
            assert time.monotonic() < deadline, "no tree head signed within 20 s"
            time.sleep(0.05)
        head = client.get("/api/v1/log/tree-heads/latest").json()
        forged = cosign({**head, "size": 99}, witness)
        assert client.post("/api/v1/log/cosignatures", json={"size": head["size"], **forged}).status_code == 422
        stranger = cosign(head, Ed25519PrivateKey.generate())
        response = client.post("/api/v1/log/cosignatures", json={"size": head["size"], **stranger})
        assert response.status_code == 422 and "not a configured witness" in response.text
        good = cosign(head, witness)
        assert client.post("/api/v1/log/cosignatures", json={"size": head["size"], **good}).status_code == 204
        receipt = client.get(f"/api/v1/log/receipts/{result['result']['id']}").json()
    assert receipt["cosignatures"] == [good]
    assert verify_receipt(receipt, witnesses={key_id(raw): raw}).ok


def test_a_record_with_personal_data_gets_no_public_receipt(lims: Lims, gateway: SigningGateway, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture) -> None:
    lims.enrol(gateway)
    named = gateway.next(verdict="negative", operator="张三")
    lims.ingest(named)
    assert _tree_head(lims, tmp_path / "data", capsys)[0] == 0
    response = lims.client.get(f"/api/v1/log/receipts/{named['result']['id']}")
    assert response.status_code == 404 and "personal data" in response.json()["detail"]


def test_proofs_read_stored_block_hashes_and_a_tampered_block_is_named(
    lims: Lims, gateway: SigningGateway, tmp_path: Path, capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(merkle_log, "BLOCK", 2)  # small blocks, so a handful of results spans several
    lims.enrol(gateway)
    envelopes = [gateway.next(verdict="negative") for _ in range(7)]
    lims.ingest(*envelopes)
    assert _tree_head(lims, tmp_path / "data", capsys)[0] == 0
    assert lims.scalar("SELECT count(*) FROM merkle_blocks") == 3
    for envelope in envelopes:
        assert verify_receipt(_receipt(lims, envelope["result"]["id"])).ok
    lims.ingest(gateway.next(verdict="negative"))
    assert "signed: size 8" in _tree_head(lims, tmp_path / "data", capsys)[1]
    proof = lims.client.get("/api/v1/log/consistency", params={"first": 7, "second": 8}).json()
    heads = [h["tree_head"] for h in lims.client.get("/api/v1/log/tree-heads").json()["tree_heads"]]
    verify_consistency(7, 8, bytes.fromhex(heads[0]["root"]), bytes.fromhex(heads[1]["root"]),
                       [bytes.fromhex(p) for p in proof["path"]])

    with lims.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE merkle_blocks SET hash = '" + "cd" * 32 + "' WHERE idx = 0")
    assert "inclusion" in {c.name for c in verify_receipt(_receipt(lims, envelopes[5]["result"]["id"])).checks
                           if not c.ok}
    lims.ingest(gateway.next(verdict="negative"))
    code, out = _tree_head(lims, tmp_path / "data", capsys)
    assert code == 2 and "stored hash of log block 0 (entries 0..1) does not match" in out
