"""LineDecoder: golden lines, every split boundary, each error kind followed by a good line."""

from __future__ import annotations

from datetime import datetime

import pytest

from protocols.line_profile import (
    NEED_DATA,
    LineDecoder,
    LineDecoderUsageError,
    LineError,
    LineEvent,
    LineReading,
    checksum_value,
    interpret,
    load_builtin,
    parse_profile,
    verdict,
)

from .line_support import GX4400_TEXT

NY10 = load_builtin("ny10-line")
GX4400 = parse_profile(GX4400_TEXT, "gx4400.toml")
GOLDEN = b"NY10,SN2026777,2026-11-23 09:15:04,CH1,S0042,62.5,50,POS*01\r\n"
GOLDEN_FIELDS = {"serial": "SN2026777", "tested_at": datetime(2026, 11, 23, 9, 15, 4), "channel": 1,
                 "sample": "S0042", "inhibition": 62.5, "cutoff": 50.0, "flag": "POS"}


def ny10(body: str) -> bytes:
    """A NY-10 line with its correct xor8 checksum."""
    return f"{body}*{checksum_value('xor8', body.encode())}\r\n".encode()


def events(profile, *chunks: bytes, close: bool = True) -> list[LineEvent]:
    decoder = LineDecoder(profile)
    for chunk in chunks:
        decoder.receive_data(chunk)
    if close:
        decoder.receive_data(b"")
    out = []
    while (event := decoder.next_event()) is not NEED_DATA:
        out.append(event)
    return out


def test_golden_ny10_line():
    assert checksum_value("xor8", GOLDEN[: GOLDEN.index(b"*")]) == "01"
    [reading] = events(NY10, GOLDEN)
    assert reading == LineReading(GOLDEN_FIELDS, 0, GOLDEN)
    result = interpret(NY10, reading)
    assert (result.value, result.unit, result.cutoff, result.verdict) == (62.5, "%", 50.0, "positive")
    assert (result.serial, result.channel, result.sample_code, result.instrument_verdict) == (
        "SN2026777", 1, "S0042", "POS")


def test_golden_second_vendor_line_sum8_over_group_span():
    body = "3;G00007;0.412;1.25;20261123091504;GX4400A1;+"
    line = f"#{body}|{checksum_value('sum8', body.encode())}\n".encode()
    assert checksum_value("sum8", body.encode()) == f"{sum(body.encode()) % 256:02X}"
    [reading] = events(GX4400, line)
    assert reading.fields["ratio"] == 0.412 and reading.fields["tested_at"] == datetime(2026, 11, 23, 9, 15, 4)
    assert interpret(GX4400, reading).verdict == "positive"
    low_c = line.replace(b";1.25;", b";0.25;")
    low_c = low_c[:-3] + checksum_value("sum8", low_c[1:-4]).encode() + b"\n"
    assert interpret(GX4400, events(GX4400, low_c)[0]).verdict == "invalid"


def test_every_split_boundary_gives_the_same_events():
    stream = GOLDEN + b"\xff\xfejunk\r\n" + ny10("NY10,SN2026777,2026-11-23 09:16:00,CH1,S0043,12.0,50,NEG")
    whole = events(NY10, stream)
    assert [type(e).__name__ for e in whole] == ["LineReading", "LineError", "LineReading"]
    for cut in range(1, len(stream)):
        assert events(NY10, stream[:cut], stream[cut:]) == whole, cut
    assert events(NY10, *[bytes([b]) for b in stream]) == whole


GOOD = ny10("NY10,SN2026777,2026-11-23 09:20:00,CH1,S0100,70.0,50,POS")
BAD_LINES = {
    "bad_checksum": GOLDEN.replace(b"*01", b"*02"),
    "no_match": b"HELLO FROM THE PRINTER\r\n",
    "too_long": b"NY10," + b"9" * 300 + b"\r\n",
    "bad_field": ny10("NY10,SN2026777,2026-13-45 09:15:04,CH1,S0042,62.5,50,POS"),
}


@pytest.mark.parametrize("kind", sorted(BAD_LINES))
def test_each_error_kind_then_the_next_good_line(kind):
    bad = BAD_LINES[kind]
    out = events(NY10, GOLDEN + bad + GOOD)
    assert [type(e).__name__ for e in out] == ["LineReading", "LineError", "LineReading"]
    error = out[1]
    assert isinstance(error, LineError) and error.kind == kind and error.offset == len(GOLDEN)
    assert error.detail
    assert out[2] == LineReading(out[2].fields, len(GOLDEN) + len(bad), GOOD)


@pytest.mark.parametrize("prefix", [b"\x81\xfe\x90", GOLDEN[:23]], ids=["noise", "truncated_line"])
def test_junk_glued_in_front_of_a_good_line_loses_nothing(prefix):
    error, reading = events(NY10, GOLDEN + prefix + GOOD)[1:]
    assert isinstance(error, LineError) and error.kind == "no_match"
    assert (error.offset, error.data) == (len(GOLDEN), prefix)
    assert reading == LineReading(reading.fields, len(GOLDEN) + len(prefix), GOOD)
    assert reading.fields["sample"] == "S0100"


def test_full_length_line_is_accepted_and_one_byte_more_is_too_long():
    limit = GX4400.line.max_length
    fitting = events(GX4400, b"x" * limit + b"\n")
    assert [e.kind for e in fitting] == ["no_match"]  # type: ignore[union-attr]
    over = events(GX4400, b"x" * (limit + 1) + b"\n" + b"y\n")
    assert [(e.kind, e.offset) for e in over] == [("too_long", 0), ("no_match", limit + 2)]  # type: ignore[union-attr]


def test_end_of_stream_inside_a_line_and_use_after_close():
    decoder = LineDecoder(NY10)
    decoder.receive_data(GOLDEN[:30])
    decoder.receive_data(b"")
    error = decoder.next_event()
    assert isinstance(error, LineError) and (error.kind, error.offset, error.data) == ("no_match", 0, GOLDEN[:30])
    with pytest.raises(LineDecoderUsageError):
        decoder.receive_data(b"x")
    assert events(NY10, GOLDEN[:30], close=False) == []


@pytest.mark.parametrize(("kind", "value", "cutoff", "expected"), [
    ("threshold_at_least", 50.0, 50.0, "positive"), ("threshold_at_least", 49.9, 50.0, "negative"),
    ("ratio_at_most", 0.8, 0.8, "positive"), ("ratio_at_most", 0.81, 0.8, "negative"),
    ("above_limit", 0.05, 0.05, "negative"), ("above_limit", 0.051, 0.05, "positive"),
    ("above_limit", None, 0.05, "invalid"), ("ratio_at_most", 0.5, float("nan"), "invalid"),
])
def test_verdict_rules(kind, value, cutoff, expected):
    assert verdict(kind, value, cutoff) == expected


def test_invalid_rule_wins():
    assert verdict("ratio_at_most", 0.1, 0.8, invalid_value=0.29, invalid_min=0.3) == "invalid"
    assert verdict("ratio_at_most", 0.1, 0.8, invalid_value=0.3, invalid_min=0.3) == "positive"
