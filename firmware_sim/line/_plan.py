"""Random readings for a line profile, and the truth a host should report for each."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ._encoder import encode_line
from ._spec import LineSpec

Verdict = Literal["negative", "positive", "invalid"]


@dataclass(frozen=True)
class LineTruth:
    """One written reading as the host should see it; ``delivered`` False when a fault destroyed the line."""

    serial: str | None
    tested_at: datetime | None
    channel: int | str | None
    sample_code: str | None
    value: float
    cutoff: float
    verdict: Verdict
    line: bytes
    values: dict[str, Any]
    delivered: bool = True


def _source(values: dict[str, Any], source: Any) -> Any:
    """A ``[mapping]`` entry: a field name or ``{ constant = ... }``."""
    if source is None:
        return None
    return source["constant"] if isinstance(source, dict) else values.get(source)


def judge(spec: LineSpec, values: dict[str, Any], value: float, cutoff: float) -> Verdict:
    """The profile's verdict rule, as docs/profiles.md states it."""
    invalid = spec.verdict.get("invalid")
    if invalid is not None and values[invalid["field"]] < invalid["min"]:
        return "invalid"
    kind = spec.verdict["kind"]
    positive = value >= cutoff if kind == "threshold_at_least" else value <= cutoff if kind == "ratio_at_most" \
        else value > cutoff
    return "positive" if positive else "negative"


def random_reading(spec: LineSpec, rng: random.Random, number: int, now: datetime) -> LineTruth:
    """Reading ``number`` taken at ``now`` (instrument local time): random values, its line and its truth."""
    settings, mapping = spec.settings, spec.mapping
    values: dict[str, Any] = dict(settings.get("constants", {}))
    for name, (low, high, decimals) in settings.get("ranges", {}).items():
        values[name] = round(rng.uniform(low, high), int(decimals))
    now = now.replace(microsecond=0)
    if isinstance(mapping.get("serial"), str):
        values[mapping["serial"]] = settings.get("serial", "SIM0001")
    if isinstance(mapping.get("channel"), str):
        values[mapping["channel"]] = rng.randint(*settings.get("channels", [1, 1]))
    if mapping.get("sample_code"):
        values[mapping["sample_code"]] = settings.get("sample_format", "S{n:04d}").format(n=number)
    if mapping.get("tested_at"):
        values[mapping["tested_at"]] = now.strftime(spec.fields[mapping["tested_at"]]["format"])
    value, cutoff = float(values[mapping["value"]]), float(_source(values, mapping["cutoff"]))
    verdict = judge(spec, values, value, cutoff)
    if mapping.get("instrument_verdict"):
        values[mapping["instrument_verdict"]] = settings.get("verdict_words", {}).get(verdict, verdict)
    channel = _source(values, mapping.get("channel"))
    return LineTruth(
        serial=None if mapping.get("serial") is None else str(_source(values, mapping["serial"])),
        tested_at=now if mapping.get("tested_at") else None,
        channel=channel, sample_code=values.get(mapping.get("sample_code") or ""),
        value=value, cutoff=cutoff, verdict=verdict, line=encode_line(spec, values), values=values,
    )
