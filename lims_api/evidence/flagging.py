"""LIMS plausibility flags of newly stored envelopes, computed a batch at a time (docs/evidence.md).

Per batch: one query for the stored envelopes, one for the sites' technicians and opening hours,
one for earlier results with the same fingerprints; no query per line. Everything found is
added as new rows (flags, fingerprints, evidence names); the envelopes are not touched.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from protocols.plausibility import OPERATOR_NOT_ENROLLED, OUTSIDE_OPENING_HOURS, REPLAYED_MEASUREMENT, REPLAYED_RAW
from protocols.plausibility.redecode import redecode_flags
from protocols.result import TestResult

from lims_api.ingest.models import Site as SiteRow
from lims_api.ingest.models import StoredEnvelope
from lims_api.people.models import User, UserSite

from .models import ResultEvidence, ResultFingerprint, ResultFlag, SiteSetting
from .fingerprint import measurement_key, raw_sha256, sample_key
from .opening_hours import is_open, parse_hours


@dataclass(frozen=True)
class _New:
    id: int
    gateway: str
    seq: int
    result: TestResult
    evidence: list[dict[str, object]]
    print: ResultFingerprint


@dataclass
class _Known:
    """Stored results sharing one fingerprint: the first of them, where it is, and how many there are."""

    envelope_id: int
    where: str
    raw: str
    measurement: str | None
    sample: str
    item: str
    count: int = 1


def _new_envelopes(session: Session, keys: Sequence[tuple[str, int]]) -> list[_New]:
    wanted = set(keys)
    rows = session.execute(
        select(StoredEnvelope.id, StoredEnvelope.gateway_id, StoredEnvelope.seq, StoredEnvelope.raw_text).where(
            StoredEnvelope.gateway_id.in_({g for g, _ in wanted}), StoredEnvelope.seq.in_({s for _, s in wanted}))
    ).all()
    found = []
    for row in sorted(rows, key=lambda r: r.id):
        if (row.gateway_id, row.seq) not in wanted:
            continue
        member = json.loads(row.raw_text)["result"]
        result = TestResult.model_validate(member)
        evidence = [e for e in member.get("evidence") or [] if isinstance(e, dict)]
        found.append(_New(row.id, row.gateway_id, row.seq, result, evidence, ResultFingerprint(
            envelope_id=row.id, raw_sha256=raw_sha256(result), measurement_key=measurement_key(result),
            sample_key=sample_key(result), item=result.test.item)))
    return found


def _site_facts(session: Session, site_ids: set[str]) -> tuple[dict[str, set[str]], dict[str, str]]:
    """(site -> usernames of its enabled technicians, site -> opening hours text), in one query."""
    rows = session.execute(
        select(SiteRow.id, SiteSetting.opening_hours, User.username)
        .outerjoin(SiteSetting, SiteSetting.site_id == SiteRow.id)
        .outerjoin(UserSite, UserSite.site_id == SiteRow.id)
        .outerjoin(User, and_(User.id == UserSite.user_id, User.role == "technician", User.disabled_at.is_(None)))
        .where(SiteRow.id.in_(site_ids))
    ).all()
    technicians: dict[str, set[str]] = {site: set() for site in site_ids}
    hours: dict[str, str] = {}
    for site, opening_hours, username in rows:
        if username is not None:
            technicians[site].add(username)
        if opening_hours:
            hours[site] = opening_hours
    return technicians, hours


def _earlier(session: Session, new: list[_New]) -> list[_Known]:
    raws = {n.print.raw_sha256 for n in new}
    measurements = {n.print.measurement_key for n in new if n.print.measurement_key is not None}
    condition = ResultFingerprint.raw_sha256.in_(raws)
    if measurements:
        condition = or_(condition, ResultFingerprint.measurement_key.in_(measurements))
    fp = ResultFingerprint
    groups = (select(fp.raw_sha256, fp.measurement_key, fp.sample_key, fp.item,
                     func.min(fp.envelope_id).label("first"), func.count().label("n"))
              .where(condition).group_by(fp.raw_sha256, fp.measurement_key, fp.sample_key, fp.item).subquery())
    rows = session.execute(
        select(groups, StoredEnvelope.gateway_id, StoredEnvelope.seq)
        .join(StoredEnvelope, StoredEnvelope.id == groups.c.first)
    ).all()
    return [_Known(row.first, f"{row.gateway_id} seq {row.seq}", row.raw_sha256, row.measurement_key, row.sample_key,
                   row.item, row.n) for row in rows]


def _replay_flags(new: _New, known: list[_Known]) -> list[tuple[int, str, str]]:
    """(envelope id, code, detail): the new result names the first it repeats (and how many more); that
    first one is flagged too when this is its first repeat. At most two rows per code, however many repeats."""
    me = new.print
    raw = [k for k in known if k.raw == me.raw_sha256 and (k.sample != me.sample_key or k.item == me.item)]
    values = [k for k in known if k not in raw and me.measurement_key is not None
              and k.measurement == me.measurement_key and k.sample != me.sample_key]
    flags = []
    for code, what, matches in ((REPLAYED_RAW, "raw bytes", raw), (REPLAYED_MEASUREMENT, "raw values", values)):
        if not matches:
            continue
        first, total = min(matches, key=lambda k: k.envelope_id), sum(k.count for k in matches)
        more = f" and {total - 1} more" if total > 1 else ""
        flags.append((new.id, code, f"same {what} as {first.where}{more}"))
        if total == 1:
            flags.append((first.envelope_id, code, f"same {what} as {new.gateway} seq {new.seq}"))
    return flags


def _own_flags(new: _New, technicians: dict[str, set[str]], hours: dict[str, str]) -> list[tuple[str, str | None]]:
    result = new.result
    flags: list[tuple[str, str | None]] = []
    if result.operator not in technicians.get(result.site.id, set()):
        flags.append((OPERATOR_NOT_ENROLLED, result.operator[:200]))
    opening = hours.get(result.site.id)
    if opening is not None and not is_open(parse_hours(opening), datetime.fromisoformat(result.tested_at)):
        flags.append((OUTSIDE_OPENING_HOURS, f"tested {result.tested_at[11:16]}, open {opening}"[:200]))
    for flag in redecode_flags(result):
        code, _, detail = flag.partition(":")
        flags.append((code, detail or None))
    return flags


def flag_stored(session: Session, keys: Sequence[tuple[str, int]], now: datetime) -> int:
    """Add flags, fingerprints and evidence names for the envelopes just stored under ``keys``; returns
    the number of flags added. The caller commits."""
    if not keys:
        return 0
    new = _new_envelopes(session, keys)
    if not new:
        return 0
    technicians, hours = _site_facts(session, {n.result.site.id for n in new})
    known = _earlier(session, new)
    rows: list[ResultFlag] = []
    for item in new:
        for flag in item.result.qc.flags:
            code, _, detail = flag.partition(":")
            rows.append(ResultFlag(envelope_id=item.id, source="gateway", code=code[:64], detail=detail[:200] or None,
                                   computed_at=now))
        rows += [ResultFlag(envelope_id=item.id, source="lims", code=code, detail=detail, computed_at=now)
                 for code, detail in _own_flags(item, technicians, hours)]
        rows += [ResultFlag(envelope_id=target, source="lims", code=code, detail=detail, computed_at=now)
                 for target, code, detail in _replay_flags(item, known)]
        fp = item.print
        known.append(_Known(item.id, f"{item.gateway} seq {item.seq}", fp.raw_sha256, fp.measurement_key,
                            fp.sample_key, fp.item))
        session.add(fp)
        session.add_all(ResultEvidence(envelope_id=item.id, kind=str(e.get("kind", ""))[:32],
                                       sha256=str(e.get("sha256", ""))[:64], taken_at=_text(e.get("taken_at"), 40),
                                       media_type=_text(e.get("media_type"), 64)) for e in item.evidence)
    session.add_all(rows)
    return len(rows)


def _text(value: object, limit: int) -> str | None:
    return None if value is None else str(value)[:limit]
