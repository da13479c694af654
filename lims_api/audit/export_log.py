"""The Merkle-log part of an audit bundle: the newest signed tree head and an inclusion proof per exported envelope.

Proofs are computed from the stored block hashes (``merkle_blocks``) and the leaf hashes of each
envelope's own block and the last one, a few blocks held at a time, so memory does not grow with the
log. If the log was altered since the head was signed, the proofs that cover the change do not
verify, and ``audit verify`` reports each one as a ``log`` fault.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocols.bundle_log import INCLUSION_FILE, TREE_HEAD_FILE
from protocols.merkle_proof import inclusion_proof

from lims_api.ingest.models import StoredEnvelope

from .log_proofs import cosignatures, head_document
from .merkle_log import LogMismatch, check_stored, latest_head, proof_tree

logger = logging.getLogger(__name__)


def write_log_files(session: Session, target: Path, filters: list[Any]) -> str | None:
    """Write treehead.json and inclusion.jsonl for the exported envelopes; return the head's JCS text (or None)."""
    head = latest_head(session)
    if head is None:
        return None
    signed = {"tree_head": head_document(head), "cosignatures": cosignatures(session, head.size)}
    (target / TREE_HEAD_FILE).write_text(json.dumps(signed, indent=2) + "\n", encoding="utf-8")
    try:
        check_stored(session, head.size)
        tree = proof_tree(session, head.size)
    except LogMismatch as exc:
        logger.error("bundle without inclusion proofs: %s", exc, extra={"error": str(exc)})
        return head.document
    rows = session.execute(
        select(StoredEnvelope.gateway_id, StoredEnvelope.seq, StoredEnvelope.log_index)
        .where(*filters, StoredEnvelope.log_index < head.size)
        .order_by(StoredEnvelope.gateway_id, StoredEnvelope.seq).execution_options(yield_per=1000)
    )
    with (target / INCLUSION_FILE).open("w", encoding="utf-8") as out:
        for row in rows:
            path = [p.hex() for p in inclusion_proof(tree, row.log_index, head.size)]
            line = {"gateway": row.gateway_id, "seq": row.seq, "index": row.log_index, "size": head.size, "path": path}
            out.write(json.dumps(line, separators=(",", ":")) + "\n")
    return head.document
