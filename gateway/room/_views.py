"""View models of the room page: a stored envelope as a result row, health as instrument cards."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from protocols.calibration import CalibrationState, calibration_state

from ..health import InstrumentHealth
from ..label_store import QueuedLabel
from ..labels import KIT_EXPIRED_FLAG, UNLABELLED_FLAG
from ..outbox import StoredEnvelope
from ..sink import CALIBRATION_OVERDUE_FLAG
from ..technicians import NOT_SIGNED_IN_FLAG

VERDICT_CLASSES = {"negative": "negative", "positive": "positive", "invalid": "invalid"}


@dataclass(frozen=True)
class ResultRow:
    """One result as the page shows it; ``flag_keys`` name words of the text table."""

    seq: int
    time: str
    instrument: str
    channel: str | None
    sample_name: str | None
    sample_detail: str
    item: str
    value: str
    verdict: str
    operator: str
    unlabelled: bool
    flag_keys: list[str] = field(default_factory=list)
    other_flags: list[str] = field(default_factory=list)


def result_row(envelope: StoredEnvelope) -> ResultRow:
    """The row of a stored envelope, read from the exact signed text."""
    result = json.loads(envelope.text)["result"]
    sample, measurement, flags = result["sample"], result["measurement"], result["qc"]["flags"]
    known = {UNLABELLED_FLAG: "unlabelled", KIT_EXPIRED_FLAG: "kit_expired",
             CALIBRATION_OVERDUE_FLAG: "calibration_overdue", NOT_SIGNED_IN_FLAG: "operator_not_signed_in"}
    detail = " · ".join(str(sample[key]) for key in ("category", "stall", "barcode", "id") if sample.get(key))
    value = measurement.get("value")
    flag_keys = [known[flag] for flag in flags if flag in known]
    if result["qc"].get("control", "sample") != "sample":
        flag_keys.append("control")
    return ResultRow(
        seq=envelope.seq,
        time=_clock_time(result["tested_at"]),
        instrument=result["instrument"]["id"],
        channel=None if result["channel"] is None else str(result["channel"]),
        sample_name=sample.get("name"),
        sample_detail=detail,
        item=result["test"]["item"],
        value="—" if value is None else f"{value:g} {measurement.get('unit', '')}".strip(),
        verdict=VERDICT_CLASSES.get(result["verdict"], "invalid"),
        operator=result["operator"],
        unlabelled=UNLABELLED_FLAG in flags,
        flag_keys=flag_keys,
        other_flags=[flag for flag in flags if flag not in known],
    )


def _clock_time(stamp: str) -> str:
    """``MM-DD HH:MM:SS`` in the time's own offset (the instrument's local time)."""
    return datetime.fromisoformat(stamp).strftime("%m-%d %H:%M:%S")


@dataclass(frozen=True)
class InstrumentCard:
    """One instrument with its state, calibration due date and the labels waiting for its results."""

    id: str
    driver: str
    state: str
    results: int
    last_result: str | None
    queued: list[QueuedLabel]
    calibration_due: str | None = None
    calibration: CalibrationState | None = None
    """State of ``calibration_due`` on the day the page is drawn (None: no due date configured)."""
    last_error: str | None = None
    """Why the instrument is offline or in error (device absent, no reply, driver crash)."""


def instrument_cards(instruments: list[InstrumentHealth], queued: list[QueuedLabel],
                     today: date) -> list[InstrumentCard]:
    """Cards in config order, each with its queued labels in binding order and its calibration state on ``today``."""
    return [
        InstrumentCard(
            id=entry.id, driver=entry.driver, state=entry.state, results=entry.results,
            last_result=_clock_time(entry.last_result_at) if entry.last_result_at else None,
            queued=[item for item in queued if item.label.instrument == entry.id],
            calibration_due=entry.calibration_due,
            calibration=None if entry.calibration_due is None
            else calibration_state(date.fromisoformat(entry.calibration_due), today),
            last_error=entry.last_error if entry.state != "online" else None,
        )
        for entry in instruments
    ]
