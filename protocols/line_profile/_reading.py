"""Decoded fields → what a result needs: value, cutoff, identity, time and our verdict (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ._schema import Constant, Profile, Source, VerdictKind
from .events import FieldValue, LineReading

Verdict = Literal["negative", "positive", "invalid"]


@dataclass(frozen=True)
class LineResult:
    """One reading in the profile's terms; ``tested_at`` is the instrument's naive local time."""

    value: float | None
    unit: str
    cutoff: float | None
    channel: int | str | None
    serial: str | None
    sample_code: str | None
    tested_at: datetime | None
    instrument_verdict: FieldValue | None
    invalid_value: float | None
    verdict: Verdict


def verdict(kind: VerdictKind, value: float | None, cutoff: float | None,
            invalid_value: float | None = None, invalid_min: float | None = None) -> Verdict:
    """Our verdict: no finite value/cutoff or ``invalid_value < invalid_min`` → invalid; else the kind's rule.

    ``threshold_at_least``: value ≥ cutoff → positive; ``ratio_at_most``: value ≤ cutoff → positive;
    ``above_limit``: value > cutoff → positive.
    """
    if value is None or cutoff is None or not (math.isfinite(value) and math.isfinite(cutoff)):
        return "invalid"
    if invalid_min is not None and (invalid_value is None or invalid_value < invalid_min):
        return "invalid"
    positive = {"threshold_at_least": value >= cutoff, "ratio_at_most": value <= cutoff,
                "above_limit": value > cutoff}[kind]
    return "positive" if positive else "negative"


def _get(fields: dict[str, FieldValue], source: Source | None) -> FieldValue | None:
    if source is None:
        return None
    if isinstance(source, Constant):
        return source.constant
    return fields.get(source)


def _number(value: FieldValue | None) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _text(value: FieldValue | None) -> str | None:
    return None if value is None else str(value)


def interpret(profile: Profile, reading: LineReading) -> LineResult:
    """Apply ``[mapping]`` and ``[verdict]`` to a decoded line."""
    fields, m, rule = reading.fields, profile.mapping, profile.verdict
    value, cutoff = _number(_get(fields, m.value)), _number(_get(fields, m.cutoff))
    invalid_value = _number(fields.get(rule.invalid.field)) if rule.invalid else None
    channel = _get(fields, m.channel)
    tested_at = _get(fields, m.tested_at)
    return LineResult(
        value=value,
        unit=str(_get(fields, m.unit) or ""),
        cutoff=cutoff,
        channel=channel if isinstance(channel, int | str) else None,
        serial=_text(_get(fields, m.serial)),
        sample_code=_text(_get(fields, m.sample_code)),
        tested_at=tested_at if isinstance(tested_at, datetime) else None,
        instrument_verdict=_get(fields, m.instrument_verdict),
        invalid_value=invalid_value,
        verdict=verdict(rule.kind, value, cutoff, invalid_value, rule.invalid.min if rule.invalid else None),
    )
