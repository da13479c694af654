"""Ingest of NDJSON envelope batches: every line checked, the batch stored in one transaction, committed before the reply.

A batch whose write fails in the database (a value it cannot hold, a concurrent writer's
unique key) is rolled back and stored again line by line, each line committed on its own,
so one bad line never costs the others.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from lims_api.core.errors import EnvelopeRejected
from lims_api.core.log_limits import rate_limited
from lims_api.core.models import utc_now

from .checks import check_parsed, parse_envelope
from .hooks import StoredResult, run_batch_hooks
from .schemas import IngestResponse, IngestStopped, LineResult
from .store import Decision, Line, RejectLimit, StoredHashes, store_lines, stored_hashes, verify_ahead

logger = rate_limited(logging.getLogger(__name__))

__all__ = ["ingest_batch", "ingest_ndjson", "split_lines", "store_batch"]


def split_lines(body: bytes) -> Iterator[tuple[int, bytes]]:
    """Yield (1-based line number, line without its terminator) for each non-blank line."""
    for number, line in enumerate(body.split(b"\n"), start=1):
        line = line.removesuffix(b"\r")
        if line.strip():
            yield number, line


def _decode(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EnvelopeRejected("malformed_json", f"line is not UTF-8 (byte {exc.start})") from exc


def _rejected(number: int, rejected: EnvelopeRejected) -> LineResult:
    logger.warning(
        "envelope rejected (line %d): %s",
        number,
        rejected,
        extra={"line_no": number, "gateway": rejected.gateway, "seq": rejected.seq,
               "code": rejected.code, "reason": rejected.message, "envelope_hash": rejected.envelope_hash},
    )
    return LineResult(
        line=number,
        gateway=rejected.gateway,
        seq=rejected.seq,
        status="rejected",
        code=rejected.code,  # type: ignore[arg-type]
        error=rejected.message,
        hash=rejected.envelope_hash,
    )


def _replays(
    session: Session, parsed: list[tuple[int, bytes, str, dict[str, Any]]]
) -> tuple[dict[int, str], StoredHashes]:
    """Lines whose bytes hash to the stored hash of their (gateway, seq): already stored, exactly as sent.

    The gateway sends each envelope in its JCS form, so a resent line's SHA-256 is the stored envelope
    hash; such a line needs no canonical form, validation or signature check. Any other line (even one
    equal to a stored envelope in another spelling) takes the full path. Also returns the stored hashes read.
    """
    seqs: dict[str, set[int]] = {}
    for _, _, _, obj in parsed:
        seqs.setdefault(obj["gateway"], set()).add(obj["seq"])
    stored = {gateway: stored_hashes(session, gateway, wanted) for gateway, wanted in seqs.items()}
    replayed = {}
    for number, raw, _, obj in parsed:
        known = stored[obj["gateway"]].get(obj["seq"])
        if known is not None and hashlib.sha256(raw).hexdigest() == known:
            replayed[number] = known
    return replayed, stored


def _answer(decision: Decision) -> LineResult:
    if decision.rejected is not None:
        return _rejected(decision.number, decision.rejected)
    checked = decision.checked
    base = {"line": decision.number, "gateway": checked.gateway, "seq": checked.seq, "hash": checked.hash}
    if decision.outcome == "fork":
        error = f"seq {checked.seq} is already stored with a different hash"
        return LineResult(status="rejected", code="fork", error=error, **base)
    return LineResult(status=decision.outcome, **base)  # type: ignore[arg-type]


def _store_alone(session: Session, line: Line, now: datetime, limit: RejectLimit) -> list[Decision]:
    """One line in its own transaction; a unique-key race is re-read once and answered as duplicate or fork."""
    number, checked = line
    late = list(limit.late)
    for attempt in (1, 2):
        try:
            decisions = store_lines(session, [line], verify_ahead(session, [line], now), now, limit)
            _batch_hooks(session, decisions, now)
            session.commit()
            return decisions
        except IntegrityError:
            session.rollback()
            limit.late[:] = late
            if attempt == 2:
                raise
        except DataError as exc:
            session.rollback()
            limit.late[:] = [*late, number]
            rejected = EnvelopeRejected(
                "schema", f"value cannot be stored: {exc.orig}", gateway=checked.gateway, seq=checked.seq,
                envelope_hash=checked.hash,
            )
            return [Decision(number, checked, None, rejected)]
    raise AssertionError("unreachable")


def _store(session: Session, lines: list[Line], now: datetime, limit: RejectLimit,
           stored: StoredHashes) -> list[Decision]:
    """The whole batch in one transaction, or, when the database refuses it, line by line."""
    verdicts = verify_ahead(session, lines, now, stored)
    late = list(limit.late)
    try:
        decisions = store_lines(session, lines, verdicts, now, limit)
        _batch_hooks(session, decisions, now)
        session.commit()
        return decisions
    except (IntegrityError, DataError):
        session.rollback()
        limit.late[:] = late
    decisions = []
    for line in lines:
        if limit.reached_before(line[0]):
            break
        decisions.extend(_store_alone(session, line, now, limit))
    return decisions


def ingest_ndjson(session: Session, body: bytes, clock: Callable[[], datetime] = utc_now) -> list[LineResult]:
    """Process every non-blank line of ``body``; every stored envelope is committed before this returns."""
    return ingest_batch(session, body, None, clock).results


def ingest_batch(
    session: Session, body: bytes, max_rejected: int | None, clock: Callable[[], datetime] = utc_now
) -> IngestResponse:
    """Like :func:`ingest_ndjson`, but stop after ``max_rejected`` rejected lines and say how many were left."""
    return store_batch(session, body, max_rejected, clock())


def store_batch(session: Session, body: bytes, max_rejected: int | None, now: datetime) -> IngestResponse:
    """Check and store the body's lines (committed), without plausibility flags."""
    answers: dict[int, LineResult] = {}
    numbers: list[int] = []
    limit = RejectLimit(max_rejected)
    parsed: list[tuple[int, bytes, str, dict[str, Any]]] = []
    for number, raw in split_lines(body):
        numbers.append(number)
        if limit.reached_before(number):
            continue  # counted as unprocessed, not read
        try:
            text = _decode(raw)
            parsed.append((number, raw, text, parse_envelope(text)))
        except EnvelopeRejected as rejected:
            answers[number] = _rejected(number, rejected)
            limit.early.append(number)
    replayed, stored = _replays(session, parsed)
    lines: list[Line] = []
    for number, _, text, obj in parsed:
        if limit.reached_before(number):
            break
        if number in replayed:
            answers[number] = LineResult(line=number, gateway=obj["gateway"], seq=obj["seq"], status="duplicate",
                                         hash=replayed[number])
            continue
        try:
            lines.append((number, check_parsed(text, obj)))
        except EnvelopeRejected as rejected:
            answers[number] = _rejected(number, rejected)
            limit.early.append(number)
    limit.early.sort()
    if lines:
        decisions = _store(session, lines, now, limit, stored)
        answers.update((decision.number, _answer(decision)) for decision in decisions)
    results = [answers[number] for number in sorted(answers)]
    last = limit.last_line()
    unprocessed = 0 if last is None else sum(1 for number in numbers if number > last)
    if last is None or not unprocessed:
        return IngestResponse(results=results)
    return IngestResponse(results=[r for r in results if r.line <= last],
                          stopped=_stopped(last, unprocessed, limit.most or 0))


def _stopped(after_line: int, unprocessed: int, rejected: int) -> IngestStopped:
    reason = f"{rejected} lines rejected (max_rejected_lines); the {unprocessed} lines after line {after_line} " \
             "were not processed"
    logger.warning("ingest stopped early: %s", reason,
                   extra={"line_no": after_line, "unprocessed": unprocessed, "rejected": rejected})
    return IngestStopped(after_line=after_line, unprocessed=unprocessed, reason=reason)


def _batch_hooks(session: Session, decisions: list[Decision], now: datetime) -> None:
    """The batch hooks (plausibility flags) in the storing transaction, inside a savepoint: what they add
    commits with the envelopes (no second commit), and a fault in them rolls back only their rows."""
    stored = [StoredResult(d.envelope_id, d.checked.gateway, d.checked.seq, d.checked.result,
                           d.checked.envelope["result"]) for d in decisions if d.envelope_id is not None]
    if not stored:
        return
    try:
        with session.begin_nested():
            run_batch_hooks(session, stored, now)
    except Exception:
        logger.exception("batch hooks failed for %d stored envelope(s); they are stored without", len(stored),
                         extra={"envelopes": [f"{s.gateway}/{s.seq}" for s in stored][:20]})
