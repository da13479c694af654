"""Signed daily checkpoint of the LIMS (pure): Merkle root over a day's stored envelopes.

Document (JCS-signed without ``sig`` by the LIMS's Ed25519 key; ``kid`` as for gateways):
``{"v":1,"date","count","ranges","merkle_root","audit_head","created_at","kid","sig"}``.
``ranges`` lists the envelopes the day covers as ``[gateway, first_seq, last_seq]`` runs,
ordered by (gateway, seq), so a verifier holding only a bundle knows which envelopes
belong to the day. Leaves are the raw 32-byte envelope hashes in that order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from . import envelope as env
from .errors import RemoteProtocolError
from .merkle import streamed_root
from .treehead import parse_json_line

VERSION = 1
MEMBERS = frozenset({"v", "date", "count", "ranges", "merkle_root", "audit_head", "created_at", "kid", "sig"})
_HEX64 = re.compile(r"^[0-9a-f]{64}$")

Range = tuple[str, int, int]


class CheckpointError(RemoteProtocolError):
    """A checkpoint document is malformed or its signature does not verify."""


@dataclass(frozen=True)
class StoredLeaf:
    """One envelope of the day: its position and its hex hash."""

    gateway: str
    seq: int
    hash: str


def ranges_of(leaves: Iterable[StoredLeaf]) -> list[Range]:
    """Collapse (gateway, seq)-ordered leaves into contiguous ``(gateway, first, last)`` runs."""
    runs: list[list[Any]] = []
    for leaf in leaves:
        if runs and runs[-1][0] == leaf.gateway and runs[-1][2] + 1 == leaf.seq:
            runs[-1][2] = leaf.seq
        else:
            runs.append([leaf.gateway, leaf.seq, leaf.seq])
    return [(g, a, b) for g, a, b in runs]


def covers(ranges: Sequence[Sequence[Any]], gateway: str, seq: int) -> bool:
    """Whether ``(gateway, seq)`` lies in one of the checkpoint's ranges."""
    return any(g == gateway and a <= seq <= b for g, a, b in ranges)


def root_hex(hashes_hex: Iterable[str]) -> str:
    """Merkle root (hex) over envelope hashes given as hex, in order (read one at a time)."""
    return streamed_root(bytes.fromhex(h) for h in hashes_hex).hex()


def build_checkpoint(
    day: date,
    leaves: Sequence[StoredLeaf],
    audit_head: str,
    created_at: str,
    private_key: Ed25519PrivateKey,
) -> dict[str, Any]:
    """The signed checkpoint of ``day`` over ``leaves`` (already ordered by gateway, seq)."""
    unsigned = {
        "v": VERSION,
        "date": day.isoformat(),
        "count": len(leaves),
        "ranges": [list(r) for r in ranges_of(leaves)],
        "merkle_root": root_hex(leaf.hash for leaf in leaves),
        "audit_head": audit_head,
        "created_at": created_at,
        "kid": env.key_id(env.public_key_bytes(private_key.public_key())),
    }
    return {**unsigned, "sig": env.b64url_encode(private_key.sign(env.canonical(unsigned)))}


def check_checkpoint_shape(doc: Any) -> None:
    """Raise ``CheckpointError`` naming the first member that breaks the format."""
    if not isinstance(doc, dict):
        raise CheckpointError("checkpoint is not a JSON object")
    missing, extra = MEMBERS - doc.keys(), doc.keys() - MEMBERS
    if missing or extra:
        raise CheckpointError(f"members missing {sorted(missing)} / unknown {sorted(extra)}")
    if doc["v"] != VERSION or type(doc["v"]) is not int:
        raise CheckpointError(f"v must be 1, got {doc['v']!r}")
    try:
        date.fromisoformat(doc["date"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"date {doc['date']!r} is not YYYY-MM-DD") from exc
    if type(doc["count"]) is not int or doc["count"] < 0:
        raise CheckpointError("count must be a non-negative integer")
    ranges = doc["ranges"]
    if not isinstance(ranges, list) or not all(_is_range(r) for r in ranges):
        raise CheckpointError("ranges must be a list of [gateway, first_seq, last_seq]")
    if sum(r[2] - r[1] + 1 for r in ranges) != doc["count"]:
        raise CheckpointError("count does not equal the number of seqs in ranges")
    for member in ("merkle_root", "audit_head"):
        if not isinstance(doc[member], str) or not _HEX64.match(doc[member]):
            raise CheckpointError(f"{member} must be 64 lowercase hex characters")


def _is_range(value: Any) -> bool:
    return (
        isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
        and type(value[1]) is int and type(value[2]) is int and 1 <= value[1] <= value[2]
    )


def verify_checkpoint_signature(doc: dict[str, Any], public_raw: bytes) -> None:
    """Raise ``CheckpointError`` unless ``sig`` verifies under ``public_raw`` (whose kid must match)."""
    if env.key_id(public_raw) != doc.get("kid"):
        raise CheckpointError("kid does not match the LIMS public key")
    unsigned = {k: v for k, v in doc.items() if k != "sig"}
    try:
        signature = env.b64url_decode(doc["sig"])
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, env.canonical(unsigned))
    except (InvalidSignature, ValueError, TypeError) as exc:
        raise CheckpointError(f"signature of the checkpoint of {doc.get('date')} does not verify") from exc


def parse_checkpoint_line(line: bytes) -> dict[str, Any]:
    """One line of checkpoints.jsonl as a well-formed checkpoint; ``CheckpointError`` says why not."""
    return parse_json_line(line, check_checkpoint_shape, CheckpointError)
