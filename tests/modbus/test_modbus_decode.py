"""decode_block golden vectors (both word orders), the verdict rule, and a simulator→decoder round trip."""

from __future__ import annotations

import struct
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_sim.gold import encoder as sim_encoder
from firmware_sim.gold import load as sim_load
from protocols.modbus_profile import (
    RegisterDataError,
    decode_block,
    decode_identity,
    interpret,
    load_builtin,
    registers_from_bytes,
    registers_to_bytes,
    verdict,
)

# Written by hand from docs/instruments/colloidal-gold-reader.md, not by any encoder:
# seq 0x00012345, clenbuterol, channel 3, T 215.5 (0x43578000), C 513.25 (0x44005000),
# T/C 0.42 (0x3ED70A3D), cutoff 0.5 (0x3F000000), 2024-05-17 09:30:05, "KL2405A01", "S0001".
GR100_BLOCK = [
    0x0001, 0x2345, 0x0001, 0x0003, 0x4357, 0x8000, 0x4400, 0x5000, 0x3ED7, 0x0A3D, 0x3F00, 0x0000,
    2024, 5, 17, 9, 30, 5,
    0x4B4C, 0x3234, 0x3035, 0x4130, 0x3100, 0, 0, 0,
    0x5330, 0x3030, 0x3100, 0, 0, 0, 0, 0,
]
# Huaxin CG-8: seq 7, channel 8, ractopamine (0x12), T/C 0.42 little word order (CDAB),
# T 215.5 as 2155 ×0.1, C 513.2 as 5132, year 24 (+2000), strings byte-swapped.
HUAXIN_BLOCK = [
    7, 8, 0x12, 0x0A3D, 0x3ED7, 2155, 5132, 24, 5, 17, 9, 30, 5,
    0x3053, 0x3030, 0x0031, 0, 0, 0, 0, 0,
    0x4C4B, 0x3432, 0x3530, 0x3041, 0x0031, 0,
]


def test_gr100_golden_vector():
    decoded = decode_block(load_builtin("gr100"), GR100_BLOCK)
    assert decoded["sequence"] == 0x12345
    assert (decoded["analyte_code"], decoded["channel"]) == (1, 3)
    assert (decoded["t_line"], decoded["c_line"], decoded["ratio"], decoded["cutoff"]) == (215.5, 513.25, 0.42, 0.5)
    assert (decoded["kit_lot"], decoded["sample_code"]) == ("KL2405A01", "S0001")
    reading = interpret(load_builtin("gr100"), decoded)
    assert reading.analyte is not None and reading.analyte.item == "克伦特罗"
    assert reading.tested_at == datetime(2024, 5, 17, 9, 30, 5)
    assert (reading.verdict, reading.flags) == ("positive", ())


def test_huaxin_golden_vector_little_word_order_and_table_cutoff():
    profile = load_builtin("huaxin-cg8")
    decoded = decode_block(profile, HUAXIN_BLOCK)
    assert (decoded["sequence"], decoded["channel"], decoded["ratio"]) == (7, 8, 0.42)
    assert (decoded["t_line"], decoded["c_line"], decoded["year"]) == (215.5, 513.2, 2024)
    assert (decoded["sample_code"], decoded["kit_lot"]) == ("S0001", "KL2405A01")
    reading = interpret(profile, decoded)
    assert reading.analyte is not None and reading.analyte.analyte == "ractopamine"
    assert reading.cutoff == 0.60 and reading.verdict == "positive"
    assert reading.tested_at == datetime(2024, 5, 17, 9, 30, 5)


def test_same_registers_other_word_order_is_a_different_number():
    swapped = list(HUAXIN_BLOCK)
    swapped[3], swapped[4] = swapped[4], swapped[3]  # big-endian words read as CDAB
    assert decode_block(load_builtin("huaxin-cg8"), swapped)["ratio"] != 0.42


def test_identity_strings_both_byte_orders():
    gr = load_builtin("gr100")
    regs = [0] * gr.identity.count
    regs[16:19] = [0x4752, 0x3130, 0x3000]  # "GR100"
    assert decode_identity(gr, regs)["serial"] == "GR100"
    hx = load_builtin("huaxin-cg8")
    regs = [0] * hx.identity.count
    regs[0:2] = [0x4743, 0x382D]  # "CG-8" byte-swapped
    assert decode_identity(hx, regs)["model"] == "CG-8"


def test_wrong_register_count_is_a_clear_error():
    with pytest.raises(RegisterDataError, match="has 34 registers; got 33"):
        decode_block(load_builtin("gr100"), GR100_BLOCK[:-1])


def test_raw_bytes_are_big_endian_registers():
    data = registers_to_bytes(GR100_BLOCK)
    assert data[:4] == b"\x00\x01\x23\x45" and len(data) == 68
    assert registers_from_bytes(data) == GR100_BLOCK


@pytest.mark.parametrize(
    ("ratio", "c", "cutoff", "expected"),
    [
        (0.42, 513.0, 0.5, "positive"),
        (0.5, 513.0, 0.5, "positive"),  # equal to the cutoff counts as positive
        (0.5000001, 513.0, 0.5, "negative"),
        (1.3, 513.0, 0.5, "negative"),
        (0.2, 99.9, 0.5, "invalid"),  # weak control line
        (1.3, 100.0, 0.5, "negative"),  # c == c_min is still valid
        (None, 513.0, 0.5, "invalid"),
        (0.4, 513.0, None, "invalid"),
        (0.4, float("nan"), 0.5, "invalid"),
    ],
)
def test_verdict_rule(ratio, c, cutoff, expected):
    assert verdict(load_builtin("gr100").verdict, ratio=ratio, c=c, cutoff=cutoff) == expected


def test_weak_control_and_unknown_code_are_flagged():
    regs = list(GR100_BLOCK)
    regs[2] = 99  # analyte code not in the table
    regs[6:8] = [0x4248, 0x0000]  # C = 50.0 < c_min 100
    reading = interpret(load_builtin("gr100"), decode_block(load_builtin("gr100"), regs))
    assert reading.verdict == "invalid"
    assert set(reading.flags) == {"unknown_analyte_code:99", "weak_control_line"}


def _value_strategy(layout):
    if layout.type == "string":
        alphabet = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
        return st.text(alphabet, max_size=2 * layout.words)
    if layout.type == "float32":
        return st.floats(width=32, allow_nan=False, allow_infinity=False)
    bits = 16 if layout.type.endswith("16") else 32
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if layout.type.startswith("int") else (0, 2**bits - 1)
    return st.integers(low, high).map(lambda raw: raw * layout.scale + layout.offset)


def _same(layout, sent, got):
    if layout.type == "string":
        return got == sent
    if layout.type == "float32":
        return struct.pack(">f", got) == struct.pack(">f", sent)
    return round((got - layout.offset) / layout.scale) == round((sent - layout.offset) / layout.scale)


@pytest.mark.parametrize("name", ["gr100", "huaxin-cg8"])
def test_round_trip_simulator_encoder_to_decoder(name):
    sim_profile, profile = sim_load(name), load_builtin(name)
    fields = sim_profile.result.fields
    values = st.fixed_dictionaries({n: _value_strategy(layout) for n, layout in fields.items()})

    @settings(max_examples=60, deadline=None)
    @given(values)
    def round_trip(sent):
        got = decode_block(profile, sim_encoder.encode_block(sim_profile.result, sent))
        assert set(got) == set(sent)
        for n, layout in fields.items():
            assert _same(layout, sent[n], got[n]), (n, sent[n], got[n])

    round_trip()
