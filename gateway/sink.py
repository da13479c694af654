"""The drivers' sink: flag clock skew and overdue calibration, bind the sample label and commit (durable on
return), wake the uplink."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import date, datetime

from msgspec.structs import replace

from drivers.base import ReadingIdentity, ResultSink, raw_identity
from protocols.calibration import is_overdue
from protocols.result import TestResult

from .errors import OutboxError
from .health import Health
from .label_store import LabelBook
from .outbox import Outbox, Prepare, StoredEnvelope
from .technicians import SignIn
from .plausibility import InstrumentPlausibility, add_flags
from .room_camera import RoomCamera
from .uplink_base import Uplink

log = logging.getLogger("gateway.daemon")

CLOCK_SKEW_FLAG = "clock_skew"
CALIBRATION_OVERDUE_FLAG = "calibration_overdue"
"""qc flag of a result tested (instrument-local date) after its instrument's ``calibration_due``."""


def clock_skew_s(result: TestResult) -> float:
    """``tested_at - received_at`` in seconds: instrument clock minus gateway clock (+ = ahead)."""
    tested = datetime.fromisoformat(result.tested_at)
    received = datetime.fromisoformat(result.received_at)
    return (tested - received).total_seconds()


def flag_clock_skew(result: TestResult, skew_s: float, max_skew_s: float) -> TestResult:
    """Add qc flag ``clock_skew:<+/-seconds>s`` when ``|skew_s|`` exceeds ``max_skew_s`` (once)."""
    if abs(skew_s) <= max_skew_s:
        return result
    flag = f"{CLOCK_SKEW_FLAG}:{skew_s:+.0f}s"
    flags = [f for f in result.qc.flags if not f.startswith(f"{CLOCK_SKEW_FLAG}:")]
    return replace(result, qc=replace(result.qc, flags=[*flags, flag]))


def flag_calibration_overdue(result: TestResult, calibration_due: date | None) -> TestResult:
    """Add qc flag ``calibration_overdue`` (once) when ``tested_at``'s own local date is after ``calibration_due``."""
    if calibration_due is None or CALIBRATION_OVERDUE_FLAG in result.qc.flags:
        return result
    if not is_overdue(calibration_due, datetime.fromisoformat(result.tested_at).date()):
        return result
    flags = [*result.qc.flags, CALIBRATION_OVERDUE_FLAG]
    return replace(result, qc=replace(result.qc, flags=flags))


def outbox_sink(outbox: Outbox, uplink: Uplink, health: Health, max_skew_s: float, instrument_id: str, *,
                labels: LabelBook | None = None, calibration_due: date | None = None,
                on_stored: Callable[[StoredEnvelope], None] | None = None,
                plausibility: InstrumentPlausibility | None = None,
                identity: ReadingIdentity = raw_identity, camera: RoomCamera | None = None,
                sign_in: SignIn | None = None) -> ResultSink:
    """The sink handed to the driver of ``instrument_id``; returns after the commit (True) or for a known
    reading (False).

    With ``labels``, each sample result is bound to its queued label in the commit's transaction
    (or flagged ``unlabelled``); ``on_stored`` then hears of each new envelope (the room page feed).
    With ``calibration_due``, results tested after it are flagged ``calibration_overdue`` (still stored).
    With ``plausibility``, the instrument's timing, rate and identity rules add their flags.
    ``identity`` (the driver's :meth:`~drivers.base.Driver.reading_identity`) tells a re-sent reading from a
    new one under a reused source key.
    With ``camera``, a snapshot is taken (bounded by its timeout) and named in the result, or the
    result is flagged ``camera_failed:<reason>``. With ``sign_in``, the signed-in technician becomes the
    ``operator`` (after the label's), or the result is flagged ``operator_not_signed_in``.
    """
    prepare = _prepare(labels, sign_in)

    async def sink(result: TestResult, source_key: str | None) -> bool:
        skew = clock_skew_s(result)
        result = flag_calibration_overdue(flag_clock_skew(result, skew, max_skew_s), calibration_due)
        if plausibility is not None:
            result = add_flags(result, plausibility.flags(result))
        shot = None
        if camera is not None:
            result, shot = await camera.attach(result)
        try:
            stored = outbox.append(result, source_key, prepare, identity=identity)
        except sqlite3.Error as exc:  # not stored, so not acked: the instrument keeps the reading
            if shot is not None and camera is not None:
                camera.store.discard(shot)
            if health.outbox_failed(f"{type(exc).__name__}: {exc}"):
                log.error("outbox cannot store results; instruments are not acknowledged until it can",
                          extra={"error": str(exc), "outbox": str(outbox.path), "instrument": instrument_id})
            raise OutboxError(f"{outbox.path}: result not stored: {exc}") from exc
        if health.outbox_recovered():
            log.info("outbox stores results again", extra={"outbox": str(outbox.path)})
        if stored is None:
            if shot is not None and camera is not None:
                camera.store.discard(shot)
            log.info("reading already stored; not stored again",
                     extra={"source_key": source_key, "instrument": instrument_id})
            return False
        if plausibility is not None:
            plausibility.record(result)
        health.result_stored(instrument_id, result.received_at, skew)
        log.info("result stored", extra={"seq": stored.seq, "result_id": stored.result_id,
                                         "instrument": instrument_id, "verdict": result.verdict,
                                         **({"clock_skew_s": round(skew, 1)} if abs(skew) > max_skew_s else {})})
        uplink.wake()
        if shot is not None and camera is not None:
            camera.on_kept()
        if on_stored is not None:
            on_stored(stored)
        return True

    return sink


def _prepare(labels: LabelBook | None, sign_in: SignIn | None) -> Prepare | None:
    """The append transaction's last step: bind the queued label, then the signed-in technician."""
    if sign_in is None:
        return labels.bind if labels is not None else None

    def prepare(db: sqlite3.Connection, result: TestResult, seq: int) -> TestResult:
        return sign_in.bind(labels.bind(db, result, seq) if labels is not None else result)

    return prepare
