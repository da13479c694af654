"""RFC 6962 §2.1 Merkle Tree Hash over a list of leaf data (pure).

leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right); a list of
n > 1 leaves splits at k, the largest power of two smaller than n; the empty
tree hashes to SHA-256(b""). Checkpoints use the raw 32-byte envelope hashes as
the leaf data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree(hashes: Sequence[bytes], start: int, end: int) -> bytes:
    n = end - start
    if n == 1:
        return hashes[start]
    k = _split(n)
    return node_hash(_subtree(hashes, start, start + k), _subtree(hashes, start + k, end))


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """MTH(leaves) of RFC 6962: the 32-byte root over the leaf data in the given order."""
    if not leaves:
        return EMPTY_ROOT
    return _subtree([leaf_hash(data) for data in leaves], 0, len(leaves))


def streamed_root(leaves: Iterable[bytes]) -> bytes:
    """``merkle_root`` of leaves given one at a time, holding one subtree hash per bit of their count."""
    stack: list[tuple[int, bytes]] = []  # (size, hash) of complete subtrees, sizes strictly decreasing
    for data in leaves:
        size, digest = 1, leaf_hash(data)
        while stack and stack[-1][0] == size:
            size, digest = 2 * size, node_hash(stack.pop()[1], digest)
        stack.append((size, digest))
    if not stack:
        return EMPTY_ROOT
    digest = stack.pop()[1]
    while stack:
        digest = node_hash(stack.pop()[1], digest)
    return digest
