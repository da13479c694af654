"""The Merkle log over every stored envelope's hash, in reception order, and its signed tree heads.

Ingest adds nothing per envelope: the sequencer (``sign_tree_head``, run every
``tree_head_interval_min`` and by the daily checkpoint command) gives each envelope
not yet in the log the next positions in ``envelopes.id`` order, recomputes the tree
from the stored hashes and signs a head when the log grew. Before signing it checks
that the stored entries still give the root of the previous head: a stored envelope
altered, deleted or moved raises ``LogMismatch`` and no head is signed over it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from protocols.envelope import canonical
from protocols.merkle import leaf_hash
from protocols.merkle_proof import SubtreeHasher, TiledTree
from protocols.treehead import build_tree_head

from lims_api.core.errors import LimsError
from lims_api.ingest.models import StoredEnvelope

from . import audit_log
from .models import LogBlock, LogHead, TreeHead
from .signing_key import register_key

HEAD_ID = 1
BLOCK = 256
"""Leaves per stored block hash (``merkle_blocks``): a proof reads size / BLOCK block hashes and the leaves of its
own block and the last one."""


class LogMismatch(LimsError):
    """The stored envelopes no longer give the signed tree heads: the log was altered."""


@dataclass(frozen=True)
class TreeHeadRun:
    """What one sequencer run did: ``signed`` a new head, or ``unchanged`` (nothing new)."""

    outcome: str
    size: int
    root: str


def _sequence(session: Session) -> int:
    """Give unsequenced envelopes the next log positions (``id`` order); return the log size."""
    session.execute(update(LogHead).where(LogHead.id == HEAD_ID).values(size=LogHead.size))  # lock first
    size = session.scalar(select(LogHead.size).where(LogHead.id == HEAD_ID))
    assert size is not None, "merkle_log_head row missing (migration 0007)"
    new = session.scalars(
        select(StoredEnvelope.id).where(StoredEnvelope.log_index.is_(None)).order_by(StoredEnvelope.id)
    ).all()
    if new:
        session.execute(update(StoredEnvelope), [{"id": row_id, "log_index": size + n} for n, row_id in enumerate(new)])
        size += len(new)
        session.execute(update(LogHead).where(LogHead.id == HEAD_ID).values(size=size))
    return size


def load_tree(session: Session, size: int) -> SubtreeHasher:
    """The log's first ``size`` leaf hashes from the stored envelopes; ``LogMismatch`` if one is missing."""
    rows = session.execute(
        select(StoredEnvelope.log_index, StoredEnvelope.hash)
        .where(StoredEnvelope.log_index < size).order_by(StoredEnvelope.log_index).execution_options(yield_per=10_000)
    )
    leaves: list[bytes] = []  # only the leaf hashes are kept, not the rows
    for expected, (index, digest) in enumerate(rows):
        if index != expected:
            raise LogMismatch(f"log entry {expected} is no longer stored")
        leaves.append(leaf_hash(bytes.fromhex(digest)))
    if len(leaves) != size:
        raise LogMismatch(f"log entry {len(leaves)} is no longer stored (log size {size})")
    return SubtreeHasher(leaves)


def _block_leaves(session: Session, size: int) -> Callable[[int], list[bytes]]:
    """A reader of the leaf hashes of log block ``b`` (the last one partial) of the tree of ``size``."""
    def load(b: int) -> list[bytes]:
        start, end = b * BLOCK, min(size, (b + 1) * BLOCK)
        rows = session.execute(select(StoredEnvelope.log_index, StoredEnvelope.hash).where(
            StoredEnvelope.log_index >= start, StoredEnvelope.log_index < end).order_by(StoredEnvelope.log_index)).all()
        for expected, row in enumerate(rows, start):
            if row.log_index != expected:
                raise LogMismatch(f"log entry {expected} is no longer stored")
        if len(rows) != end - start:
            raise LogMismatch(f"log entry {start + len(rows)} is no longer stored")
        return [leaf_hash(bytes.fromhex(row.hash)) for row in rows]
    return load


