"""What the stored results say about a batch's fingerprints, in rows bounded by the batch, not by the repeats.

A first statement finds which of the batch's raw digests and measurement keys are stored at all
(in district traffic, seldom any); only the keys with a match go further. One statement returns,
for those keys only, the tallies the replay rules need (docs/evidence.md) and the first stored
result of each tallied group. The first match of a key is then among those firsts, except when
the first result of its raw bytes claims the same sample with another item, or the first of its
raw values is itself excluded: those keys (rare) take one more statement. All of it is plain SQL
sent to the driver (``lims_api/core/driver_sql.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from lims_api.core.driver_sql import fetch, marks

from .replays import Known, Seen


@dataclass(frozen=True)
class Key:
    """A new result's fingerprint: raw digest, sample, item, measurement key."""

    raw: str
    sample: str
    item: str
    measurement: str | None


_GROUPED = ("SELECT '{kind}' AS kind, {a} AS a, {b} AS b, {c} AS c, count(*) AS n, min(envelope_id) AS first"
            " FROM result_fingerprints WHERE {where} GROUP BY {groups}")
_NONE = "CAST(NULL AS VARCHAR)"
Query = tuple[list[str], list[Any]]
"""(SELECT statements of one UNION ALL, their values in order)."""


def _pairs(column_a: str, column_b: str, pairs: set[tuple[str, str]]) -> tuple[str, list[str]]:
    """``(a, b) IN (VALUES …)`` and its values; every tally also filters one indexed column with a plain IN,
    so SQLite searches the index instead of scanning it for the row value."""
    values = [value for pair in sorted(pairs) for value in pair]
    return f"({column_a}, {column_b}) IN (VALUES {', '.join(['(?, ?)'] * len(pairs))})", values


def _tallies(keys: list[Key]) -> Query:
    """The grouped counts and first ids: kind, a, b, c, n, first."""
    raws = sorted({k.raw for k in keys})
    in_raws = f"raw_sha256 IN ({marks(len(raws))})"
    pairs, pair_values = _pairs("raw_sha256", "sample_key", {(k.raw, k.sample) for k in keys})
    parts = [_GROUPED.format(kind="r", a="raw_sha256", b=_NONE, c=_NONE, where=in_raws, groups="raw_sha256"),
             _GROUPED.format(kind="rsi", a="raw_sha256", b="sample_key", c="item", where=f"{in_raws} AND {pairs}",
                             groups="raw_sha256, sample_key, item")]
    values: list[Any] = [*raws, *raws, *pair_values]
    if any(k.measurement is not None for k in keys):
        measured = [(k.measurement, k) for k in keys if k.measurement is not None]
        measurements = sorted({m for m, _ in measured})
        in_m = f"measurement_key IN ({marks(len(measurements))})"
        ms, ms_values = _pairs("measurement_key", "sample_key", {(m, k.sample) for m, k in measured})
        mr, mr_values = _pairs("measurement_key", "raw_sha256", {(m, k.raw) for m, k in measured})
        parts += [
            _GROUPED.format(kind="m", a="measurement_key", b=_NONE, c=_NONE, where=in_m, groups="measurement_key"),
            _GROUPED.format(kind="msr", a="measurement_key", b="sample_key", c="raw_sha256", where=f"{in_m} AND {ms}",
                            groups="measurement_key, sample_key, raw_sha256"),
            _GROUPED.format(kind="mr", a="measurement_key", b="raw_sha256", c=_NONE, where=f"{in_m} AND {mr}",
                            groups="measurement_key, raw_sha256"),
        ]
        values += [*measurements, *measurements, *ms_values, *measurements, *mr_values]
    return parts, values


def _with_first(session: Session, query: Query) -> list[tuple[Any, ...]]:
    """Rows of ``query`` (kind, a, b, c, n, first envelope id) with that first result's fingerprint and place."""
    parts, values = query
    sql = ("SELECT t.kind, t.a, t.b, t.c, t.n, f.envelope_id, f.raw_sha256, f.measurement_key, f.sample_key,"
           " f.item, e.gateway_id, e.seq FROM (" + " UNION ALL ".join(parts) + ") AS t"
           " JOIN result_fingerprints AS f ON f.envelope_id = t.first JOIN envelopes AS e ON e.id = t.first")
    return fetch(session, sql, values)


def _known(row: tuple[Any, ...]) -> Known:
    envelope_id, raw, measurement, sample, item, gateway, seq = row[5:]
    return Known(envelope_id, f"{gateway} seq {seq}", raw, measurement, sample, item)


def _with_matches(session: Session, keys: list[Key]) -> list[Key]:
    """The keys whose raw digest or measurement key a stored result has (one statement)."""
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
    first_of: dict[tuple[str, str | None], Known] = {}
    for row in _with_first(session, _tallies(keys)):
        kind, a, b, c, n = row[:5]
        known = _known(row)
        seen.candidate(known)
        for tally in _names(kind, a, b, c):
            seen.tally(tally, n)
        if kind in ("r", "m"):
            first_of[(kind, a)] = known
    missing: list[str] = []
    values: list[Any] = []
    first_where = ("SELECT NULL AS kind, NULL AS a, NULL AS b, NULL AS c, NULL AS n, min(envelope_id) AS first"
                   " FROM result_fingerprints WHERE {} AND sample_key <> ?")
    for key in keys:
        first = first_of.get(("r", key.raw))
        if first is not None and first.sample == key.sample and first.item != key.item \
                and seen.other_samples(key.raw, key.sample):
            missing.append(first_where.format("raw_sha256 = ?"))
            values += [key.raw, key.sample]
        first = first_of.get(("m", key.measurement))
        if first is not None and (first.sample == key.sample or first.raw == key.raw) \
                and seen.value_count(key.measurement, key.raw, key.sample):
            missing.append(first_where.format("measurement_key = ? AND raw_sha256 <> ?"))
            values += [key.measurement, key.raw, key.sample]
    if missing:
        for row in _with_first(session, (missing, values)):
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
