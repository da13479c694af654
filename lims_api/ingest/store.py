"""Store a request's checked envelopes in the caller's transaction: a few reads and one INSERT per batch.

``verify_ahead`` runs before any lock: it reads the stored hashes and enrolled keys and
checks the signature of every line whose hash is not stored yet (a replayed envelope costs
no signature check). ``store_lines`` then locks each gateway row (``UPDATE ... RETURNING``,
in gateway order, which serialises writers of one gateway across workers and hosts: row
lock on PostgreSQL, write lock on SQLite), re-reads the chain around the batch, judges every
line in order in memory (``ChainView``) and writes the accepted rows with one executemany.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from lims_api.audit import audit_log
from lims_api.core.driver_sql import bound, fetch, insert_rows, marks
from lims_api.core.errors import EnvelopeRejected, WrongSite

from .chain import ChainView, Gap, Outcome
from .hooks import StoredRow, run_stored_hooks
from .checks import CheckedEnvelope, query_columns
from .models import ChainGap, ForkAlarm, Gateway, StoredEnvelope
from .signature import gateway_keys, signature_fault

Line = tuple[int, CheckedEnvelope]
"""(1-based line number, envelope that passed the stateless checks)."""
Verdicts = dict[int, EnvelopeRejected | None]
"""Signature verdict by line number (``None``: valid); lines already stored have none."""
_ENVELOPES = StoredEnvelope.__table__
_GAPS = ChainGap.__table__


@dataclass(frozen=True)
class Decision:
    """What became of one line: an outcome, or the reason it was rejected."""

    number: int
    checked: CheckedEnvelope
    outcome: Outcome | None
    rejected: EnvelopeRejected | None = None
    envelope_id: int | None = None
    """The new row's id when the outcome is ``stored``."""


@dataclass
class RejectLimit:
    """Stop judging lines once ``most`` lines of the request are rejected (``max_rejected_lines``)."""

    most: int | None
    early: list[int] = field(default_factory=list)
    """Line numbers rejected by the stateless checks, ascending."""
    late: list[int] = field(default_factory=list)
    """Line numbers rejected while judged, ascending."""

    def reached_before(self, number: int) -> bool:
        """Whether ``most`` rejections fall on lines before ``number``."""
        return self.most is not None and bisect_left(self.early, number) + len(self.late) >= self.most

    def last_line(self) -> int | None:
        """The line of the ``most``-th rejection, once there are that many."""
        rejected = sorted(self.early + self.late)
        return None if self.most is None or len(rejected) < self.most else rejected[self.most - 1]


def _by_gateway(lines: Iterable[Line]) -> dict[str, list[Line]]:
    groups: dict[str, list[Line]] = {}
    for line in lines:
        groups.setdefault(line[1].gateway, []).append(line)
    return groups


def _stored_rows(session: Session, gateway: str, seqs: set[int], *columns: str) -> dict[int, tuple[Any, ...]]:
    """seq -> (seq, ``columns``...) of each of ``seqs`` the gateway has stored: a range when the seqs are
    dense, else a list."""
    names = ", ".join(("seq", *columns))
    low, high = min(seqs), max(seqs)
    if high - low < 4 * len(seqs):
        sql = f"SELECT {names} FROM envelopes WHERE gateway_id = ? AND seq BETWEEN ? AND ?"
        params: list[Any] = [gateway, low, high]
    else:
        sql = f"SELECT {names} FROM envelopes WHERE gateway_id = ? AND seq IN ({marks(len(seqs))})"
        params = [gateway, *sorted(seqs)]
    return {row[0]: row for row in fetch(session, sql, params) if row[0] in seqs}


def _stored_around(session: Session, gateway: str, seqs: set[int]) -> dict[int, tuple[str, str]]:
    rows = _stored_rows(session, gateway, seqs, "hash", "prev")
    return {seq: (row[1], row[2]) for seq, row in rows.items()}


def stored_hashes(session: Session, gateway: str, seqs: set[int]) -> dict[int, str]:
    """The stored hash of each of ``seqs`` the gateway has stored."""
    return {seq: row[1] for seq, row in _stored_rows(session, gateway, seqs, "hash").items()}


StoredHashes = dict[str, dict[int, str]]
"""gateway -> seq -> stored envelope hash, for (some of) a batch's lines."""


def verify_ahead(
    session: Session, lines: list[Line], now: datetime, stored: StoredHashes | None = None
) -> Verdicts:
    """Signature verdict of each line whose (gateway, seq) does not already hold its hash (reads only).

    ``stored``: the gateways' stored hashes of these lines' seqs when the caller has just read them."""
    verdicts: Verdicts = {}
    for gateway, group in _by_gateway(lines).items():
        seqs = {checked.seq for _, checked in group}
        known = stored[gateway] if stored is not None and gateway in stored else stored_hashes(session, gateway, seqs)
        keys = gateway_keys(session, gateway, sorted({checked.kid for _, checked in group}))
        for number, checked in group:
            if known.get(checked.seq) != checked.hash:
                verdicts[number] = signature_fault(checked, keys.get(checked.kid), now)
    return verdicts


