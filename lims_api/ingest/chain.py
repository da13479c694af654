"""Store one checked envelope in its gateway's chain: keys, signature, duplicates, forks, prev links, gaps.

Runs inside the caller's transaction. The first statement updates the gateway row,
which serialises writers of the same gateway (row lock on PostgreSQL, write lock
on SQLite), so the gap bookkeeping below sees a stable chain.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from protocols.envelope import b64url_decode, verify_signature
from protocols.errors import EnvelopeError

from lims_api.audit import audit_log
from lims_api.core.errors import EnvelopeRejected, WrongSite
from lims_api.core.log_limits import rate_limited

from .checks import CheckedEnvelope, query_columns
from .hooks import run_stored_hooks
from .models import ChainGap, ForkAlarm, Gateway, GatewayKey, StoredEnvelope

logger = rate_limited(logging.getLogger(__name__))

StoreStatus = Literal["stored", "duplicate", "fork"]


def _reject(checked: CheckedEnvelope, code: str, message: str) -> EnvelopeRejected:
    return EnvelopeRejected(code, message, gateway=checked.gateway, seq=checked.seq, envelope_hash=checked.hash)


def _lock_gateway(session: Session, checked: CheckedEnvelope, now: datetime) -> str:
    """Touch and lock the gateway row; returns the site it is enrolled for (same statement, no extra trip)."""
    site_id = session.scalar(
        update(Gateway).where(Gateway.id == checked.gateway).values(last_seen_at=now).returning(Gateway.site_id)
    )
    if site_id is None:
        raise _reject(checked, "unknown_gateway", f"gateway {checked.gateway!r} is not enrolled")
    return str(site_id)


def _check_site(checked: CheckedEnvelope, enrolled_site: str) -> None:
    """A gateway speaks only for the site it is enrolled for: ``result.site.id`` must be that site."""
    claimed = checked.result.site.id
    if claimed != enrolled_site:
        raise WrongSite(
            f"result.site.id {claimed!r} is not the site {enrolled_site!r} gateway {checked.gateway!r} is enrolled"
            " for", claimed=claimed, enrolled=enrolled_site,
            gateway=checked.gateway, seq=checked.seq, envelope_hash=checked.hash,
        )


def _verify_key_and_signature(session: Session, checked: CheckedEnvelope, now: datetime) -> None:
    key = session.scalar(
        select(GatewayKey).where(GatewayKey.gateway_id == checked.gateway, GatewayKey.kid == checked.kid)
    )
    if key is None:
        raise _reject(checked, "unknown_kid", f"kid {checked.kid} is not enrolled for gateway {checked.gateway!r}")
    if key.revoked_at is not None and key.revoked_at <= now:
        raise _reject(
            checked, "revoked_kid", f"kid {checked.kid} was revoked at {key.revoked_at.isoformat(timespec='seconds')}"
        )
    try:
        verify_signature(checked.envelope, b64url_decode(key.public_key))
    except EnvelopeError as exc:
        raise _reject(checked, exc.code, exc.message) from exc


def _record_fork(session: Session, checked: CheckedEnvelope, stored_hash: str, now: datetime) -> None:
    session.add(
        ForkAlarm(
            gateway_id=checked.gateway,
            seq=checked.seq,
            stored_hash=stored_hash,
            received_hash=checked.hash,
            raw_text=checked.raw_text,
            detected_at=now,
        )
    )
    logger.error(
        "fork: gateway %s sent a second, different envelope for seq %d",
        checked.gateway,
        checked.seq,
        extra={"gateway": checked.gateway, "seq": checked.seq, "code": "fork",
               "stored_hash": stored_hash, "received_hash": checked.hash},
    )


def audit_wrong_site(session: Session, rejected: WrongSite, now: datetime) -> None:
    """Record a refused wrong-site result in the audit log and commit it (the envelope itself is not stored)."""
    audit_log.append(
        session, f"gateway:{rejected.gateway}", "ingest.wrong_site", f"gateway:{rejected.gateway}",
        {"seq": rejected.seq, "hash": rejected.envelope_hash, "site_id": rejected.claimed,
         "enrolled_site_id": rejected.enrolled}, at=now,
    )
    session.commit()


def _check_links(checked: CheckedEnvelope, neighbours: dict[int, tuple[str, str]]) -> None:
    """``prev`` must be the stored seq-1's hash; our hash must be the stored seq+1's ``prev``."""
    before = neighbours.get(checked.seq - 1)
    if before is not None and before[0] != checked.prev:
        raise _reject(
            checked, "broken_prev", f"prev {checked.prev} is not the hash {before[0]} of stored seq {checked.seq - 1}"
        )
    after = neighbours.get(checked.seq + 1)
    if after is not None and after[1] != checked.hash:
        raise _reject(
            checked, "broken_prev", f"hash {checked.hash} is not the prev {after[1]} of stored seq {checked.seq + 1}"
        )


def _update_gaps(session: Session, checked: CheckedEnvelope, last_seq: int, now: datetime) -> None:
    """Shrink/close the open gap holding this seq, or open a gap when seqs were skipped."""
    seq = checked.seq
    gap = session.scalar(
        select(ChainGap).where(
            ChainGap.gateway_id == checked.gateway,
            ChainGap.closed_at.is_(None),
            ChainGap.from_seq <= seq,
            ChainGap.to_seq >= seq,
        )
    )
    if gap is None:
        if seq > last_seq + 1:
            session.add(ChainGap(gateway_id=checked.gateway, from_seq=last_seq + 1, to_seq=seq - 1, opened_at=now))
            logger.warning(
                "gap: gateway %s skipped seq %d..%d",
                checked.gateway, last_seq + 1, seq - 1,
                extra={"gateway": checked.gateway, "from_seq": last_seq + 1, "to_seq": seq - 1},
            )
        return
    if gap.from_seq == gap.to_seq:
        gap.closed_at = now
    elif seq == gap.from_seq:
        gap.from_seq = seq + 1
    elif seq == gap.to_seq:
        gap.to_seq = seq - 1
    else:
        session.add(
            ChainGap(gateway_id=checked.gateway, from_seq=seq + 1, to_seq=gap.to_seq, opened_at=gap.opened_at)
        )
        gap.to_seq = seq - 1


def store_envelope(session: Session, checked: CheckedEnvelope, now: datetime) -> StoreStatus:
    """Apply contract §1's receiver rules; the caller commits on return and rolls back on raise.

    ``"fork"`` leaves an alarm row to commit; a rejected envelope raises ``EnvelopeRejected``.
    """
    enrolled_site = _lock_gateway(session, checked, now)
    rows = session.execute(
        select(StoredEnvelope.seq, StoredEnvelope.hash, StoredEnvelope.prev).where(
            StoredEnvelope.gateway_id == checked.gateway,
            StoredEnvelope.seq.in_((checked.seq - 1, checked.seq, checked.seq + 1)),
        )
    ).all()
    neighbours = {row.seq: (row.hash, row.prev) for row in rows}
    same_seq = neighbours.get(checked.seq)
    if same_seq is not None and same_seq[0] == checked.hash:
        return "duplicate"  # identical bytes were verified when first stored
    _verify_key_and_signature(session, checked, now)
    if same_seq is not None:
        _record_fork(session, checked, same_seq[0], now)
        return "fork"
    _check_site(checked, enrolled_site)
    _check_links(checked, neighbours)
    last_seq = session.scalar(
        select(func.coalesce(func.max(StoredEnvelope.seq), 0)).where(StoredEnvelope.gateway_id == checked.gateway)
    )
    _update_gaps(session, checked, int(last_seq or 0), now)
    stored = StoredEnvelope(
        gateway_id=checked.gateway,
        seq=checked.seq,
        hash=checked.hash,
        prev=checked.prev,
        kid=checked.kid,
        raw_text=checked.raw_text,
        stored_at=now,
        **query_columns(checked),
    )
    session.add(stored)
    session.flush()
    run_stored_hooks(session, stored, checked.result, now)  # same transaction: no stored positive without its case
    return "stored"
