"""RFC 9162 §2.1.3-2.1.4 inclusion and consistency proofs over the Merkle log (pure).

Trees are given as their leaf hashes (``merkle.leaf_hash`` of each entry), in log
order. Generation follows the recursive PATH / SUBPROOF definitions; verification
follows the RFC's iterative algorithms, so the two are independent readings of the
same tree. ``ProofError`` says why a proof does not hold.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

from .errors import RemoteProtocolError
from .merkle import EMPTY_ROOT, node_hash


class ProofError(RemoteProtocolError):
    """An inclusion or consistency proof does not verify (or is malformed)."""


MEMO_MIN = 16


class SubtreeHasher:
    """MTH over ranges of a fixed list of leaf hashes, memoising every subtree of ``memo_min`` or more leaves."""

    def __init__(self, leaf_hashes: Sequence[bytes], memo_min: int = MEMO_MIN) -> None:
        self.leaves = leaf_hashes
        self.memo_min = memo_min
        self._memo: dict[tuple[int, int], bytes] = {}

    def __len__(self) -> int:
        return len(self.leaves)

    def root(self, size: int) -> bytes:
        """MTH of the first ``size`` leaves."""
        return EMPTY_ROOT if size == 0 else self.hash(0, size)

    def hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for ``0 <= start < end <= len``; subtrees under ``memo_min`` leaves are recomputed
        (at most 15 node hashes by default), so the memo holds one entry per 16 leaves, not one per leaf."""
        n = end - start
        if n == 1:
            return self.leaves[start]
        cached = self._memo.get((start, end)) if n >= self.memo_min else None
        if cached is None:
            k = _split(n)
            cached = node_hash(self.hash(start, start + k), self.hash(start + k, end))
            if n >= self.memo_min:
                self._memo[(start, end)] = cached
        return cached


class TiledTree(SubtreeHasher):
    """MTH over a log held as hashes of complete blocks of ``block`` leaves plus leaves read a block at a time.

    Every perfect subtree of ``block`` or more leaves that the RFC's recursion meets is aligned,
    so it is computed from the block hashes; a range inside one block is computed from that
    block's leaf hashes, which ``load(b)`` gives (block ``b``, the last one possibly partial).
    The ``keep`` most recently used blocks stay loaded, each with all its subtree hashes, so
    proofs of neighbouring leaves read each block once and memory does not grow with the log.
    """

    def __init__(self, size: int, block: int, blocks: Sequence[bytes], load: Callable[[int], Sequence[bytes]],
                 keep: int = 64) -> None:
        super().__init__([])
        self.size, self.block, self.load, self.keep = size, block, load, keep
        self.blocks = SubtreeHasher(blocks, memo_min=2)
        self._loaded: OrderedDict[int, SubtreeHasher] = OrderedDict()

    def __len__(self) -> int:
        return self.size

    def _block(self, b: int) -> SubtreeHasher:
        tree = self._loaded.get(b)
        if tree is None:
            tree = self._loaded[b] = SubtreeHasher(self.load(b), memo_min=2)
            if len(self._loaded) > self.keep:
                self._loaded.popitem(last=False)
        else:
            self._loaded.move_to_end(b)
        return tree

    def hash(self, start: int, end: int) -> bytes:
        n, b = end - start, start // self.block
        if n >= self.block and n & (n - 1) == 0:
            return self.blocks.hash(start // self.block, end // self.block)
        if (end - 1) // self.block == b:
            return self._block(b).hash(start - b * self.block, end - b * self.block)
        k = _split(n)
        return node_hash(self.hash(start, start + k), self.hash(start + k, end))


def _split(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_size(tree: SubtreeHasher, size: int) -> None:
    if not 0 <= size <= len(tree):
        raise ValueError(f"tree size {size} outside 0..{len(tree)}")


def inclusion_proof(tree: SubtreeHasher, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]): the audit path of leaf ``index`` in the tree of ``size`` leaves."""
    _check_size(tree, size)
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not below tree size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(tree.hash(start + k, end))
            end = start + k
        else:
            path.append(tree.hash(start, start + k))
            start += k
    return path[::-1]


def consistency_proof(tree: SubtreeHasher, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[0:second]): shows the tree of ``first`` leaves is a prefix of that of ``second``."""
    _check_size(tree, second)
    if not 0 <= first <= second:
        raise ValueError(f"first size {first} is not within 0..{second}")
    if first in (0, second):
        return []
    path: list[bytes] = []
    m, start, end, whole = first, 0, second, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            path.append(tree.hash(start + k, end))
            end = start + k
        else:
            path.append(tree.hash(start, start + k))
            start, m, whole = start + k, m - k, False
    if not whole:
        path.append(tree.hash(start, end))
    return path[::-1]


def _shift_while_even(fn: int, sn: int) -> tuple[int, int]:
    while fn & 1 == 0 and fn != 0:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def root_from_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes:
    """The root an inclusion proof implies (RFC 9162 §2.1.3.2); ``ProofError`` if it cannot hold."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not below tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofError(f"inclusion proof has {len(path)} hashes, more than a tree of {size} needs")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                fn, sn = _shift_while_even(fn, sn)
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"inclusion proof has {len(path)} hashes, fewer than a tree of {size} needs")
    return r


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> None:
    """Raise ``ProofError`` unless ``leaf`` sits at ``index`` in the tree of ``size`` with ``root``."""
    computed = root_from_inclusion(leaf, index, size, path)
    if computed != root:
        raise ProofError(
            f"inclusion proof of leaf {index} gives root {computed.hex()}, not the signed {root.hex()} "
            f"of tree size {size}"
        )


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]) -> None:
    """Raise ``ProofError`` unless the tree (first, first_root) is a prefix of (second, second_root)."""
    if not 0 <= first <= second:
        raise ProofError(f"tree size went from {first} to {second}: a log never shrinks")
    if first == 0 or first == second:
        if path:
            raise ProofError(f"consistency proof from {first} to {second} must be empty")
        if first == second and first_root != second_root:
            raise ProofError(f"two different roots for the same tree size {first}: the log forked")
        if first == 0 and first_root != EMPTY_ROOT:
            raise ProofError("the root of the empty tree is not SHA-256 of nothing")
        return
    if not path:
        raise ProofError(f"consistency proof from {first} to {second} is empty")
    hashes = list(path)
    if first & (first - 1) == 0:
        hashes.insert(0, first_root)
    fn, sn = _shift_while_odd(first - 1, second - 1)
    fr = sr = hashes[0]
    for c in hashes[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof from {first} to {second} has too many hashes")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                fn, sn = _shift_while_even(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"consistency proof from {first} to {second} has too few hashes")
    if fr != first_root:
        raise ProofError(f"the log of size {second} does not contain the signed tree of size {first}: "
                         f"history was rewritten (old root {first_root.hex()}, proof gives {fr.hex()})")
    if sr != second_root:
        raise ProofError(f"consistency proof gives root {sr.hex()} for size {second}, not the signed "
                         f"{second_root.hex()}")


def _shift_while_odd(fn: int, sn: int) -> tuple[int, int]:
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn
