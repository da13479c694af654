"""What a log monitor concludes from the tree heads a LIMS shows it (pure; the caller fetches).

A monitor remembers the last head it accepted. Each new head must be signed by the
pinned LIMS key and extend the remembered one: a smaller size, or the same size with
another root, or a consistency proof that fails, means the log showed two histories
(a split view, or history rewritten) and raises ``SplitView``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import treehead as th
from .errors import RemoteProtocolError
from .merkle_proof import ProofError, verify_consistency


class SplitView(RemoteProtocolError):
    """The log's heads are not one append-only history."""


def new_heads(last: dict[str, Any] | None, heads: Sequence[dict[str, Any]], lims_raw: bytes) -> list[dict[str, Any]]:
    """The verified heads after ``last`` in size order; ``SplitView``/``TreeHeadError`` when one cannot be."""
    for head in heads:
        th.verify_tree_head(head, lims_raw)
    ordered = sorted(heads, key=lambda head: head["size"])
    for older, newer in zip(ordered, ordered[1:], strict=False):
        if older["size"] == newer["size"] and older["root"] != newer["root"]:
            raise SplitView(f"two signed heads of size {older['size']} with different roots "
                            f"{older['root']} and {newer['root']}")
    if last is None:
        return ordered
    for head in ordered:
        if head["size"] < last["size"]:
            continue
        if head["size"] == last["size"] and head["root"] != last["root"]:
            raise SplitView(f"the log now signs root {head['root']} for size {head['size']}, but showed "
                            f"root {last['root']} before: split view")
    latest = ordered[-1]["size"] if ordered else last["size"]
    if latest < last["size"]:
        raise SplitView(f"the log's newest head is size {latest}, smaller than the size {last['size']} seen before: "
                        f"history was rewritten")
    return [head for head in ordered if head["size"] > last["size"]]


def check_extends(older: dict[str, Any], newer: dict[str, Any], path: Sequence[bytes]) -> None:
    """Raise ``SplitView`` unless the consistency proof shows ``newer`` extends ``older``."""
    try:
        verify_consistency(older["size"], newer["size"], bytes.fromhex(older["root"]), bytes.fromhex(newer["root"]),
                           path)
    except ProofError as exc:
        raise SplitView(f"head of size {newer['size']} does not extend the head of size {older['size']} "
                        f"seen before: {exc}") from exc