def _lock_and_read(session: Session, gateway: str, group: list[Line], now: datetime) -> ChainView:
    """Lock the gateway row, then read its chain around the batch, its highest seq and its open gaps."""
    seen = bound(session, Gateway.__table__.c.last_seen_at, now)
    site = fetch(session, "UPDATE gateways SET last_seen_at = ? WHERE id = ? RETURNING site_id", (seen, gateway))
    if not site:
        return ChainView(gateway, None, {}, 0, now)
    around = {checked.seq + step for _, checked in group for step in (-1, 0, 1)}
    stored = _stored_around(session, gateway, around)
    last_seq = fetch(session, "SELECT coalesce(max(seq), 0) FROM envelopes WHERE gateway_id = ?", (gateway,))[0][0]
    gaps = [
        Gap(row.from_seq, row.to_seq, row.opened_at, id=row.id)
        for row in session.execute(
            select(ChainGap.id, ChainGap.from_seq, ChainGap.to_seq, ChainGap.opened_at).where(
                ChainGap.gateway_id == gateway, ChainGap.closed_at.is_(None)
            )
        )
    ]
    return ChainView(gateway, str(site[0][0]), stored, int(last_seq or 0), now, gaps)


def _envelope_row(checked: CheckedEnvelope, now: datetime) -> dict[str, object]:
    return {
        "gateway_id": checked.gateway, "seq": checked.seq, "hash": checked.hash, "prev": checked.prev,
        "kid": checked.kid, "raw_text": checked.raw_text, "stored_at": now, **query_columns(checked),
    }


def _fork_row(checked: CheckedEnvelope, stored_hash: str, now: datetime) -> dict[str, object]:
    return {
        "gateway_id": checked.gateway, "seq": checked.seq, "stored_hash": stored_hash,
        "received_hash": checked.hash, "raw_text": checked.raw_text, "detected_at": now,
    }


def _write_gaps(session: Session, views: Iterable[ChainView]) -> None:
    for view in views:
        for gap in view.gaps:
            values = {"from_seq": gap.from_seq, "to_seq": gap.to_seq, "closed_at": gap.closed_at}
            if gap.id is None:
                session.execute(insert(_GAPS).values(gateway_id=view.gateway, opened_at=gap.opened_at, **values))
            elif gap.dirty:
                session.execute(update(_GAPS).where(_GAPS.c.id == gap.id).values(**values))


def audit_wrong_site(session: Session, rejected: WrongSite, now: datetime) -> None:
    """Record a refused wrong-site result in the audit log (the envelope itself is not stored)."""
    audit_log.append(
        session, f"gateway:{rejected.gateway}", "ingest.wrong_site", f"gateway:{rejected.gateway}",
        {"seq": rejected.seq, "hash": rejected.envelope_hash, "site_id": rejected.claimed,
         "enrolled_site_id": rejected.enrolled}, at=now,
    )


def _insert(
    session: Session, rows: list[dict[str, object]], checked: list[CheckedEnvelope], now: datetime
) -> list[int]:
    """One executemany INSERT, the new ids read back by (gateway, seq) in one SELECT per gateway; then the
    stored hooks of each row. Returns the ids in row order.

    (``INSERT … RETURNING`` in parameter order is sent row by row on SQLite: a statement per envelope.)
    """
    if not rows:
        return []
    insert_rows(session, _ENVELOPES, rows)
    ids = _new_ids(session, checked)
    for row, line in zip(rows, checked, strict=True):
        envelope_id = ids[(line.gateway, line.seq)]
        stored = StoredRow(envelope_id, line.gateway, line.seq, str(row["result_id"]), str(row["site_id"]))
        run_stored_hooks(session, stored, line.result, now)  # same transaction: no stored positive without its case
    return [ids[(line.gateway, line.seq)] for line in checked]


def _new_ids(session: Session, checked: list[CheckedEnvelope]) -> dict[tuple[str, int], int]:
    """The row id of each just-inserted (gateway, seq)."""
    seqs: dict[str, set[int]] = {}
    for line in checked:
        seqs.setdefault(line.gateway, set()).add(line.seq)
    return {(gateway, seq): row[1] for gateway, wanted in seqs.items()
            for seq, row in _stored_rows(session, gateway, wanted, "id").items()}


def store_lines(
    session: Session, lines: list[Line], verdicts: Verdicts, now: datetime, limit: RejectLimit
) -> list[Decision]:
    """Judge and write the lines before ``limit`` is reached, in the caller's transaction; the caller commits.

    Rejections are added to ``limit.late`` (a caller that rolls back restores it).
    """
    groups = _by_gateway(lines)
    views = {gateway: _lock_and_read(session, gateway, groups[gateway], now) for gateway in sorted(groups)}
    decisions: list[Decision] = []
    rows: list[dict[str, object]] = []
    forks: list[dict[str, object]] = []
    for number, checked in lines:
        if limit.reached_before(number):
            break
        view = views[checked.gateway]
        stored_before = view.stored.get(checked.seq)
        try:
            outcome = view.judge(checked, verdicts.get(number))
        except EnvelopeRejected as rejected:
            decisions.append(Decision(number, checked, None, rejected))
            limit.late.append(number)
            continue
        if outcome == "stored":
            rows.append(_envelope_row(checked, now))
        elif outcome == "fork":
            assert stored_before is not None
            forks.append(_fork_row(checked, stored_before[0], now))
        decisions.append(Decision(number, checked, outcome))
    stored = [index for index, decision in enumerate(decisions) if decision.outcome == "stored"]
    ids = _insert(session, rows, [decisions[index].checked for index in stored], now)
    for index, envelope_id in zip(stored, ids, strict=True):
        decisions[index] = replace(decisions[index], envelope_id=envelope_id)
    if forks:
        session.execute(insert(ForkAlarm.__table__), forks)
    _write_gaps(session, views.values())
    for decision in decisions:
        if isinstance(decision.rejected, WrongSite):
            audit_wrong_site(session, decision.rejected, now)
    return decisions
