"""From decoded fields to a reading with its verdict: the profile's mapping and verdict rule."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ._codec import Value
from ._schema import AnalyteEntry, Profile, VerdictRule

Verdict = Literal["negative", "positive", "invalid"]


@dataclass(frozen=True)
class Reading:
    """One strip reading as the profile defines it; no gateway context (site, clock) yet."""

    sequence: int
    analyte_code: int
    analyte: AnalyteEntry | None
    """None when the code is not in the profile's table (flag ``unknown_analyte_code``)."""
    channel: int | None
    t: float
    c: float
    ratio: float | None
    """T/C as the instrument reported it; None when not a finite number."""
    cutoff: float | None
    tested_at: datetime | None
    """Instrument local time, naive; None when the six registers are not a valid time."""
    kit_lot: str | None
    sample_code: str | None
    verdict: Verdict
    flags: tuple[str, ...]


def verdict(rule: VerdictRule, *, ratio: float | None, c: float, cutoff: float | None) -> Verdict:
    """Competitive assay: C below ``c_min`` (or no usable ratio/cutoff) → invalid; T/C ≤ cutoff → positive."""
    if not math.isfinite(c) or c < rule.c_min:
        return "invalid"
    if ratio is None or cutoff is None or not math.isfinite(ratio) or not math.isfinite(cutoff):
        return "invalid"
    return "positive" if ratio <= cutoff else "negative"


def _number(value: Value) -> float:
    return float(value) if isinstance(value, (int, float)) else math.nan


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _text(decoded: dict[str, Value], name: str | None) -> str | None:
    """A mapped string field; None when unmapped or empty."""
    return (str(decoded[name]) or None) if name is not None else None


def _local_time(parts: list[Value]) -> datetime | None:
    try:
        return datetime(*(int(p) for p in parts))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def interpret(profile: Profile, decoded: dict[str, Value]) -> Reading:
    """Apply ``profile.mapping`` and ``profile.verdict`` to a decoded result block."""
    m, rule = profile.mapping, profile.verdict
    flags: list[str] = []
    code = int(decoded[m.analyte_code])
    analyte = profile.analytes.get(code)
    if analyte is None:
        flags.append(f"unknown_analyte_code:{code}")
    c = _number(decoded[m.c])
    ratio = _finite_or_none(_number(decoded[rule.ratio]))
    cutoff: float | None = None
    if rule.cutoff is not None:
        cutoff = _finite_or_none(_number(decoded[rule.cutoff]))
    elif analyte is not None:
        cutoff = rule.cutoffs.get(analyte.analyte)
    if cutoff is None:
        flags.append("no_cutoff")
    if ratio is None:
        flags.append("ratio_not_finite")
    tested_at = _local_time([decoded[name] for name in m.tested_at])
    if tested_at is None:
        flags.append("instrument_clock_invalid")
    result = verdict(rule, ratio=ratio, c=c, cutoff=cutoff)
    if result == "invalid" and math.isfinite(c) and c < rule.c_min:
        flags.append("weak_control_line")
    return Reading(
        sequence=int(decoded[profile.handshake.sequence]),
        analyte_code=code,
        analyte=analyte,
        channel=int(decoded[m.channel]) if m.channel is not None else None,
        t=_number(decoded[m.t]),
        c=c,
        ratio=ratio,
        cutoff=cutoff,
        tested_at=tested_at,
        kit_lot=_text(decoded, m.kit_lot),
        sample_code=_text(decoded, m.sample_code),
        verdict=result,
        flags=tuple(flags),
    )
