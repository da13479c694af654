"""Receipts and tree heads: a sound receipt verifies; each kind of tampering fails its own check."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocols import envelope as env
from protocols import treehead as th
from protocols.merkle import leaf_hash
from protocols.merkle_proof import SubtreeHasher, inclusion_proof
from protocols.receipt import build_receipt, verify_receipt
from tests.bundle_factory import chain, key_entry

GATEWAY_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
LIMS_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
WITNESS_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(2, 34)))


def _lims_entry() -> dict[str, Any]:
    return key_entry("lims", LIMS_KEY)


def make_receipt(index: int = 3, size: int = 6) -> dict[str, Any]:
    envelopes = chain(GATEWAY_KEY, "gw-demo-01", size)
    texts = [env.canonical(e).decode() for e in envelopes]
    tree = SubtreeHasher([leaf_hash(hashlib.sha256(t.encode()).digest()) for t in texts])
    head = th.build_tree_head(size, tree.root(size), "2026-11-25T08:10:00.000+00:00", LIMS_KEY)
    return build_receipt(texts[index], key_entry("gw-demo-01", GATEWAY_KEY), index,
                         inclusion_proof(tree, index, size), head, _lims_entry(), [th.cosign(head, WITNESS_KEY)])


def _failed(receipt: dict[str, Any], **kwargs: Any) -> dict[str, str]:
    report = verify_receipt(receipt, **kwargs)
    assert not report.ok
    return {c.name: c.detail for c in report.checks if not c.ok}


def test_sound_receipt_reports_every_check() -> None:
    witness = env.public_key_bytes(WITNESS_KEY.public_key())
    report = verify_receipt(make_receipt(), witnesses={env.key_id(witness): witness})
    assert report.ok, report.checks
    assert [c.name for c in report.checks] == [
        "envelope", "gateway_signature", "inclusion", "tree_head_signature", "witness"]
    assert report.envelope is not None and report.envelope["seq"] == 4
    assert json.loads(json.dumps(make_receipt())) == make_receipt()  # plain JSON, deterministic


def test_tampered_result_breaks_signature_and_inclusion() -> None:
    receipt = make_receipt()
    envelope = json.loads(receipt["envelope"])
    envelope["result"]["verdict"] = "positive" if envelope["result"]["verdict"] == "negative" else "negative"
    receipt["envelope"] = env.canonical(envelope).decode()
    failed = _failed(receipt)
    assert set(failed) == {"gateway_signature", "inclusion"}
    assert "does not verify" in failed["gateway_signature"]
    assert "not the signed" in failed["inclusion"]


def test_envelope_not_as_signed_is_named() -> None:
    receipt = make_receipt()
    receipt["envelope"] = json.dumps(json.loads(receipt["envelope"]), indent=1)
    assert "canonical" in _failed(receipt)["envelope"]


def test_reordered_log_position_fails_inclusion() -> None:
    receipt = make_receipt()
    receipt["inclusion"]["index"] = 2
    assert "not the signed" in _failed(receipt)["inclusion"]


def test_rewritten_tree_head_fails_its_signature() -> None:
    receipt = make_receipt()
    receipt["tree_head"]["size"] = 7
    receipt["inclusion"]["size"] = 7
    failed = _failed(receipt)
    assert "does not verify" in failed["tree_head_signature"]


def test_other_lims_key_and_wrong_witness() -> None:
    receipt = make_receipt()
    assert "not the expected" in _failed(receipt, lims_kid="0" * 16)["tree_head_signature"]
    stranger = env.public_key_bytes(Ed25519PrivateKey.generate().public_key())
    assert "no co-signature" in _failed(receipt, witnesses={env.key_id(stranger): stranger})["witness"]
    forged = copy.deepcopy(receipt)
    witness = env.public_key_bytes(WITNESS_KEY.public_key())
    forged["cosignatures"][0]["sig"] = th.cosign({**receipt["tree_head"], "size": 1}, WITNESS_KEY)["sig"]
    assert "does not verify" in _failed(forged, witnesses={env.key_id(witness): witness})["witness"]


def test_gateway_key_of_another_gateway_is_named() -> None:
    receipt = make_receipt()
    receipt["gateway_key"] = key_entry("gw-other", GATEWAY_KEY)
    assert "envelope names gateway gw-demo-01" in _failed(receipt)["gateway_signature"]


def test_tree_head_shape_errors() -> None:
    head = make_receipt()["tree_head"]
    with pytest.raises(th.TreeHeadError, match="unknown"):
        th.check_tree_head_shape({**head, "extra": 1})
    with pytest.raises(th.TreeHeadError, match="root"):
        th.check_tree_head_shape({**head, "root": "AB"})
    with pytest.raises(th.TreeHeadError, match="not valid JSON"):
        th.parse_tree_head_line(b"{")
    assert th.parse_tree_head_line(env.canonical(head)) == head
