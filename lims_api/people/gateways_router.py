"""Gateways: enrolment, key rotation and revocation (admin), chain status (operational, no result data)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response, status
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from lims_api.core.deps import SessionDep
from lims_api.core.errors import EnrolmentError
from lims_api.core.models import utc_now
from lims_api.ingest.models import ChainGap, ForkAlarm, Gateway, StoredEnvelope

from .auth import Principal
from .deps import require
from .enrolment import enrol_gateway, revoke_key, rotate_key
from .schemas import ChainResponse, EnrolRequest, EnrolResponse, GapOut, KeyRequest, RevokeResponse

router = APIRouter(prefix="/api/v1/gateways", tags=["gateways"])
Admin = Annotated[Principal, Depends(require("admin"))]


@router.post(
    "",
    response_model=EnrolResponse,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "same key already enrolled"}, 409: {"description": "conflict"}},
)
def enrol(body: EnrolRequest, admin: Admin, session: SessionDep, response: Response) -> EnrolResponse:
    """Enrol a gateway and its public key; creates the site if new. Idempotent for the same key."""
    try:
        key, created = enrol_gateway(session, body, utc_now(), admin.actor)
        session.commit()
    except EnrolmentError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except IntegrityError:  # a concurrent enrolment of the same gateway/key won the race
        session.rollback()
        key, created = enrol_gateway(session, body, utc_now(), admin.actor)
        session.commit()
    if not created:
        response.status_code = status.HTTP_200_OK
    return EnrolResponse(gateway=key.gateway_id, kid=key.kid, site_id=body.site.id, valid_from=key.valid_from)


@router.post(
    "/{gateway}/keys",
    response_model=EnrolResponse,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "key already enrolled"}, 404: {"description": "unknown gateway"},
               409: {"description": "key was revoked"}},
)
def rotate(gateway: str, body: KeyRequest, admin: Admin, session: SessionDep, response: Response) -> EnrolResponse:
    """Add a new key (new kid, same seq chain); both keys verify until the old one is revoked."""
    try:
        outcome = rotate_key(session, gateway, body.public_key, utc_now(), admin.actor)
    except EnrolmentError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    if outcome is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"gateway {gateway!r} is not enrolled")
    session.commit()
    key, created = outcome
    if not created:
        response.status_code = status.HTTP_200_OK
    site_id = session.get(Gateway, gateway).site_id  # type: ignore[union-attr]
    return EnrolResponse(gateway=gateway, kid=key.kid, site_id=site_id, valid_from=key.valid_from)


@router.post("/{gateway}/keys/{kid}/revoke", response_model=RevokeResponse)
def revoke(gateway: str, kid: str, admin: Admin, session: SessionDep) -> RevokeResponse:
    """Revoke a gateway key: envelopes signed with it are refused from now on; stored ones stay valid."""
    key = revoke_key(session, gateway, kid, utc_now(), admin.actor)
    if key is None or key.revoked_at is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no key {kid} for gateway {gateway!r}")
    session.commit()
    return RevokeResponse(gateway=gateway, kid=kid, revoked_at=key.revoked_at)


Staff = Annotated[Principal, Depends(require("technician", "manager", "regulator", "admin"))]


@router.get("/{gateway}/chain", response_model=ChainResponse)
def chain(gateway: str, _staff: Staff, session: SessionDep) -> ChainResponse:
    """Chain status of one gateway (signed-in staff): last seq, stored count, open gaps, fork alarms."""
    if session.get(Gateway, gateway) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"gateway {gateway!r} is not enrolled")
    last_seq, count = session.execute(
        select(func.coalesce(func.max(StoredEnvelope.seq), 0), func.count()).where(
            StoredEnvelope.gateway_id == gateway
        )
    ).one()
    gaps = session.scalars(
        select(ChainGap)
        .where(ChainGap.gateway_id == gateway, ChainGap.closed_at.is_(None))
        .order_by(ChainGap.from_seq)
    ).all()
    forks = session.scalar(select(func.count()).select_from(ForkAlarm).where(ForkAlarm.gateway_id == gateway))
    return ChainResponse(
        gateway=gateway,
        last_seq=int(last_seq),
        count=int(count),
        gaps=[GapOut(from_seq=g.from_seq, to_seq=g.to_seq, opened_at=g.opened_at) for g in gaps],
        forks=int(forks or 0),
    )
