"""Public Merkle-log API: signed tree heads, inclusion and consistency proofs, receipts, witness co-signatures.

Everything here is public: tree heads and proofs hold only hashes, and receipts exist
only for published (sample) results, whose envelopes carry no personal data.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query

from lims_api.core.deps import SessionDep, SettingsDep
from lims_api.core.models import utc_now

from .log_proofs import (
    ProofUnavailable,
    add_cosignature,
    consistency,
    head_document,
    inclusion,
    published_envelope,
    receipt,
    signing_keys,
    tree_heads,
)
from .merkle_log import latest_head

router = APIRouter(prefix="/api/v1/log", tags=["log"],
                   responses={404: {"description": "no such tree head, leaf or proof yet"}})
Size = Annotated[int, Query(ge=0)]


def _not_found(exc: ProofUnavailable) -> HTTPException:
    return HTTPException(status_code=404, detail=str(exc))


@router.get("/tree-heads")
def list_tree_heads(session: SessionDep, since: Size = 0,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 1000) -> dict[str, Any]:
    """Signed tree heads of size >= ``since`` (oldest first) with their co-signatures, and the LIMS keys."""
    heads = tree_heads(session, since, limit)
    return {"tree_heads": heads, "keys": signing_keys(session, {h["tree_head"]["kid"] for h in heads})}


@router.get("/tree-heads/latest")
def latest_tree_head(session: SessionDep) -> dict[str, Any]:
    """The newest signed tree head."""
    head = latest_head(session)
    if head is None:
        raise HTTPException(status_code=404, detail="no signed tree head yet")
    return head_document(head)


@router.get("/consistency")
def consistency_proof(session: SessionDep, first: Size, second: Size) -> dict[str, Any]:
    """Proof that the signed head of size ``first`` is a prefix of the one of size ``second``."""
    try:
        path = consistency(session, first, second)
    except ProofUnavailable as exc:
        raise _not_found(exc) from None
    return {"first": first, "second": second, "path": [p.hex() for p in path]}


@router.get("/inclusion/{result_id}")
def inclusion_proof(session: SessionDep, result_id: str, size: Annotated[int | None, Query(ge=1)] = None
                    ) -> dict[str, Any]:
    """Audit path of a published result in the latest signed head (or the one of ``size``)."""
    try:
        row = published_envelope(session, result_id)
        head, path = inclusion(session, row, size)
    except ProofUnavailable as exc:
        raise _not_found(exc) from None
    return {"result_id": result_id, "index": row.log_index, "size": head.size, "path": [p.hex() for p in path],
            "envelope_hash": row.hash}


@router.get("/receipts/{result_id}")
def result_receipt(session: SessionDep, result_id: str) -> dict[str, Any]:
    """The self-contained receipt of a published result (``kuaijian-receipt/1``)."""
    try:
        return receipt(session, result_id)
    except ProofUnavailable as exc:
        raise _not_found(exc) from None


@router.post("/cosignatures", status_code=204)
def post_cosignature(session: SessionDep, settings: SettingsDep, size: Annotated[int, Body(ge=0)],
                     kid: Annotated[str, Body(max_length=16)], sig: Annotated[str, Body(max_length=100)]) -> None:
    """A witness's co-signature of the head of ``size``; kept only if it verifies under a configured witness key."""
    try:
        add_cosignature(session, size, {"kid": kid, "sig": sig}, settings.witness_keys, utc_now())
    except ProofUnavailable as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    session.commit()
