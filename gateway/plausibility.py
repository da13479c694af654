"""Gateway plausibility rules of one instrument: channel timing, hourly rate, enrolled identity.

The facts are here (every result of the instrument passes this gateway), so the flags go into
the signed result's ``qc.flags``; they never change the measurement or the verdict. State is the
instrument's results of the trailing hour, seeded from the outbox at start so a restart does
not forget them.
"""

from __future__ import annotations

import json
from collections import deque
from datetime import datetime, timedelta

from msgspec.structs import replace

from protocols.plausibility import (
    FIRMWARE_MISMATCH,
    RATE_EXCEEDED,
    SERIAL_MISMATCH,
    MethodTiming,
    default_timing,
    hourly_capacity,
    too_fast,
)
from protocols.result import TestResult

from .config import PlausibilitySection
from .outbox import Outbox

WINDOW = timedelta(hours=1)
SEED_ROWS = 5000
"""How many of the newest outbox rows are read at start to seed the trailing hour."""


def timing_for(section: PlausibilitySection, test_kind: str) -> MethodTiming:
    """The configured times, each unset one taken from the test kind's defaults."""
    default = default_timing(test_kind)
    return MethodTiming(
        channel_cycle_s=section.channel_cycle_s if section.channel_cycle_s is not None else default.channel_cycle_s,
        label_to_result_s=(section.label_to_result_s if section.label_to_result_s is not None
                           else default.label_to_result_s),
    )


def label_timing(checks: dict[str, InstrumentPlausibility], result: TestResult) -> MethodTiming | None:
    """The timing of ``result``'s instrument (None for an instrument not in ``checks``)."""
    check = checks.get(result.instrument.id)
    return None if check is None else timing_for(check.section, result.test.kind)


def add_flags(result: TestResult, flags: list[str]) -> TestResult:
    """``result`` with ``flags`` appended to ``qc.flags`` (those whose code it already has are skipped)."""
    have = {flag.split(":", 1)[0] for flag in result.qc.flags}
    new = [flag for flag in flags if flag.split(":", 1)[0] not in have]
    if not new:
        return result
    return replace(result, qc=replace(result.qc, flags=[*result.qc.flags, *new]))


class InstrumentPlausibility:
    """The trailing hour of one instrument's results and the rules over it; use from one loop."""

    def __init__(self, instrument_id: str, section: PlausibilitySection) -> None:
        self.instrument_id = instrument_id
        self.section = section
        self._last_on_channel: dict[str, datetime] = {}
        self._hour: deque[datetime] = deque()

    def seed(self, outbox: Outbox) -> None:
        """Remember the instrument's stored results of the newest ``SEED_ROWS`` outbox rows."""
        rows = self._seed_rows(outbox)
        for channel, tested_at in rows:
            self._remember(None if channel is None else str(channel), datetime.fromisoformat(tested_at))

    def _seed_rows(self, outbox: Outbox) -> list[tuple[object, str]]:
        rows = outbox.query(
            "SELECT envelope FROM envelopes WHERE seq > (SELECT coalesce(max(seq), 0) FROM envelopes) - ?"
            " ORDER BY seq", (SEED_ROWS,))
        found = []
        for (text,) in rows:
            result = json.loads(text)["result"]
            if result["instrument"]["id"] == self.instrument_id:
                found.append((result["channel"], result["tested_at"]))
        return found

    def flags(self, result: TestResult) -> list[str]:
        """The flags ``result`` earns against the instrument's history (history is not changed)."""
        tested = datetime.fromisoformat(result.tested_at)
        timing = timing_for(self.section, result.test.kind)
        flags = []
        if result.channel is not None and timing.channel_cycle_s > 0:
            flag = too_fast(self._last_on_channel.get(str(result.channel)), tested, timing.channel_cycle_s)
            if flag is not None:
                flags.append(flag)
        if self.section.channels is not None and timing.channel_cycle_s > 0:
            capacity = hourly_capacity(self.section.channels, timing.channel_cycle_s)
            in_hour = 1 + sum(1 for t in self._hour if tested - WINDOW < t <= tested)
            if in_hour > capacity:
                flags.append(f"{RATE_EXCEEDED}:{in_hour}/h>{capacity}/h")
        if self.section.serial is not None and result.instrument.serial != self.section.serial:
            flags.append(f"{SERIAL_MISMATCH}:{result.instrument.serial}")
        if self.section.firmware is not None and result.instrument.firmware != self.section.firmware:
            flags.append(f"{FIRMWARE_MISMATCH}:{result.instrument.firmware}")
        return flags

    def record(self, result: TestResult) -> None:
        """Add a stored result to the history."""
        self._remember(None if result.channel is None else str(result.channel),
                       datetime.fromisoformat(result.tested_at))

    def _remember(self, channel: str | None, tested: datetime) -> None:
        if channel is not None:
            last = self._last_on_channel.get(channel)
            self._last_on_channel[channel] = tested if last is None else max(last, tested)
        self._hour.append(tested)
        newest = max(self._hour[-1], tested)
        while self._hour and self._hour[0] <= newest - WINDOW:
            self._hour.popleft()
