"""Ingest of NDJSON envelope batches: each line checked, stored and committed on its own."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from lims_api.core.errors import EnvelopeRejected, WrongSite
from lims_api.core.log_limits import rate_limited
from lims_api.core.models import utc_now

from .chain import audit_wrong_site, store_envelope
from .checks import CheckedEnvelope, check_line
from .hooks import run_batch_hooks
from .schemas import IngestResponse, IngestStopped, LineResult

logger = rate_limited(logging.getLogger(__name__))

__all__ = ["ingest_batch", "ingest_ndjson", "split_lines"]


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


def _store_committed(session: Session, number: int, checked: CheckedEnvelope, now: datetime) -> LineResult:
    """Store and commit; a unique-constraint race is re-read and answered as duplicate or fork."""
    try:
        status = store_envelope(session, checked, now)
        session.commit()
    except IntegrityError:
        session.rollback()
        status = store_envelope(session, checked, now)
        session.commit()
    except DataError as exc:
        session.rollback()
        raise EnvelopeRejected(
            "schema", f"value cannot be stored: {exc.orig}", gateway=checked.gateway, seq=checked.seq,
            envelope_hash=checked.hash,
        ) from exc
    base = {"line": number, "gateway": checked.gateway, "seq": checked.seq, "hash": checked.hash}
    if status == "fork":
        error = f"seq {checked.seq} is already stored with a different hash"
        return LineResult(status="rejected", code="fork", error=error, **base)
    return LineResult(status=status, **base)


def _process_line(session: Session, number: int, line: bytes, now: datetime) -> LineResult:
    try:
        checked = check_line(_decode(line))
        return _store_committed(session, number, checked, now)
    except EnvelopeRejected as rejected:
        session.rollback()
        logger.warning(
            "envelope rejected (line %d): %s",
            number,
            rejected,
            extra={"line_no": number, "gateway": rejected.gateway, "seq": rejected.seq,
                   "code": rejected.code, "reason": rejected.message, "envelope_hash": rejected.envelope_hash},
        )
        if isinstance(rejected, WrongSite):
            audit_wrong_site(session, rejected, now)
        return LineResult(
            line=number,
            gateway=rejected.gateway,
            seq=rejected.seq,
            status="rejected",
            code=rejected.code,  # type: ignore[arg-type]
            error=rejected.message,
            hash=rejected.envelope_hash,
        )


def ingest_ndjson(session: Session, body: bytes, clock: Callable[[], datetime] = utc_now) -> list[LineResult]:
    """Process every non-blank line of ``body`` in order; each stored envelope is committed before the next."""
    return ingest_batch(session, body, None, clock).results


def ingest_batch(
    session: Session, body: bytes, max_rejected: int | None, clock: Callable[[], datetime] = utc_now
) -> IngestResponse:
    """Like :func:`ingest_ndjson`, but stop after ``max_rejected`` rejected lines and say how many were left."""
    results: list[LineResult] = []
    rejected = 0
    lines = split_lines(body)
    stopped = None
    for number, line in lines:
        result = _process_line(session, number, line, clock())
        results.append(result)
        rejected += result.status == "rejected"
        if max_rejected is not None and rejected >= max_rejected:
            unprocessed = sum(1 for _ in lines)
            if unprocessed:
                stopped = _stopped(number, unprocessed, rejected)
                break
    flag_batch(session, [(r.gateway, r.seq) for r in results if r.status == "stored" and r.gateway and r.seq],
               clock())
    return IngestResponse(results=results, stopped=stopped)


def _stopped(after_line: int, unprocessed: int, rejected: int) -> IngestStopped:
    reason = f"{rejected} lines rejected (max_rejected_lines); the {unprocessed} lines after line {after_line} " \
             "were not processed"
    logger.warning("ingest stopped early: %s", reason,
                   extra={"line_no": after_line, "unprocessed": unprocessed, "rejected": rejected})
    return IngestStopped(after_line=after_line, unprocessed=unprocessed, reason=reason)


def flag_batch(session: Session, keys: list[tuple[str, int]], now: datetime) -> None:
    """The batch hooks (plausibility flags) on the stored envelopes, committed; a fault here loses no envelope."""
    if not keys:
        return
    try:
        run_batch_hooks(session, keys, now)
        session.commit()
    except Exception:
        session.rollback()
        logger.exception("batch hooks failed for %d stored envelope(s); they stay stored", len(keys),
                         extra={"envelopes": [f"{gateway}/{seq}" for gateway, seq in keys][:20]})
