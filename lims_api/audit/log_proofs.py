"""Proofs out of the Merkle log: inclusion of a result, consistency of two heads, receipts, co-signatures."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocols.bundle import LIMS_GATEWAY
from protocols.envelope import b64url_decode
from protocols.merkle_proof import consistency_proof, inclusion_proof
from protocols.privacy import personal_data_findings
from protocols.receipt import build_receipt
from protocols.treehead import TreeHeadError, verify_cosignature

from lims_api.core.errors import LimsError
from lims_api.ingest.models import GatewayKey, StoredEnvelope

from .merkle_log import LogMismatch, latest_head, proof_tree
from .models import Cosignature, SigningKey, TreeHead


class ProofUnavailable(LimsError):
    """No proof can be given: unknown or unpublished result, not yet in a signed head, unknown size."""


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="milliseconds")


def head_document(head: TreeHead) -> dict[str, Any]:
    """The signed tree head as a JSON object."""
    return json.loads(head.document)  # type: ignore[no-any-return]


def cosignatures(session: Session, size: int) -> list[dict[str, str]]:
    """Witness co-signatures of the head of ``size``."""
    rows = session.scalars(select(Cosignature).where(Cosignature.size == size).order_by(Cosignature.kid))
    return [{"kid": row.kid, "sig": row.sig} for row in rows]


def tree_heads(session: Session, since: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
    """Signed heads of size >= ``since``, oldest first, each with its co-signatures."""
    rows = session.scalars(select(TreeHead).where(TreeHead.size >= since).order_by(TreeHead.size).limit(limit))
    return [{"tree_head": head_document(row), "cosignatures": cosignatures(session, row.size)} for row in rows]


def signing_keys(session: Session, kids: set[str]) -> list[dict[str, str]]:
    """The LIMS public keys of ``kids``."""
    rows = session.scalars(select(SigningKey).where(SigningKey.kid.in_(sorted(kids))).order_by(SigningKey.kid))
    return [{"kid": row.kid, "public_key": row.public_key} for row in rows]


def _head(session: Session, size: int | None) -> TreeHead:
    head = latest_head(session) if size is None else session.get(TreeHead, size)
    if head is None:
        raise ProofUnavailable("no signed tree head yet" if size is None else f"no signed tree head of size {size}")
    return head


def published_envelope(session: Session, result_id: str) -> StoredEnvelope:
    """The stored, published (sample, not QC) envelope of ``result_id``."""
    row = session.scalar(
        select(StoredEnvelope).where(StoredEnvelope.result_id == result_id, StoredEnvelope.qc_control == "sample")
        .order_by(StoredEnvelope.id).limit(1)
    )
    if row is None:
        raise ProofUnavailable(f"no published result {result_id!r}")
    return row


def inclusion(session: Session, row: StoredEnvelope, size: int | None = None) -> tuple[TreeHead, list[bytes]]:
    """The head (latest, or of ``size``) and the audit path of ``row`` in it."""
    head = _head(session, size)
    if row.log_index is None or row.log_index >= head.size:
        raise ProofUnavailable(f"result {row.result_id!r} is not yet covered by a signed tree head "
                               f"(tree heads are signed every few minutes)")
    try:
        tree = proof_tree(session, head.size)
    except LogMismatch as exc:
        raise ProofUnavailable(f"the stored log is damaged: {exc}") from exc
    return head, inclusion_proof(tree, row.log_index, head.size)


def consistency(session: Session, first: int, second: int) -> list[bytes]:
    """Consistency proof from the log's first ``first`` entries to the signed head of size ``second``."""
    if first > second:
        raise ProofUnavailable(f"first size {first} is larger than second size {second}")
    _head(session, second)
    try:
        tree = proof_tree(session, second)
    except LogMismatch as exc:
        raise ProofUnavailable(f"the stored log is damaged: {exc}") from exc
    return consistency_proof(tree, first, second)


def receipt(session: Session, result_id: str) -> dict[str, Any]:
    """The self-contained receipt of a published result against the latest signed head."""
    row = published_envelope(session, result_id)
    findings = personal_data_findings(json.loads(row.raw_text))
    if findings:
        raise ProofUnavailable(f"result {result_id!r} is not published as a receipt: its signed record may hold "
                               f"personal data ({findings[0]})")
    head, path = inclusion(session, row)
    gateway_key = session.scalar(select(GatewayKey).where(GatewayKey.gateway_id == row.gateway_id,
                                                          GatewayKey.kid == row.kid))
    document = head_document(head)
    lims_key = session.get(SigningKey, document["kid"])
    if gateway_key is None or lims_key is None:
        raise ProofUnavailable(f"the keys of result {result_id!r} are not stored")
    key_entry = {"gateway": gateway_key.gateway_id, "kid": gateway_key.kid, "public_key": gateway_key.public_key,
                 "valid_from": _iso(gateway_key.valid_from), "revoked_at": _iso(gateway_key.revoked_at)}
    return build_receipt(row.raw_text, key_entry, row.log_index or 0, path, document,
                         {"gateway": LIMS_GATEWAY, "kid": lims_key.kid, "public_key": lims_key.public_key},
                         cosignatures(session, head.size))


def add_cosignature(session: Session, size: int, cosignature: dict[str, Any], witnesses: dict[str, str],
                    now: datetime) -> None:
    """Store a witness co-signature of the head of ``size`` once it verifies under a configured witness key."""
    head = _head(session, size)
    public = witnesses.get(str(cosignature.get("kid")))
    if public is None:
        raise ProofUnavailable(f"kid {cosignature.get('kid')!r} is not a configured witness")
    try:
        verify_cosignature(head_document(head), cosignature, b64url_decode(public))
    except (TreeHeadError, ValueError) as exc:
        raise ProofUnavailable(str(exc)) from exc
    if session.get(Cosignature, (size, cosignature["kid"])) is None:
        session.add(Cosignature(size=size, kid=cosignature["kid"], sig=cosignature["sig"], received_at=now))
