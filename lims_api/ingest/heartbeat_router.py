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


class HeartbeatAnswer(BaseModel):
    gateway: str
    received_at: Rfc3339
    clock_skew_s: float
    """received_at − sent_at."""


@router.post(
    HEARTBEAT_PATH, response_model=HeartbeatAnswer,
    responses={401: {"description": "unsigned"}, 403: {"description": "unknown/revoked kid, forged, or another site"},
               404: {"description": "unknown gateway"}, 409: {"description": "not newer than the stored one"}},
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
