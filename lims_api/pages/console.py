"""Regulator console data: the sites in scope, their gateways' health (heartbeats) and chain status.

Everything is read with a few grouped queries per page, scoped to the caller's sites.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from protocols.calibration import calibration_state, parse_due_date

from lims_api.ingest.heartbeat import clock_skew_s, instruments_of, is_online
from lims_api.ingest.models import ChainGap, ForkAlarm, Gateway, GatewayHeartbeat, GatewayKey, Site, StoredEnvelope


@dataclass
class GatewayHealth:
    """One gateway as the console shows it."""

    id: str
    state: str
    """``online``, ``offline`` (heartbeat too old) or ``never`` (no heartbeat received)."""
    heartbeat_at: datetime | None = None
    skew_s: float | None = None
    backlog: int | None = None
    reported_seq: int | None = None
    instruments: list[dict[str, Any]] = field(default_factory=list)
    stored: int = 0
    stored_last_seq: int = 0
    last_stored_at: datetime | None = None
    gaps: list[tuple[int, int]] = field(default_factory=list)
    forks: int = 0
    revoked: list[tuple[str, datetime]] = field(default_factory=list)


@dataclass
class SiteHealth:
    site: Site
    gateways: list[GatewayHealth]
    tests_today: int = 0
    positives_today: int = 0

    @property
    def last_result_at(self) -> datetime | None:
        moments = [g.last_stored_at for g in self.gateways if g.last_stored_at is not None]
        return max(moments) if moments else None


def scoped_sites(session: Session, scope: frozenset[str] | None) -> Sequence[Site]:
    """Sites the caller may see, by id (``None``: every site)."""
    query = select(Site).order_by(Site.district_id, Site.id)
    return session.scalars(query if scope is None else query.where(Site.id.in_(sorted(scope)))).all()


def _gateway_health(row: Gateway, beat: GatewayHeartbeat | None, now: datetime, today: date,
                    offline_s: float | None) -> GatewayHealth:
    if beat is None:
        return GatewayHealth(id=row.id, state="never")
    return GatewayHealth(
        id=row.id, state="online" if is_online(beat, now, offline_s) else "offline", heartbeat_at=beat.received_at,
        skew_s=clock_skew_s(beat), backlog=beat.backlog, reported_seq=beat.last_seq,
        instruments=[_with_calibration(entry, today) for entry in instruments_of(beat)],
    )


def _with_calibration(entry: dict[str, Any], today: date) -> dict[str, Any]:
    """``entry`` plus ``calibration``: ``overdue``, ``due_soon`` or ``ok`` on ``today`` (None: no due date)."""
    try:
        due = parse_due_date(entry["calibration_due"]) if entry.get("calibration_due") is not None else None
    except ValueError:  # stored before the LIMS checked the member
        due = None
    return {**entry, "calibration_due": due, "calibration": None if due is None else calibration_state(due, today)}


def _add_chain(session: Session, health: dict[str, GatewayHealth]) -> None:
    ids = sorted(health)
    for gw, count, last_seq, last_at in session.execute(
        select(StoredEnvelope.gateway_id, func.count(), func.max(StoredEnvelope.seq), func.max(StoredEnvelope.stored_at))
        .where(StoredEnvelope.gateway_id.in_(ids)).group_by(StoredEnvelope.gateway_id)
    ):
        health[gw].stored, health[gw].stored_last_seq, health[gw].last_stored_at = int(count), int(last_seq), last_at
    for gap in session.scalars(select(ChainGap).where(ChainGap.gateway_id.in_(ids), ChainGap.closed_at.is_(None))
                               .order_by(ChainGap.from_seq)):
        health[gap.gateway_id].gaps.append((gap.from_seq, gap.to_seq))
    for gw, forks in session.execute(select(ForkAlarm.gateway_id, func.count()).where(ForkAlarm.gateway_id.in_(ids))
                                     .group_by(ForkAlarm.gateway_id)):
        health[gw].forks = int(forks)
    for key in session.scalars(select(GatewayKey).where(GatewayKey.gateway_id.in_(ids),
                                                        GatewayKey.revoked_at.is_not(None)).order_by(GatewayKey.kid)):
        health[key.gateway_id].revoked.append((key.kid, key.revoked_at))  # type: ignore[arg-type]


def site_health(session: Session, sites: Sequence[Site], today: date, now: datetime,
                offline_s: float | None) -> list[SiteHealth]:
    """Per site: its gateways (heartbeat state, instruments, chain) and today's sample counts (QC runs left out)."""
    site_ids = [s.id for s in sites]
    gateways = session.scalars(select(Gateway).where(Gateway.site_id.in_(site_ids)).order_by(Gateway.id)).all()
    beats = {b.gateway_id: b for b in session.scalars(
        select(GatewayHeartbeat).where(GatewayHeartbeat.gateway_id.in_([g.id for g in gateways])))}
    health = {g.id: _gateway_health(g, beats.get(g.id), now, today, offline_s) for g in gateways}
    if health:
        _add_chain(session, health)
    by_site: dict[str, list[GatewayHealth]] = defaultdict(list)
    for g in gateways:
        by_site[g.site_id].append(health[g.id])
    counts: dict[tuple[str, str], int] = {
        (site, verdict): int(n) for site, verdict, n in session.execute(
            select(StoredEnvelope.site_id, StoredEnvelope.verdict, func.count())
            .where(StoredEnvelope.site_id.in_(site_ids), StoredEnvelope.tested_date == today,
                   StoredEnvelope.qc_control == "sample")
            .group_by(StoredEnvelope.site_id, StoredEnvelope.verdict))
    }
    return [
        SiteHealth(site=s, gateways=by_site.get(s.id, []),
                   tests_today=sum(n for (site, _), n in counts.items() if site == s.id),
                   positives_today=counts.get((s.id, "positive"), 0))
        for s in sites
    ]
