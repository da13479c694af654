"""Gateway heartbeats: ``POST /api/v1/gateways/{id}/heartbeat`` with a signed health document."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from protocols.wire.paths import HEARTBEAT_PATH

from lims_api.audit import audit_log
from lims_api.core.deps import BoundedBody, SessionDep
from lims_api.core.errors import HeartbeatRejected
from lims_api.core.log_limits import rate_limited
from lims_api.core.models import utc_now
from lims_api.core.schemas import Rfc3339

from .heartbeat import accept_heartbeat, clock_skew_s

router = APIRouter(tags=["gateways"])
logger = rate_limited(logging.getLogger(__name__))


HEARTBEAT_BODY = {
    "type": "object", "required": ["gateway", "kid", "sent_at", "status", "sig"],
    "description": "The gateway's signed health document (docs/pages.md); sig is Ed25519 over the JCS form of the rest.",
    "properties": {
        "gateway": {"type": "string", "maxLength": 64}, "kid": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
        "site": {"type": "string", "maxLength": 64}, "sent_at": {"type": "string", "format": "date-time"},
        "interval_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 86400},
        "status": {"type": "object", "required": ["instruments", "backlog", "last_seq"], "properties": {
            "instruments": {"type": "array", "maxItems": 256, "items": {"type": "object"}},
            "backlog": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
            "last_seq": {"type": "integer", "minimum": 0, "maximum": 2**53 - 1},
            "last_upload_at": {"type": ["string", "null"]}}},
        "sig": {"type": "string", "minLength": 1},
    },
}
"""The request body as documented in the OpenAPI (the route reads it raw to verify the signature)."""


class HeartbeatAnswer(BaseModel):
    gateway: str
    received_at: Rfc3339
    clock_skew_s: float
    """received_at − sent_at."""


@router.post(
    HEARTBEAT_PATH, response_model=HeartbeatAnswer,
    responses={401: {"description": "unsigned"}, 403: {"description": "unknown/revoked kid, forged, or another site"},
               404: {"description": "unknown gateway"}, 409: {"description": "not newer than the stored one"}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": HEARTBEAT_BODY}}}},
)
def heartbeat(gateway: str, body: BoundedBody, session: SessionDep) -> HeartbeatAnswer:
    """Store a gateway's signed heartbeat (its instruments, backlog, last seq) as its latest."""
    try:
        row = accept_heartbeat(session, gateway, body, utc_now())
    except HeartbeatRejected as exc:
        session.rollback()
        logger.warning("heartbeat refused: %s", exc.message,
                       extra={"gateway": gateway, "status": exc.status, "reason": exc.message})
        if exc.code == "wrong_site":
            audit_log.append(session, f"gateway:{gateway}", "heartbeat.wrong_site", f"gateway:{gateway}",
                             {"reason": exc.message})
            session.commit()
        raise HTTPException(exc.status, exc.message) from exc
    session.commit()
    return HeartbeatAnswer(gateway=gateway, received_at=row.received_at, clock_skew_s=round(clock_skew_s(row), 3))
