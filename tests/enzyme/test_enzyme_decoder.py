"""EnzymeDecoder: golden vectors, split invariance, each fault's error event and recovery, fuzz."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols.enzyme import (
    MAX_FRAME_BYTES,
    NEED_DATA,
    ChannelMeasured,
    ControlMeasured,
    EnzymeDecoder,
    EnzymeUsageError,
    FrameError,
    RunEnded,
)

GOOD_CONTROL = b"$C,0.4120,180*63\r\n"
GOOD_CHANNEL = b"$R,3,0.4120,0.1545,62.5,POS*1C\r\n"
GOOD_END = b"$E,1042,4*76\r\n"


def decode(*chunks: bytes, eof: bool = True) -> list[Any]:
    decoder = EnzymeDecoder()
    events = []
    for chunk in filter(None, chunks):  # b"" would mean end of stream
        decoder.receive_data(chunk)
        while (event := decoder.next_event()) is not NEED_DATA:
            events.append(event)
    if eof:
        decoder.receive_data(b"")
        while (event := decoder.next_event()) is not NEED_DATA:
            events.append(event)
    return events


def test_golden_vectors_decode_to_the_pinned_events(golden, as_golden):
    for vector in golden:
        events = decode(vector["stream"])
        assert [as_golden(e) for e in events] == vector["events"], vector["file"]
        for event in events:
            raw = event.data if isinstance(event, FrameError) else event.raw
            assert vector["stream"][event.offset : event.offset + len(raw)] == raw


def test_every_split_point_gives_the_same_events(golden):
    for vector in golden:
        stream = vector["stream"]
        whole = decode(stream)
        for cut in range(1, len(stream)):
            assert decode(stream[:cut], stream[cut:]) == whole, (vector["file"], cut)


def test_byte_at_a_time_gives_the_same_events(golden):
    for vector in golden:
        stream = vector["stream"]
        assert decode(*(stream[i : i + 1] for i in range(len(stream)))) == decode(stream)


def test_contract_frame_decodes_to_its_channel_values():
    [event] = decode(GOOD_CHANNEL)
    assert isinstance(event, ChannelMeasured)
    assert (event.channel, str(event.control_delta_a), str(event.sample_delta_a)) == (3, "0.4120", "0.1545")
    assert (str(event.inhibition), event.verdict, event.sample_code) == ("62.5", "POS", None)


def test_bad_checksum_names_offset_and_the_next_frame_survives():
    bad = GOOD_CHANNEL.replace(b"*1C", b"*1D")
    events = decode(GOOD_CONTROL, bad, GOOD_END)
    assert isinstance(events[0], ControlMeasured)
    error = events[1]
    assert isinstance(error, FrameError) and error.kind == "bad_checksum"
    assert error.offset == len(GOOD_CONTROL) and error.data == bad
    assert "computed 1C" in error.detail and "1D" in error.detail
    assert isinstance(events[2], RunEnded) and events[2].offset == len(GOOD_CONTROL) + len(bad)


def test_missing_checksum_trailer_is_a_checksum_error():
    [error] = decode(b"$E,1042,4\r\n")
    assert (error.kind, error.offset) == ("bad_checksum", 0)


def test_truncated_frame_is_reported_when_the_next_dollar_arrives():
    cut = GOOD_CHANNEL[:17]
    events = decode(GOOD_CONTROL, cut, GOOD_END)
    error = events[1]
    assert (error.kind, error.offset, error.data) == ("truncated", len(GOOD_CONTROL), cut)
    assert isinstance(events[2], RunEnded) and events[2].offset == len(GOOD_CONTROL) + len(cut)


def test_truncated_frame_at_end_of_stream_is_reported_only_at_eof():
    assert decode(GOOD_END, GOOD_CHANNEL[:10], eof=False) == decode(GOOD_END)
    error = decode(GOOD_END, GOOD_CHANNEL[:10])[-1]
    assert (error.kind, error.offset) == ("truncated", len(GOOD_END))
    assert "end of stream" in error.detail


def test_garbage_between_frames_is_one_event_at_its_first_byte():
    noise = b"\x00\xff\r\nNOISE*"
    events = decode(GOOD_CONTROL, noise, GOOD_END)
    error = events[1]
    assert (error.kind, error.offset, error.data) == ("garbage", len(GOOD_CONTROL), noise)
    assert isinstance(events[2], RunEnded) and events[2].offset == len(GOOD_CONTROL) + len(noise)


def test_long_garbage_is_reported_in_bounded_chunks():
    events = decode(b"x" * 200, GOOD_END)
    garbage = [e for e in events if isinstance(e, FrameError)]
    assert [(e.offset, len(e.data)) for e in garbage] == [(0, 82), (82, 82), (164, 36)]
    assert isinstance(events[-1], RunEnded)


def test_too_long_frame_is_cut_at_the_limit_and_the_next_frame_survives():
    long_frame = b"$R," + b"9" * 120 + b"*00\r\n"
    events = decode(GOOD_END, long_frame, GOOD_CONTROL)
    error = events[1]
    assert (error.kind, error.offset, len(error.data)) == ("too_long", len(GOOD_END), MAX_FRAME_BYTES)
    assert isinstance(events[2], ControlMeasured)
    assert len(events) == 3  # the dropped tail is not reported twice as garbage


def with_checksum(body: bytes) -> bytes:
    checksum = 0
    for byte in body:
        checksum ^= byte
    return b"$" + body + b"*" + f"{checksum:02X}".encode() + b"\r\n"


def test_longest_legal_header_fits_the_limit():
    frame = with_checksum(b"H,ABCDEFGHIJKL,ABCDEFGHIJKL,12345678,999999,2026-11-23 09:15:04,ABCDEFGH,12")
    assert len(frame) == 81
    [event] = decode(frame)
    assert type(event).__name__ == "RunStarted" and event.model == "ABCDEFGHIJKL"


def test_framing_limit_is_82_bytes_including_crlf():
    at_limit = with_checksum(b"Q," + b"9" * 74)
    over_limit = with_checksum(b"Q," + b"9" * 75)
    assert (len(at_limit), len(over_limit)) == (82, 83)
    assert [e.kind for e in decode(at_limit)] == ["bad_field"]  # framed fine, then parsed
    assert [e.kind for e in decode(over_limit)] == ["too_long"]


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ("X,1,2", "unknown frame type 'X'"),
        ("E,1042", "has 1 fields, expected 2"),
        ("R,3,0.4120,0.1545,62.5,MAYBE", "field 5 (verdict)"),
        ("R,13,0.4120,0.1545,62.5,POS", "field 1 (channel)"),
        ("H,EI-412,A1,2.3.1,7,2026-02-30 09:15:04,,4", "field 5 (measured_at)"),
        ("C,0.412,180", "field 1 (delta_a)"),
        ("E,0,4", "field 1 (run)"),
        ("E,1042,2,X", "field 3 (resend)"),
        ("E,1042,2,R,R", "has 4 fields, expected 2..3"),
        ("C,0.4120,180\x7f", "illegal byte 0x7F at stream offset 13"),
    ],
)
def test_bad_field_names_the_field(body, names):
    events = decode(with_checksum(body.encode("latin-1")), GOOD_END)
    assert events[0].kind == "bad_field" and names in events[0].detail
    assert isinstance(events[1], RunEnded)


def test_offsets_are_absolute_across_many_chunks():
    decoder = EnzymeDecoder()
    for _ in range(3):
        decoder.receive_data(GOOD_END)
    decoder.receive_data(GOOD_END.replace(b"*76", b"*77"))
    events = []
    while (event := decoder.next_event()) is not NEED_DATA:
        events.append(event)
    assert [e.offset for e in events] == [0, 14, 28, 42] and events[-1].kind == "bad_checksum"
    assert decoder.bytes_received == 56


def test_data_after_end_of_stream_is_a_usage_error():
    decoder = EnzymeDecoder()
    decoder.receive_data(b"")
    with pytest.raises(EnzymeUsageError):
        decoder.receive_data(GOOD_END)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=120), max_size=8))
def test_arbitrary_bytes_never_raise_and_account_for_every_byte(chunks):
    events = decode(*chunks)
    stream = b"".join(chunks)
    for event in events:
        raw = event.data if isinstance(event, FrameError) else event.raw
        assert stream[event.offset : event.offset + len(raw)] == raw


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_a_good_frame_after_any_noise_is_still_decoded(noise):
    events = decode(noise, GOOD_CONTROL)
    assert isinstance(events[-1], ControlMeasured) and events[-1].offset == len(noise)


def test_every_byte_value_in_a_body_is_judged_as_the_layout_says() -> None:
    """Printable ASCII but ``$`` and ``*`` may stand in a frame's body; any other byte is named, with its offset."""
    from protocols.enzyme._parse import parse_frame

    for byte in range(256):
        body = b"H,EI-412,SN1," + bytes([byte])
        check = 0
        for value in body:
            check ^= value
        event = parse_frame(b"$" + body + b"*%02X\r\n" % check, 100)
        illegal = not 0x20 <= byte <= 0x7E or byte in b"$*"
        named = f"illegal byte 0x{byte:02X} at stream offset {100 + len(body)}"
        assert (getattr(event, "detail", None) == named) is illegal, (byte, event)
