"""Timing rules: a channel's cycle, label-to-result time and hourly capacity, from per-method defaults."""

from __future__ import annotations

import functools
import math
import tomllib
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

from .flags import LABEL_AFTER_RESULT, TOO_FAST_AFTER_LABEL, TOO_FAST_CHANNEL

TIMING_RESOURCE = ("protocols.plausibility", "method_timing.toml")


@dataclass(frozen=True)
class MethodTiming:
    """Shortest times a method allows (seconds); see ``method_timing.toml``."""

    channel_cycle_s: float
    label_to_result_s: float


@functools.cache
def default_timing(test_kind: str) -> MethodTiming:
    """The shipped defaults for ``test_kind`` (``enzyme_inhibition``, ``colloidal_gold``, ``quantitative``)."""
    package, name = TIMING_RESOURCE
    table = tomllib.loads((resources.files(package) / name).read_text("utf-8"))
    if test_kind not in table:
        raise KeyError(f"no method timing for test kind {test_kind!r}; known: {', '.join(sorted(table))}")
    entry = table[test_kind]
    return MethodTiming(channel_cycle_s=float(entry["channel_cycle_s"]),
                        label_to_result_s=float(entry["label_to_result_s"]))


def too_fast(previous: datetime | None, current: datetime, shortest_s: float, code: str = TOO_FAST_CHANNEL) -> str | None:
    """``code:<seconds>s`` when ``current`` is less than ``shortest_s`` after ``previous``, else None."""
    if previous is None:
        return None
    elapsed = (current - previous).total_seconds()
    return f"{code}:{elapsed:.0f}s" if 0 <= elapsed < shortest_s else None


def label_timing_flags(labelled_at: datetime, test_ended_at: datetime, received_at: datetime,
                       label_to_result_s: float) -> list[str]:
    """Flags of a label bound to a result: written after the test ended, or too short before its arrival.

    ``labelled_at`` and ``received_at`` are gateway clock; ``test_ended_at`` is the instrument's
    end of test moved onto the gateway clock (``received_at`` minus the delivery delay).
    """
    if labelled_at > test_ended_at:
        return [f"{LABEL_AFTER_RESULT}:{(labelled_at - test_ended_at).total_seconds():.0f}s"]
    flag = too_fast(labelled_at, received_at, label_to_result_s, TOO_FAST_AFTER_LABEL)
    return [flag] if flag is not None else []


def hourly_capacity(channels: int, channel_cycle_s: float) -> int:
    """Most results ``channels`` channels can produce in one hour at one result per cycle each."""
    return channels * math.ceil(3600 / channel_cycle_s)
