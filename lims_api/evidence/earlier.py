"""What the stored results say about a batch's fingerprints, in rows bounded by the batch, not by the repeats.

A first statement finds which of the batch's raw digests and measurement keys are stored at all
(in district traffic, seldom any); only the keys with a match go further. One statement returns,
for those keys only, the tallies the replay rules need (docs/evidence.md) and the first stored result of each tallied group. The first match of a key is then among those
firsts, except when the first result of its raw bytes claims the same sample with another item, or
the first of its raw values is itself excluded: those keys (rare) take one more statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, String, Subquery, and_, cast, func, literal, null, select, tuple_, union_all
from sqlalchemy.orm import Session, aliased

from lims_api.core.driver_sql import fetch, marks
from lims_api.ingest.models import StoredEnvelope

from .models import ResultFingerprint as Fp
from .replays import Known, Seen


@dataclass(frozen=True)
class Key:
    """A new result's fingerprint: raw digest, sample, item, measurement key."""

    raw: str
    sample: str
    item: str
    measurement: str | None


def _none() -> ColumnElement[Any]:
    return cast(null(), String)


def _tallies(keys: list[Key]) -> Subquery:
    """The grouped counts and first ids; every part also filters on one indexed column with a plain IN,
    so SQLite searches the index instead of scanning it for the row-value IN."""
    raws = {k.raw for k in keys}
    pairs = {(k.raw, k.sample) for k in keys}
    parts = [
        select(literal("r").label("kind"), Fp.raw_sha256.label("a"), _none().label("b"), _none().label("c"),
               func.count().label("n"), func.min(Fp.envelope_id).label("first"))
        .where(Fp.raw_sha256.in_(raws)).group_by(Fp.raw_sha256),
        select(literal("rsi"), Fp.raw_sha256, Fp.sample_key, Fp.item, func.count(), func.min(Fp.envelope_id))
        .where(Fp.raw_sha256.in_(raws), tuple_(Fp.raw_sha256, Fp.sample_key).in_(pairs))
        .group_by(Fp.raw_sha256, Fp.sample_key, Fp.item),
    ]
    valued = [k for k in keys if k.measurement is not None]
    if valued:
        m, ms, mr = Fp.measurement_key, Fp.sample_key, Fp.raw_sha256
        measurements = {k.measurement for k in valued}
        parts += [
            select(literal("m"), m, _none(), _none(), func.count(), func.min(Fp.envelope_id))
            .where(m.in_(measurements)).group_by(m),
            select(literal("msr"), m, ms, mr, func.count(), func.min(Fp.envelope_id))
            .where(m.in_(measurements), tuple_(m, ms).in_({(k.measurement, k.sample) for k in valued}))
            .group_by(m, ms, mr),
            select(literal("mr"), m, mr, _none(), func.count(), func.min(Fp.envelope_id))
            .where(m.in_(measurements), tuple_(m, mr).in_({(k.measurement, k.raw) for k in valued}))
            .group_by(m, mr),
        ]
    return union_all(*parts).subquery()


def _with_first(session: Session, firsts: Subquery, *columns: ColumnElement[Any]) -> list[Row[Any]]:
    """Rows of ``firsts`` (a subquery with a ``first`` envelope id) with that result's place and fingerprint."""
    row = aliased(Fp)
    return list(session.execute(
        select(*columns, row.envelope_id, row.raw_sha256, row.measurement_key, row.sample_key, row.item,
               StoredEnvelope.gateway_id, StoredEnvelope.seq)
        .select_from(firsts).join(row, row.envelope_id == firsts.c.first).join(StoredEnvelope, StoredEnvelope.id == firsts.c.first)))


def _known(row: Row[Any]) -> Known:
    return Known(row.envelope_id, f"{row.gateway_id} seq {row.seq}", row.raw_sha256, row.measurement_key,
                 row.sample_key, row.item)


def _with_matches(session: Session, keys: list[Key]) -> list[Key]:
    """The keys whose raw digest or measurement key a stored result has (one statement to the driver)."""
    raws = sorted({k.raw for k in keys})
    measurements = sorted({k.measurement for k in keys if k.measurement is not None})
    sql = f"SELECT DISTINCT 'r', raw_sha256 FROM result_fingerprints WHERE raw_sha256 IN ({marks(len(raws))})"
    if measurements:
        sql += (" UNION ALL SELECT DISTINCT 'm', measurement_key FROM result_fingerprints"
                f" WHERE measurement_key IN ({marks(len(measurements))})")
    found = set(fetch(session, sql, [*raws, *measurements]))
    return [k for k in keys if ("r", k.raw) in found or ("m", k.measurement) in found]


def earlier(session: Session, keys: Iterable[Key]) -> Seen:
    """The stored results the batch's ``keys`` can repeat, tallied and with every needed first match."""
    keys = list(dict.fromkeys(keys))
    seen = Seen()
    if keys:
        keys = _with_matches(session, keys)
    if not keys:
        return seen
    tallies = _tallies(keys)
    first_of: dict[tuple[str, str | None], Known] = {}
    for row in _with_first(session, tallies, tallies.c.kind, tallies.c.a, tallies.c.b, tallies.c.c, tallies.c.n):
        known = _known(row)
        seen.candidate(known)
        for tally in _names(row.kind, row.a, row.b, row.c):
            seen.tally(tally, row.n)
        if row.kind in ("r", "m"):
            first_of[(row.kind, row.a)] = known
    missing = []
    for key in keys:
        first = first_of.get(("r", key.raw))
        if first is not None and first.sample == key.sample and first.item != key.item \
                and seen.other_samples(key.raw, key.sample):
            missing.append(and_(Fp.raw_sha256 == key.raw, Fp.sample_key != key.sample))
        first = first_of.get(("m", key.measurement))
        if first is not None and (first.sample == key.sample or first.raw == key.raw) \
                and seen.value_count(key.measurement, key.raw, key.sample):
            missing.append(and_(Fp.measurement_key == key.measurement, Fp.sample_key != key.sample,
                                Fp.raw_sha256 != key.raw))
    if missing:
        firsts = union_all(*(select(func.min(Fp.envelope_id).label("first")).where(c) for c in missing)).subquery()
        for row in _with_first(session, firsts):
            seen.candidate(_known(row))
    return seen


def _names(kind: str, a: str, b: str | None, c: str | None) -> list[tuple[object, ...]]:
    """The tallies one grouped row counts in (see ``Seen``)."""
    if kind == "rsi":
        return [("rs", a, b), ("rsi", a, b, c)]
    if kind == "msr":
        return [("ms", a, b), ("mrs", a, c, b)]
    if kind == "mr":
        return [("mr", a, b)]
    return [(kind, a)]
