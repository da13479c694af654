"""``python bench/merkle_log.py``: CPU time of the Merkle log's work against bare SHA-256 over the same leaves.

For a log of N envelopes (default 10,000 and 100,000) it measures, in one process and one run:

- *bare*: SHA-256 of 2N - 1 inputs of the tree's sizes (N leaf inputs of 33 bytes, N - 1 node
  inputs of 65 bytes) — the least any recomputation of the root can cost;
- *tree head*: what the sequencer does per signed head — leaf hashes and the root from the
  N stored envelope hashes (``SubtreeHasher``);
- *receipt*: what a receipt or proof request does — one inclusion proof from the stored hashes of
  the complete 256-leaf blocks plus the leaves of the entry's block and the last one (``TiledTree``);
- *verify*: one inclusion proof checked (``verify_inclusion``), as a verifier or browser does.

Prints CPU seconds (``time.process_time``, best of 3) and the ratio to the bare figure. Database
reads are not included (they depend on the server); docs/transparency.md gives the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from protocols.merkle import leaf_hash  # noqa: E402
from protocols.merkle_proof import (  # noqa: E402
    SubtreeHasher,
    TiledTree,
    inclusion_proof,
    verify_inclusion,
)

BLOCK = 256


def _best(work: Callable[[], object], rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return min(times)


def _bare(hashes: list[bytes]) -> None:
    sha = hashlib.sha256
    for h in hashes:
        sha(b"\x00" + h).digest()
    pair = hashes[0] + hashes[0]
    for _ in range(len(hashes) - 1):
        sha(b"\x01" + pair).digest()


def measure(n: int) -> dict[str, float]:
    """CPU seconds of each step for a log of ``n`` envelopes."""
    hashes = [hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(n)]
    index = n // 3

    def head() -> bytes:
        return SubtreeHasher([leaf_hash(h) for h in hashes]).root(n)

    tree = SubtreeHasher([leaf_hash(h) for h in hashes])
    blocks = [tree.hash(b * BLOCK, (b + 1) * BLOCK) for b in range(n // BLOCK)]

    def load(b: int) -> list[bytes]:
        return [leaf_hash(h) for h in hashes[b * BLOCK:(b + 1) * BLOCK]]

    def receipt() -> list[bytes]:
        return inclusion_proof(TiledTree(n, BLOCK, blocks, load), index, n)

    root, path = tree.root(n), inclusion_proof(tree, index, n)
    leaf = leaf_hash(hashes[index])
    verify = _best(lambda: [verify_inclusion(leaf, index, n, path, root) for _ in range(1000)]) / 1000
    return {"bare": _best(lambda: _bare(hashes)), "tree_head": _best(head), "receipt": _best(receipt),
            "verify": verify}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    args = parser.parse_args()
    print(f"{'log size':>10} {'bare SHA-256':>13} {'tree head':>11} {'ratio':>6} {'receipt':>9} {'ratio':>6} "
          f"{'verify one proof':>17}")
    for n in args.sizes:
        m = measure(n)
        print(f"{n:>10} {m['bare']:>12.3f}s {m['tree_head']:>10.3f}s {m['tree_head'] / m['bare']:>5.2f}x "
              f"{m['receipt'] * 1e3:>7.2f}ms {m['receipt'] / m['bare']:>5.3f}x {m['verify'] * 1e6:>14.1f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
