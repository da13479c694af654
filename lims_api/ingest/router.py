"""Envelope ingest: NDJSON in, one verdict per line out; every stored envelope committed before the reply."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status

from protocols.wire.paths import INGEST_PATH, NDJSON

from lims_api.core.deps import BoundedBody, SessionDep, SettingsDep

from .schemas import IngestResponse
from .service import ingest_batch

router = APIRouter(tags=["ingest"])

NDJSON_TYPES = frozenset({NDJSON, "application/jsonl"})


def require_ndjson(request: Request) -> None:
    """415 unless the body is declared as NDJSON (checked before the body is read)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in NDJSON_TYPES:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"Content-Type must be application/x-ndjson (one envelope per line), got {media_type or 'none'!r}",
        )


INGEST_BODY = {"required": True, "content": {media: {"schema": {
    "type": "string", "description": "One signed envelope (its JCS text) per line, UTF-8; docs/envelope.md."}}
    for media in sorted(NDJSON_TYPES)}}


@router.post(INGEST_PATH, response_model=IngestResponse, dependencies=[Depends(require_ndjson)],
             openapi_extra={"requestBody": INGEST_BODY})
def ingest(body: BoundedBody, session: SessionDep, settings: SettingsDep, request: Request) -> Response:
    """Verify and store each envelope line (contract §1); bad lines are reported, never block others.

    After ``max_rejected_lines`` rejected lines the rest of the body is not processed (``stopped``).
    The answer is serialised once from the model built here (``IngestResponse``), not validated again.
    """
    answer = ingest_batch(session, body, settings.max_rejected_lines)
    if any(line.status == "stored" for line in answer.results):
        request.app.state.notifier.publish()  # live boards of this process update at once
    return Response(answer.model_dump_json(), media_type="application/json")
