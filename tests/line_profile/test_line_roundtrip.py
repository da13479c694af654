"""Simulator template → our decoder: whatever the simulator writes, we read back as its truth."""

from __future__ import annotations

import random
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_sim.line import load_spec, random_reading
from protocols.line_profile import NEED_DATA, LineDecoder, LineReading, interpret, parse_profile

from .line_support import GX4400_TEXT, NY10_TEXT

PROFILES = {name: (parse_profile(text, name), load_spec(text, name))
            for name, text in (("ny10", NY10_TEXT), ("gx4400", GX4400_TEXT))}


@pytest.mark.parametrize("name", sorted(PROFILES))
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), number=st.integers(1, 99_999),
       now=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
def test_simulated_line_decodes_to_its_truth(name, seed, number, now):
    profile, spec = PROFILES[name]
    truth = random_reading(spec, random.Random(seed), number, now)
    decoder = LineDecoder(profile)
    decoder.receive_data(truth.line)
    reading = decoder.next_event()
    assert isinstance(reading, LineReading), reading
    assert decoder.next_event() is NEED_DATA
    result = interpret(profile, reading)
    assert (result.serial, result.channel, result.sample_code, result.tested_at) == (
        truth.serial, truth.channel, truth.sample_code, truth.tested_at)
    assert (result.value, result.cutoff, result.verdict) == (truth.value, truth.cutoff, truth.verdict)
