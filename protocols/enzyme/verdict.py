"""The GB/T 5009.199-2003 verdict, computed by us from ΔA₀ and ΔAₜ (pure, decimal arithmetic).

inhibition % = (ΔA₀ − ΔAₜ) / ΔA₀ × 100, rounded half-up to 0.1; the verdict follows the
rounded value (a published 50.0 % is never negative). ΔA₀ below the minimum makes every
channel of the run invalid. See docs/instruments/enzyme-inhibition.md §6.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from .errors import EnzymeUsageError
from .events import ChannelReading

Verdict = Literal["negative", "positive", "invalid"]
Number = Decimal | float | int | str

_TENTH = Decimal("0.1")
_INSTRUMENT_VERDICT: dict[str, Verdict] = {"POS": "positive", "NEG": "negative", "---": "invalid"}


def _dec(value: Number) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


@dataclass(frozen=True)
class VerdictRules:
    """Profile settings: positive cutoff %, minimum control ΔA₀, suspect band [low, high) %."""

    cutoff: Decimal = Decimal(50)
    min_control_delta_a: Decimal = Decimal("0.3")
    suspect_band: tuple[Decimal, Decimal] = field(default=(Decimal(40), Decimal(50)))

    def __post_init__(self) -> None:
        object.__setattr__(self, "cutoff", _dec(self.cutoff))
        object.__setattr__(self, "min_control_delta_a", _dec(self.min_control_delta_a))
        object.__setattr__(self, "suspect_band", tuple(_dec(v) for v in self.suspect_band))
        if not 0 < self.cutoff <= 100:
            raise EnzymeUsageError(f"cutoff {self.cutoff} must be in (0, 100]")
        if self.min_control_delta_a < 0:
            raise EnzymeUsageError(f"min_control_delta_a {self.min_control_delta_a} must be >= 0")
        low, high = self.suspect_band
        if not low <= high:
            raise EnzymeUsageError(f"suspect_band low {low} must not exceed high {high}")


@dataclass(frozen=True)
class Judgement:
    """Our inhibition % (None when ΔA₀ is 0), verdict and QC flags for one channel."""

    inhibition: Decimal | None
    verdict: Verdict
    flags: tuple[str, ...]


def inhibition_percent(control_delta_a: Number, sample_delta_a: Number) -> Decimal | None:
    """(ΔA₀ − ΔAₜ)/ΔA₀ × 100 rounded half-up to 0.1, unclamped; None when ΔA₀ ≤ 0."""
    control, sample = _dec(control_delta_a), _dec(sample_delta_a)
    if control <= 0:
        return None
    return ((control - sample) / control * 100).quantize(_TENTH, rounding=ROUND_HALF_UP)


def judge(
    control_delta_a: Number,
    sample_delta_a: Number,
    instrument_verdict: str | None = None,
    rules: VerdictRules = VerdictRules(),
) -> Judgement:
    """Our verdict; a disagreeing instrument verdict is kept only as a QC flag."""
    value = inhibition_percent(control_delta_a, sample_delta_a)
    flags: list[str] = []
    verdict: Verdict
    if value is None or _dec(control_delta_a) < rules.min_control_delta_a:
        verdict = "invalid"
        flags.append("control_delta_a_low")
    elif value >= rules.cutoff:
        verdict = "positive"
    else:
        verdict = "negative"
        low, high = rules.suspect_band
        if low <= value < high:
            flags.append("suspect_band")
    if instrument_verdict is not None and _INSTRUMENT_VERDICT.get(instrument_verdict) != verdict:
        flags.append(f"instrument_verdict_mismatch:{instrument_verdict}")
    return Judgement(value, verdict, tuple(flags))


def judge_reading(reading: ChannelReading, rules: VerdictRules = VerdictRules()) -> Judgement:
    """Judge a reading on the run's control frame; flag a channel frame quoting another ΔA₀."""
    channel = reading.measurement
    judgement = judge(reading.control.delta_a, channel.sample_delta_a, channel.verdict, rules)
    if channel.control_delta_a != reading.control.delta_a:
        return Judgement(judgement.inhibition, judgement.verdict, judgement.flags + ("control_delta_a_mismatch",))
    return judgement
