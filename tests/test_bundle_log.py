"""A bundle's Merkle-log files: verified with the bundle, and enough to make a receipt offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kuaijian.audit import read_bundle_files, verify_path
from protocols import envelope as env
from protocols.bundle import Report, parse_keys
from protocols.bundle_log import BundleLogError, receipt_from_bundle
from protocols.merkle import leaf_hash
from protocols.merkle_proof import SubtreeHasher, inclusion_proof
from protocols.receipt import verify_receipt
from protocols.treehead import build_tree_head

from .bundle_factory import chain, key_entry, write_bundle

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
LIMS = Ed25519PrivateKey.from_private_bytes(bytes(range(5, 37)))


def _bundle(tmp_path: Path) -> tuple[Path, list[dict]]:
    envelopes = chain(KEY, "gw-a", 5)
    out = write_bundle(tmp_path / "b", envelopes, [key_entry("gw-a", KEY), key_entry("lims", LIMS)])
    tree = SubtreeHasher([leaf_hash(bytes.fromhex(env.envelope_hash(e))) for e in envelopes])
    head = build_tree_head(5, tree.root(5), "2026-12-02T08:00:00.000+00:00", LIMS)
    (out / "treehead.json").write_text(json.dumps({"tree_head": head, "cosignatures": []}))
    lines = [{"gateway": "gw-a", "seq": e["seq"], "index": i, "size": 5,
              "path": [p.hex() for p in inclusion_proof(tree, i, 5)]} for i, e in enumerate(envelopes)]
    (out / "inclusion.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return out, envelopes


def _files(out: Path) -> tuple[dict[str, bytes], dict]:
    files = read_bundle_files(out)
    return files, parse_keys(files["keys.json"], Report())


def test_log_files_verify_and_give_a_receipt(tmp_path: Path) -> None:
    out, envelopes = _bundle(tmp_path)
    assert verify_path(out).ok, verify_path(out).faults
    files, keys = _files(out)
    receipt = receipt_from_bundle(files, keys, envelopes[2]["result"]["id"])
    assert verify_receipt(receipt).ok
    with pytest.raises(BundleLogError, match="no envelope with result id"):
        receipt_from_bundle(files, keys, "nope")


def test_a_wrong_proof_or_head_is_a_log_fault(tmp_path: Path) -> None:
    out, _ = _bundle(tmp_path)
    lines = (out / "inclusion.jsonl").read_text().splitlines()
    swapped = [json.loads(line) for line in lines]
    swapped[0]["index"], swapped[1]["index"] = 1, 0
    (out / "inclusion.jsonl").write_text("".join(json.dumps(line) + "\n" for line in swapped))
    faults = verify_path(out).faults
    assert [f.kind for f in faults] == ["log", "log"]
    assert "seq 1" in faults[0].where and "not the signed" in faults[0].message
    signed = json.loads((out / "treehead.json").read_text())
    signed["tree_head"]["size"] = 6
    (out / "treehead.json").write_text(json.dumps(signed))
    (fault,) = verify_path(out).faults
    assert fault.kind == "log" and "does not verify" in fault.message
