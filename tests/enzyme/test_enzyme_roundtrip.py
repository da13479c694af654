"""The simulator's encoder (written from the doc) against our decoder (written from the doc)."""

from __future__ import annotations

import random
from datetime import datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_sim.enzyme import ChannelPlan, RunPlan
from firmware_sim.enzyme._faults import apply
from protocols.enzyme import NEED_DATA, ChannelReading, EnzymeDecoder, FrameError, RunAssembler, judge_reading

delta_a = st.integers(min_value=0, max_value=99_999).map(lambda n: Decimal(n).scaleb(-4))
code = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-", max_size=12)


@st.composite
def run_plans(draw: st.DrawFn) -> RunPlan:
    count = draw(st.integers(min_value=1, max_value=12))
    return RunPlan(
        run=draw(st.integers(min_value=1, max_value=999_999)),
        measured_at=draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31))).replace(
            microsecond=0
        ),
        control_delta_a=draw(delta_a),
        channels=tuple(ChannelPlan(n, draw(delta_a), draw(code)) for n in range(1, count + 1)),
        operator=draw(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", max_size=8)),
        serial=draw(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-", min_size=1, max_size=12)),
        firmware=draw(st.text(alphabet="0123456789abcXYZ.", min_size=1, max_size=8)),
    )


def assemble(stream: bytes) -> tuple[list[ChannelReading], list]:
    decoder, assembler = EnzymeDecoder(), RunAssembler()
    decoder.receive_data(stream)
    decoder.receive_data(b"")
    readings, problems = [], []
    while (event := decoder.next_event()) is not NEED_DATA:
        if isinstance(event, FrameError):
            problems.append(event)
        for item in assembler.add(event):
            (readings if isinstance(item, ChannelReading) else problems).append(item)
    return readings, problems


@settings(max_examples=200, deadline=None)
@given(run_plans())
def test_every_encoded_run_decodes_to_what_was_encoded(plan):
    frames = plan.frames()
    readings, problems = assemble(b"".join(frame for _, frame in frames))
    assert problems == []
    assert all(len(frame) <= 82 for _, frame in frames)
    assert len(readings) == len(plan.channels)
    for reading, channel in zip(readings, plan.channels):
        header = reading.header
        assert (header.serial, header.firmware, header.run, header.measured_at) == (
            plan.serial, plan.firmware, plan.run, plan.measured_at
        )
        assert header.operator == (plan.operator or None)
        assert reading.control.delta_a == plan.control_delta_a
        m = reading.measurement
        assert (m.channel, m.sample_delta_a) == (channel.channel, channel.sample_delta_a)
        assert m.sample_code == (channel.sample_code or None)
        ours = judge_reading(reading)
        # Our verdict and the instrument's agree whenever the instrument did not clamp its value.
        if ours.inhibition is not None and ours.inhibition >= Decimal("-99.9"):
            assert not any(flag.startswith("instrument_verdict_mismatch") for flag in ours.flags)
            if m.inhibition is not None:
                assert m.inhibition == ours.inhibition


@settings(max_examples=200, deadline=None)
@given(run_plans(), st.data())
def test_each_simulated_fault_is_reported_and_the_rest_still_decodes(plan, data):
    frames = plan.frames()
    target = data.draw(st.integers(min_value=0, max_value=len(frames) - 1))
    kind = data.draw(st.sampled_from(["bad_checksum", "truncated", "garbage"]))
    rng = random.Random(data.draw(st.integers(min_value=0, max_value=2**32)))
    faulty, destroyed = apply(kind, frames[target][1], rng)
    stream = b"".join(faulty if i == target else frame for i, (_, frame) in enumerate(frames))
    offset = sum(len(frame) for _, frame in frames[:target])
    # Fed, then a clean copy of the same run (the operator pressed SEND).
    clean = b"".join(frame for _, frame in frames)
    decoder = EnzymeDecoder()
    decoder.receive_data(stream + clean)
    events = []
    while (event := decoder.next_event()) is not NEED_DATA:
        events.append(event)
    [error] = [e for e in events if isinstance(e, FrameError)]
    assert (error.kind, error.offset) == (kind, offset)
    assert destroyed == (kind != "garbage")
    good = [e for e in events if not isinstance(e, FrameError)]
    assert len(good) == 2 * len(frames) - int(destroyed)
    assert [e.raw for e in good[-len(frames):]] == [frame for _, frame in frames]


@settings(max_examples=150, deadline=None)
@given(run_plans(), st.data())
def test_every_encoded_resend_decodes_to_exactly_its_channels_with_original_raw(plan, data):
    numbers = [ch.channel for ch in plan.channels]
    unacked = data.draw(st.sets(st.sampled_from(numbers), min_size=1))
    original, _ = assemble(b"".join(frame for _, frame in plan.frames()))
    frames = plan.frames(resend=unacked)
    readings, problems = assemble(b"".join(frame for _, frame in frames))
    assert problems == []
    assert [r.measurement.channel for r in readings] == sorted(unacked)
    by_key = {r.source_key: r.raw for r in original}
    assert [r.raw for r in readings] == [by_key[r.source_key] for r in readings]
    assert frames[-1][1].startswith(f"$E,{plan.run},{len(unacked)},R*".encode())
