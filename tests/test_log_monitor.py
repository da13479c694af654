"""The monitor's conclusions from tree heads: growth accepted, two histories named."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocols.envelope import public_key_bytes
from protocols.log_monitor import SplitView, check_extends, new_heads
from protocols.merkle import leaf_hash
from protocols.merkle_proof import SubtreeHasher, consistency_proof
from protocols.treehead import TreeHeadError, build_tree_head

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(9, 41)))
RAW = public_key_bytes(KEY.public_key())
TREE = SubtreeHasher([leaf_hash(bytes([i]) * 32) for i in range(9)])
OTHER = SubtreeHasher([leaf_hash(bytes([i + 1]) * 32) for i in range(9)])


def head(size: int, tree: SubtreeHasher = TREE) -> dict:
    return build_tree_head(size, tree.root(size), "2026-12-02T08:00:00.000+00:00", KEY)


def test_growth_is_accepted_in_size_order() -> None:
    fresh = new_heads(head(3), [head(7), head(3), head(5)], RAW)
    assert [h["size"] for h in fresh] == [5, 7]
    check_extends(head(3), head(7), consistency_proof(TREE, 3, 7))
    assert [h["size"] for h in new_heads(None, [head(2)], RAW)] == [2]


def test_two_histories_are_named() -> None:
    with pytest.raises(SplitView, match="split view"):
        new_heads(head(5), [head(5, OTHER)], RAW)
    with pytest.raises(SplitView, match="different roots"):
        new_heads(None, [head(4), head(4, OTHER)], RAW)
    with pytest.raises(SplitView, match="smaller than the size 6"):
        new_heads(head(6), [head(4)], RAW)
    with pytest.raises(SplitView, match="does not extend the head of size 3"):
        check_extends(head(3), head(7, OTHER), consistency_proof(OTHER, 3, 7))
    with pytest.raises(TreeHeadError, match="does not verify"):
        new_heads(None, [{**head(4), "size": 8}], RAW)
