"""Host frames of ack mode (doc §10.1): our encoder and the simulator's own parser on golden vectors."""

from __future__ import annotations

import pytest

from firmware_sim.enzyme import HostAck, HostFrameReader, HostFrameRejected, HostQuery, parse_host_frame
from protocols.enzyme import EnzymeUsageError, ack_frame, query_frame

from .enzyme_support import HOST_FRAMES as FRAMES
from .enzyme_support import HOST_REJECTED as REJECTED


def expected(vector: dict) -> HostAck | HostQuery:
    return HostAck(vector["run"], vector["channel"]) if vector["kind"] == "ack" else HostQuery()


@pytest.mark.parametrize(("vector", "frame"), FRAMES, ids=[v["bytes"].strip() for v, _ in FRAMES])
def test_encoder_reproduces_each_golden_frame(vector, frame):
    built = ack_frame(vector["run"], vector["channel"]) if vector["kind"] == "ack" else query_frame()
    assert built == frame


@pytest.mark.parametrize(("vector", "frame"), FRAMES, ids=[v["bytes"].strip() for v, _ in FRAMES])
def test_simulator_parses_each_golden_frame(vector, frame):
    assert parse_host_frame(frame) == expected(vector)


@pytest.mark.parametrize(("why", "frame"), REJECTED, ids=[why for why, _ in REJECTED])
def test_simulator_rejects_each_bad_host_frame_with_a_reason(why, frame):
    result = parse_host_frame(frame)
    assert isinstance(result, HostFrameRejected) and result.reason and result.data == frame


@pytest.mark.parametrize(
    ("run", "channel"), [(0, 1), (1_000_000, 1), (1, 0), (1, 13), (True, 1), ("7", 1), (7, 1.0)]
)
def test_encoder_refuses_values_the_frame_cannot_carry(run, channel):
    with pytest.raises(EnzymeUsageError):
        ack_frame(run, channel)


def test_reader_gives_the_same_items_for_every_split_point():
    stream = b"".join(frame for _, frame in FRAMES) + b"".join(frame for _, frame in REJECTED)
    whole = HostFrameReader().feed(stream)
    assert [item for item in whole if not isinstance(item, HostFrameRejected)] == [expected(v) for v, _ in FRAMES]
    assert len(whole) == len(FRAMES) + len(REJECTED)
    for cut in range(1, len(stream)):
        reader = HostFrameReader()
        assert reader.feed(stream[:cut]) + reader.feed(stream[cut:]) == whole, cut


def test_reader_resynchronises_after_noise_cut_frames_and_over_long_frames():
    ack = ack_frame(1042, 3)
    reader = HostFrameReader()
    items = reader.feed(b"\x00\xffnoise" + ack[:6] + query_frame() + b"$K," + b"9" * 100 + b"\r\n" + ack)
    assert [type(i).__name__ for i in items] == [
        "HostFrameRejected", "HostQuery", "HostFrameRejected", "HostAck", "HostFrameRejected"
    ]
    assert "cut short" in items[0].reason and items[0].data == ack[:6]
    assert "no CRLF within 82" in items[2].reason
    assert items[3] == HostAck(1042, 3)
    assert items[4].reason == "7 byte(s) outside any frame"  # noise is summarised once per chunk
