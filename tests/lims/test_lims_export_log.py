"""The export's inclusion proofs: read block by block, byte for byte those of the whole stored tree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lims_api import export_bundle
from lims_api.__main__ import main
from lims_api.audit import merkle_log
from lims_api.ingest.models import StoredEnvelope
from kuaijian.audit import verify_path
from protocols.merkle_proof import inclusion_proof

from .conftest import delete_envelope

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway


def _whole_tree_proofs(lims: Lims, size: int) -> bytes:
    """inclusion.jsonl as computed from every stored leaf hash at once (the export before block reading)."""
    with Session(lims.engine) as session:
        tree = merkle_log.load_tree(session, size)
        rows = session.execute(select(StoredEnvelope.gateway_id, StoredEnvelope.seq, StoredEnvelope.log_index)
                               .where(StoredEnvelope.log_index < size)
                               .order_by(StoredEnvelope.gateway_id, StoredEnvelope.seq)).all()
    lines = [{"gateway": r.gateway_id, "seq": r.seq, "index": r.log_index, "size": size,
              "path": [p.hex() for p in inclusion_proof(tree, r.log_index, size)]} for r in rows]
    return "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines).encode()


@pytest.fixture
def interleaved(lims: Lims, gateway: SigningGateway, make_gateway: type[SigningGateway], tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> int:
    """Two gateways' results interleaved in the log (blocks of 4: complete blocks and a partial last one),
    under a signed head of 23, plus two results after it; the head's size."""
    monkeypatch.setattr(merkle_log, "BLOCK", 4)
    other = make_gateway(gateway="gw-aa-other")
    lims.enrol(gateway)
    lims.enrol(other)
    for n in range(23):
        lims.ingest((gateway if n % 3 else other).next(verdict="negative"))
    assert main(["tree-head", "--db", lims.url, "--data-dir", str(tmp_path / "data")]) == 0
    lims.ingest(gateway.next(verdict="negative"), other.next(verdict="negative"))
    return 23


def test_export_proofs_are_those_of_the_whole_tree_with_or_without_stored_blocks(
    lims: Lims, interleaved: int, tmp_path: Path,
) -> None:
    assert lims.scalar("SELECT count(*) FROM merkle_blocks") == 5
    export_bundle(lims.engine, tmp_path / "blocks")
    expected = _whole_tree_proofs(lims, interleaved)
    assert (tmp_path / "blocks" / "inclusion.jsonl").read_bytes() == expected
    assert expected.count(b"\n") == interleaved
    assert verify_path(tmp_path / "blocks").ok
    with lims.engine.begin() as conn:  # a log from before block hashes were stored
        conn.exec_driver_sql("DELETE FROM merkle_blocks")
    export_bundle(lims.engine, tmp_path / "leaves")
    for name in ("inclusion.jsonl", "treehead.json", "envelopes.jsonl"):
        assert (tmp_path / "leaves" / name).read_bytes() == (tmp_path / "blocks" / name).read_bytes()


def test_a_missing_log_entry_exports_no_proofs(lims: Lims, interleaved: int, tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    with lims.engine.begin() as conn:
        delete_envelope(conn, "log_index = 5")
    export_bundle(lims.engine, tmp_path / "bundle")
    assert (tmp_path / "bundle" / "treehead.json").exists()
    assert not (tmp_path / "bundle" / "inclusion.jsonl").exists()
    assert "1 of the log's first 23 entries are no longer stored" in caplog.text
