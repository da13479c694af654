"""LIMS plausibility flags of newly stored envelopes, computed a batch at a time (docs/evidence.md).

Per batch (the ingest hands over the results it has just verified, so nothing is read back): one
query for the sites' technicians and opening hours, one for the tallies and first results of
earlier results with the same fingerprints (rows bounded by the batch, not by the repeats;
``earlier.py``); no query per line. Everything found is added as
new rows, one INSERT per kind (flags, fingerprints, evidence names); the envelopes are not touched.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from protocols.plausibility import OPERATOR_NOT_ENROLLED, OUTSIDE_OPENING_HOURS, REPLAYED_MEASUREMENT, REPLAYED_RAW
from protocols.plausibility.redecode import redecode_flags
from protocols.result import TestResult

from lims_api.core.driver_sql import fetch, insert_rows, marks
from lims_api.ingest.hooks import StoredResult
from lims_api.ingest.models import StoredEnvelope

from .models import ResultEvidence, ResultFingerprint, ResultFlag
from .fingerprint import measurement_key, raw_sha256, sample_key
from .opening_hours import is_open, parse_hours
from .earlier import Key, earlier
from .replays import Known, Seen


@dataclass(frozen=True)
class _Print:
    """A ``result_fingerprints`` row before it is inserted."""

    envelope_id: int
    raw_sha256: str
    measurement_key: str | None
    sample_key: str
    item: str


@dataclass(frozen=True)
class _New:
    id: int
    gateway: str
    seq: int
    result: TestResult
    evidence: list[dict[str, object]]
    print: _Print


def _new(stored: StoredResult) -> _New:
    result = stored.result
    evidence = [e for e in stored.member.get("evidence") or [] if isinstance(e, dict)]
    return _New(stored.id, stored.gateway, stored.seq, result, evidence, _Print(
        envelope_id=stored.id, raw_sha256=raw_sha256(result), measurement_key=measurement_key(result),
        sample_key=sample_key(result), item=result.test.item))


def _read_stored(session: Session, keys: Sequence[tuple[str, int]]) -> list[StoredResult]:
    """The stored envelopes under ``keys``, in row order, with their results validated again."""
    wanted = set(keys)
    rows = session.execute(
        select(StoredEnvelope.id, StoredEnvelope.gateway_id, StoredEnvelope.seq, StoredEnvelope.raw_text).where(
            StoredEnvelope.gateway_id.in_({g for g, _ in wanted}), StoredEnvelope.seq.in_({s for _, s in wanted}))
    ).all()
    found = []
    for row in sorted(rows, key=lambda r: r.id):
        if (row.gateway_id, row.seq) in wanted:
            member = json.loads(row.raw_text)["result"]
            found.append(StoredResult(row.id, row.gateway_id, row.seq, TestResult.from_wire(member), member))
    return found


_SITE_FACTS = ("SELECT s.id, ss.opening_hours, u.username FROM sites AS s"
               " LEFT OUTER JOIN site_settings AS ss ON ss.site_id = s.id"
               " LEFT OUTER JOIN user_sites AS us ON us.site_id = s.id"
               " LEFT OUTER JOIN users AS u ON u.id = us.user_id AND u.role = 'technician' AND u.disabled_at IS NULL"
               " WHERE s.id IN ({})")


def _site_facts(session: Session, site_ids: set[str]) -> tuple[dict[str, set[str]], dict[str, str]]:
    """(site -> usernames of its enabled technicians, site -> opening hours text), in one statement."""
    rows = fetch(session, _SITE_FACTS.format(marks(len(site_ids))), sorted(site_ids))
    technicians: dict[str, set[str]] = {site: set() for site in site_ids}
    hours: dict[str, str] = {}
    for site, opening_hours, username in rows:
        if username is not None:
            technicians[site].add(username)
        if opening_hours:
            hours[site] = opening_hours
    return technicians, hours


def _replay_flags(new: _New, known: Seen) -> list[tuple[int, str, str]]:
    """(envelope id, code, detail): the new result names the first it repeats (and how many more); that
    first one is flagged too when this is its first repeat. At most two rows per code, however many repeats."""
    me = new.print
    raw = known.raw_matches(me.raw_sha256, me.sample_key, me.item)
    values = known.value_matches(me.measurement_key, me.raw_sha256, me.sample_key)
    flags = []
    for code, what, (first, total) in ((REPLAYED_RAW, "raw bytes", raw), (REPLAYED_MEASUREMENT, "raw values", values)):
        if first is None:
            continue
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
    """:func:`flag_new` for envelopes already stored under ``keys`` (read back from the database)."""
    return flag_new(session, _read_stored(session, keys), now) if keys else 0


def flag_new(session: Session, stored: Sequence[StoredResult], now: datetime) -> int:
    """Add flags, fingerprints and evidence names for the envelopes just stored (the ingest batch hook);
    returns the number of flags added. The caller commits."""
    new = [_new(item) for item in stored]
    if not new:
        return 0
    technicians, hours = _site_facts(session, {n.result.site.id for n in new})
    known = earlier(session, (Key(n.print.raw_sha256, n.print.sample_key, n.print.item, n.print.measurement_key)
                                for n in new))
    flags: list[dict[str, object]] = []
    prints: list[dict[str, object]] = []
    evidence: list[dict[str, object]] = []
    for item in new:
        for flag in item.result.qc.flags:
            code, _, detail = flag.partition(":")
            flags.append(_flag(item.id, "gateway", code[:64], detail[:200] or None, now))
        flags += [_flag(item.id, "lims", code, detail, now) for code, detail in _own_flags(item, technicians, hours)]
        flags += [_flag(target, "lims", code, detail, now) for target, code, detail in _replay_flags(item, known)]
        fp = item.print
        known.add(Known(item.id, f"{item.gateway} seq {item.seq}", fp.raw_sha256, fp.measurement_key,
                        fp.sample_key, fp.item))
        prints.append(dict(vars(fp)))  # flat: no deep copy as asdict makes
        evidence += [dict(envelope_id=item.id, kind=str(e.get("kind", ""))[:32], sha256=str(e.get("sha256", ""))[:64],
                          taken_at=_text(e.get("taken_at"), 40), media_type=_text(e.get("media_type"), 64))
                     for e in item.evidence]
    for model, values in ((ResultFingerprint, prints), (ResultEvidence, evidence), (ResultFlag, flags)):
        insert_rows(session, model.__table__, values)  # one executemany per kind and batch
    return len(flags)


def _flag(envelope_id: int, source: str, code: str, detail: str | None, now: datetime) -> dict[str, object]:
    return dict(envelope_id=envelope_id, source=source, code=code, detail=detail, computed_at=now)


def _text(value: object, limit: int) -> str | None:
    return None if value is None else str(value)[:limit]