def proof_tree(session: Session, size: int) -> TiledTree:
    """The tree of ``size`` from the stored block hashes, reading a block's leaves when a proof needs them."""
    load = _block_leaves(session, size)
    blocks = [bytes.fromhex(h) for h in
              session.scalars(select(LogBlock.hash).where(LogBlock.idx < size // BLOCK).order_by(LogBlock.idx))]
    if len(blocks) < size // BLOCK:  # blocks not stored yet (a log from before them): hash them from the leaves
        blocks = [SubtreeHasher(load(b)).root(BLOCK) for b in range(size // BLOCK)]
    return TiledTree(size, BLOCK, blocks, load)


def check_stored(session: Session, size: int) -> None:
    """Raise ``LogMismatch`` unless every one of the log's first ``size`` entries is stored."""
    stored = session.scalar(select(func.count()).where(StoredEnvelope.log_index < size))
    if stored != size:
        raise LogMismatch(f"{size - (stored or 0)} of the log's first {size} entries are no longer stored")


def _store_blocks(session: Session, tree: SubtreeHasher, size: int) -> None:
    """Check the stored block hashes against the recomputed tree and add the newly completed blocks."""
    stored = session.scalars(select(LogBlock.hash).order_by(LogBlock.idx)).all()
    for idx, digest in enumerate(stored):
        if tree.hash(idx * BLOCK, (idx + 1) * BLOCK).hex() != digest:
            raise LogMismatch(f"stored hash of log block {idx} (entries {idx * BLOCK}..{(idx + 1) * BLOCK - 1}) "
                              f"does not match the stored entries")
    new = [{"idx": b, "hash": tree.hash(b * BLOCK, (b + 1) * BLOCK).hex()} for b in range(len(stored), size // BLOCK)]
    if new:
        session.execute(insert(LogBlock), new)


def latest_head(session: Session) -> TreeHead | None:
    """The newest signed tree head, or ``None`` before the first."""
    return session.scalar(select(TreeHead).order_by(TreeHead.size.desc()).limit(1))


def check_head(tree: SubtreeHasher, head: TreeHead) -> None:
    """Raise ``LogMismatch`` unless the stored entries still give ``head``'s root."""
    root = tree.root(head.size).hex()
    if root != head.root:
        raise LogMismatch(f"the stored log's first {head.size} entries give root {root}, not the signed "
                          f"{head.root}: a stored envelope was altered, removed or moved")


def sign_tree_head(session: Session, key: Ed25519PrivateKey, now: datetime) -> TreeHeadRun:
    """Sequence new envelopes and sign a head when the log grew (caller commits)."""
    size = _sequence(session)
    last = latest_head(session)
    tree = load_tree(session, size)
    if last is not None:
        check_head(tree, last)
    _store_blocks(session, tree, size)
    if size == (last.size if last is not None else 0):
        return TreeHeadRun("unchanged", size, last.root if last is not None else tree.root(0).hex())
    register_key(session, key)
    document = build_tree_head(size, tree.root(size), now.isoformat(timespec="milliseconds"), key)
    session.add(TreeHead(size=size, root=document["root"], document=canonical(document).decode(), created_at=now))
    audit_log.append(session, "system:log", "log.tree_head", f"size:{size}", {"root": document["root"]})
    return TreeHeadRun("signed", size, document["root"])


def run_tree_head(session: Session, key: Ed25519PrivateKey, now: datetime) -> TreeHeadRun:
    """``sign_tree_head`` and commit; a mismatch is committed to the audit log, then raised."""
    try:
        run = sign_tree_head(session, key, now)
        session.commit()
        return run
    except LogMismatch as exc:
        session.rollback()
        audit_log.append(session, "system:log", "log.mismatch", "log", {"error": str(exc)})
        session.commit()
        raise
