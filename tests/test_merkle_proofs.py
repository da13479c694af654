"""Inclusion and consistency proofs (RFC 9162) against a literal reference, and what breaks them."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.merkle import EMPTY_ROOT, leaf_hash, merkle_root, streamed_root
from protocols.merkle_proof import (
    ProofError,
    SubtreeHasher,
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _mth(d: list[bytes]) -> bytes:
    """MTH of RFC 9162 §2.1.1 over entries, written out literally."""
    if not d:
        return _h(b"")
    if len(d) == 1:
        return _h(b"\x00" + d[0])
    k = 1
    while k * 2 < len(d):
        k *= 2
    return _h(b"\x01" + _mth(d[:k]) + _mth(d[k:]))


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1."""
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return _path(m, d[:k]) + [_mth(d[k:])]
    return _path(m - k, d[k:]) + [_mth(d[:k])]


def _subproof(m: int, d: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 §2.1.4.1."""
    if m == len(d):
        return [] if whole else [_mth(d)]
    k = _k(len(d))
    if m <= k:
        return _subproof(m, d[:k], whole) + [_mth(d[k:])]
    return _subproof(m - k, d[k:], False) + [_mth(d[:k])]


entries = st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40, unique=True)


def _tree(d: list[bytes]) -> SubtreeHasher:
    return SubtreeHasher([leaf_hash(x) for x in d])


@settings(deadline=None)
@given(entries, st.data())
def test_inclusion_proof_is_rfc_path_and_verifies(d: list[bytes], data: st.DataObject) -> None:
    size = data.draw(st.integers(1, len(d)))
    index = data.draw(st.integers(0, size - 1))
    tree = _tree(d)
    proof = inclusion_proof(tree, index, size)
    assert proof == _path(index, d[:size])
    assert tree.root(size) == _mth(d[:size]) == merkle_root(d[:size])
    verify_inclusion(leaf_hash(d[index]), index, size, proof, _mth(d[:size]))


@settings(deadline=None)
@given(entries, st.data())
def test_consistency_proof_is_rfc_subproof_and_verifies(d: list[bytes], data: st.DataObject) -> None:
    second = data.draw(st.integers(1, len(d)))
    first = data.draw(st.integers(0, second))
    tree = _tree(d)
    proof = consistency_proof(tree, first, second)
    assert proof == ([] if first == 0 else _subproof(first, d[:second], True))
    verify_consistency(first, second, _mth(d[:first]), _mth(d[:second]), proof)


@settings(deadline=None)
@given(entries, st.data())
def test_inclusion_fails_for_any_other_leaf_index_or_path(d: list[bytes], data: st.DataObject) -> None:
    size = data.draw(st.integers(1, len(d)))
    index = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(_tree(d), index, size)
    root, leaf = _mth(d[:size]), leaf_hash(d[index])
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(b"tampered" + d[index]), index, size, proof, root)
    other = data.draw(st.integers(0, size - 1))
    if other != index:
        with pytest.raises(ProofError):
            verify_inclusion(leaf, other, size, proof, root)
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:at], _h(proof[at]), *proof[at + 1:]]
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, bad, root)
        with pytest.raises(ProofError, match="fewer"):
            verify_inclusion(leaf, index, size, proof[:-1], root)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, [*proof, root], root)


@settings(deadline=None)
@given(entries, st.data())
def test_consistency_fails_when_history_is_rewritten(d: list[bytes], data: st.DataObject) -> None:
    if len(d) < 2:
        return
    second = data.draw(st.integers(2, len(d)))
    first = data.draw(st.integers(1, second - 1))
    changed = data.draw(st.integers(0, first - 1))
    rewritten = [*d[:changed], b"x" * 32, *d[changed + 1:]]
    honest_first = _mth(d[:first])
    proof = consistency_proof(_tree(rewritten), first, second)
    with pytest.raises(ProofError):
        verify_consistency(first, second, honest_first, _mth(rewritten[:second]), proof)


def test_reordered_leaves_fail_inclusion_with_a_named_root() -> None:
    d = [bytes([i]) * 32 for i in range(7)]
    root = _mth(d)
    swapped = [d[1], d[0], *d[2:]]
    proof = inclusion_proof(_tree(swapped), 0, 7)
    with pytest.raises(ProofError, match="not the signed"):
        verify_inclusion(leaf_hash(d[1]), 0, 7, proof, root)


def test_fork_same_size_two_roots_is_named() -> None:
    with pytest.raises(ProofError, match="forked"):
        verify_consistency(5, 5, _h(b"a"), _h(b"b"), [])
    with pytest.raises(ProofError, match="never shrinks"):
        verify_consistency(6, 5, _h(b"a"), _h(b"b"), [])


def test_empty_and_single_trees() -> None:
    tree = _tree([b"a" * 32])
    assert tree.root(0) == EMPTY_ROOT
    assert inclusion_proof(tree, 0, 1) == []
    verify_inclusion(leaf_hash(b"a" * 32), 0, 1, [], tree.root(1))
    verify_consistency(0, 1, EMPTY_ROOT, tree.root(1), [])
    with pytest.raises(ProofError, match="not below"):
        verify_inclusion(leaf_hash(b"a" * 32), 1, 1, [], tree.root(1))
    with pytest.raises(ValueError, match="not below"):
        inclusion_proof(tree, 1, 1)


@settings(deadline=None)
@given(st.integers(1, 70), st.sampled_from([1, 2, 4, 8]), st.integers(1, 3), st.data())
def test_tiled_tree_gives_the_same_proofs_from_block_hashes(n: int, block: int, keep: int,
                                                            data: st.DataObject) -> None:
    from protocols.merkle_proof import TiledTree

    full = SubtreeHasher([leaf_hash(i.to_bytes(4, "big")) for i in range(n)])
    blocks = [full.hash(b * block, (b + 1) * block) for b in range(n // block)]

    def load(b: int) -> list[bytes]:
        return list(full.leaves[b * block:(b + 1) * block])

    tiled = TiledTree(n, block, blocks, load, keep=keep)  # one tree for every proof, as the export uses it
    for index in data.draw(st.lists(st.integers(0, n - 1), max_size=12)):
        assert inclusion_proof(tiled, index, n) == inclusion_proof(full, index, n)
    assert len(tiled._loaded) <= keep
    first = data.draw(st.integers(0, n))
    assert consistency_proof(tiled, first, n) == consistency_proof(full, first, n)
    assert tiled.root(n) == full.root(n)


@pytest.mark.parametrize("n", [255, 256, 257, 511, 512, 513, 767, 1024, 1025, 1300])
def test_tiled_tree_gives_every_proof_of_the_whole_tree_across_256_leaf_blocks(n: int) -> None:
    from protocols.merkle_proof import TiledTree

    full = SubtreeHasher([leaf_hash(i.to_bytes(4, "big")) for i in range(n)])
    blocks = [full.hash(b * 256, (b + 1) * 256) for b in range(n // 256)]
    loads: list[int] = []

    def load(b: int) -> list[bytes]:
        loads.append(b)
        return list(full.leaves[b * 256:(b + 1) * 256])

    tiled = TiledTree(n, 256, blocks, load, keep=2)
    assert [inclusion_proof(tiled, i, n) for i in range(n)] == [inclusion_proof(full, i, n) for i in range(n)]
    assert len(loads) == -(-n // 256)  # leaves in log order: each block read once


@given(st.lists(st.binary(min_size=0, max_size=40), max_size=70))
def test_streamed_root_is_the_rfc_root(leaves: list[bytes]) -> None:
    assert streamed_root(iter(leaves)) == merkle_root(leaves)
