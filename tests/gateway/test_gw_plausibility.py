"""Gateway plausibility rules: channel cycle, label timing, hourly rate, enrolled serial and firmware."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from msgspec.structs import replace
import pytest

from gateway.config import PlausibilitySection
from gateway.label_store import LabelBook
from gateway.labels import SampleLabel
from gateway.outbox import Outbox
from gateway.plausibility import InstrumentPlausibility, label_timing, timing_for
from protocols.plausibility import MethodTiming, default_timing, hourly_capacity, label_timing_flags, too_fast
from protocols.result import Instrument, TestResult

from .conftest import now, result

T0 = datetime.fromisoformat("2027-03-02T09:00:00.000+08:00")


def at(n: int, seconds: float, channel: int | None = 1, **update: object) -> TestResult:
    """Reading ``n`` on ``channel``, tested and received ``seconds`` after T0."""
    stamp = (T0 + timedelta(seconds=seconds)).isoformat(timespec="milliseconds")
    return replace(result(n), channel=channel, tested_at=stamp, received_at=stamp, **update)


def run(check: InstrumentPlausibility, readings: list[TestResult]) -> list[list[str]]:
    """Each reading's flags, recording it afterwards as the sink does after the commit."""
    found = []
    for reading in readings:
        found.append(check.flags(reading))
        check.record(reading)
    return found


def test_method_defaults_come_from_the_shipped_table_and_config_overrides_them():
    assert default_timing("enzyme_inhibition") == MethodTiming(channel_cycle_s=180, label_to_result_s=600)
    assert default_timing("colloidal_gold").label_to_result_s == 300
    with pytest.raises(KeyError, match="known: colloidal_gold, enzyme_inhibition, quantitative"):
        default_timing("titration")
    section = PlausibilitySection(channel_cycle_s=30)
    assert timing_for(section, "enzyme_inhibition") == MethodTiming(channel_cycle_s=30, label_to_result_s=600)


def test_pure_timing_rules_fire_below_the_shortest_time_and_not_at_or_above_it():
    assert too_fast(T0, T0 + timedelta(seconds=179), 180) == "too_fast_channel:179s"
    assert too_fast(T0, T0 + timedelta(seconds=180), 180) is None
    assert too_fast(None, T0, 180) is None
    assert hourly_capacity(4, 180) == 80 and hourly_capacity(1, 7000) == 1
    labelled = T0
    assert label_timing_flags(labelled, T0 + timedelta(seconds=700), T0 + timedelta(seconds=701), 600) == []
    assert label_timing_flags(labelled, T0 + timedelta(seconds=100), T0 + timedelta(seconds=101), 600) == [
        "too_fast_after_label:101s"]
    assert label_timing_flags(labelled, T0 - timedelta(seconds=30), T0 + timedelta(seconds=5), 600) == [
        "label_after_result:30s"]


def test_channel_cycle_is_per_channel():
    check = InstrumentPlausibility("ei-01", PlausibilitySection())  # enzyme: 180 s per channel
    flags = run(check, [at(1, 0, 1), at(2, 10, 2), at(3, 100, 1), at(4, 190, 2), at(5, 400, 1)])
    assert flags == [[], [], ["too_fast_channel:100s"], [], []]
    assert run(InstrumentPlausibility("ei-01", PlausibilitySection()), [at(1, 0, None), at(2, 1, None)]) == [[], []]
    off = InstrumentPlausibility("ei-01", PlausibilitySection(channel_cycle_s=0, channels=1))
    assert run(off, [at(1, 0, 1), at(2, 0, 1), at(3, 1, 1)]) == [[], [], []]  # 0: channel and rate rules off


def test_rate_rule_counts_the_trailing_hour_against_channels_times_cycle():
    check = InstrumentPlausibility("ei-01", PlausibilitySection(channels=2, channel_cycle_s=1200))  # 6 per hour
    readings = [at(n, n * 500, channel=n) for n in range(8)]  # a new channel each time: no channel repeats
    flags = run(check, readings)
    assert flags == [[]] * 6 + [["rate_exceeded:7/h>6/h"], ["rate_exceeded:8/h>6/h"]]
    slow = InstrumentPlausibility("ei-01", PlausibilitySection(channels=2, channel_cycle_s=1200))
    assert run(slow, [at(n, n * 700, channel=n) for n in range(8)]) == [[]] * 8
    assert run(InstrumentPlausibility("ei-01", PlausibilitySection()), readings) == [[]] * 8  # no channels: off


def test_serial_and_firmware_must_match_the_enrolled_instrument():
    check = InstrumentPlausibility("ei-01", PlausibilitySection(serial="F0001", firmware="1.0"))
    swapped = at(1, 0, instrument=Instrument(id="ei-01", model="FAKE-1", serial="F0099", firmware="2.1",
                                             driver="counting"))
    assert check.flags(at(2, 0)) == []
    assert check.flags(swapped) == ["instrument_serial_mismatch:F0099", "instrument_firmware_mismatch:2.1"]


def test_history_is_seeded_from_the_outbox_after_a_restart(outbox: Outbox):
    outbox.append(at(1, 0, 1), "k1")
    outbox.append(replace(at(2, 0, 1), instrument=Instrument(
        id="ei-02", model="FAKE-1", serial="F0002", firmware="1.0", driver="counting")), "k2")
    fresh = InstrumentPlausibility("ei-01", PlausibilitySection())
    assert fresh.flags(at(3, 60, 1)) == []
    fresh.seed(outbox)
    assert fresh.flags(at(3, 60, 1)) == ["too_fast_channel:60s"]
    other = InstrumentPlausibility("ei-03", PlausibilitySection())
    other.seed(outbox)
    assert other.flags(at(3, 60, 1)) == []


def label_at(outbox: Outbox, when: datetime, channel: int = 1) -> LabelBook:
    """A label book whose clock reads ``when`` while queueing a label for ``channel``."""
    checks = {"ei-01": InstrumentPlausibility("ei-01", PlausibilitySection(label_to_result_s=300))}
    book = LabelBook(outbox, lambda: when, lambda r: label_timing(checks, r))
    book.queue(SampleLabel(instrument="ei-01", channel=channel, name="菠菜", category="vegetable", operator="tech-li"))
    return book


def flags_of(outbox: Outbox, seq: int) -> list[str]:
    stored = outbox.get(seq)
    assert stored is not None
    return json.loads(stored.text)["result"]["qc"]["flags"]


def test_label_written_too_soon_before_or_after_the_result_is_flagged_when_bound(outbox: Outbox):
    outbox.append(at(1, 400), "k1", label_at(outbox, T0).bind)  # labelled 400 s before: plausible
    outbox.append(at(2, 100), "k2", label_at(outbox, T0).bind)  # labelled 100 s before: too fast
    outbox.append(at(3, 100), "k3", label_at(outbox, T0 + timedelta(seconds=160)).bind)  # labelled after the test
    assert flags_of(outbox, 1) == []
    assert flags_of(outbox, 2) == ["too_fast_after_label:100s"]
    assert flags_of(outbox, 3) == ["label_after_result:60s"]
    untimed = LabelBook(outbox, now)  # an instrument the gateway has no timing for: not checked
    untimed.queue(SampleLabel(instrument="ei-01", channel=1, name="菠菜", category="vegetable", operator="tech-li"))
    outbox.append(at(4, 0), "k4", untimed.bind)
    assert flags_of(outbox, 4) == []
