"""RunAssembler: per-channel readings with exact raw bytes, sequence errors, replay from raw."""

from __future__ import annotations

import pytest

from protocols.enzyme import (
    NEED_DATA,
    ChannelReading,
    EnzymeDecoder,
    ReplayError,
    RunAssembler,
    RunError,
    judge_reading,
    reading_from_raw,
)


def assemble(stream: bytes) -> list:
    decoder, assembler = EnzymeDecoder(), RunAssembler()
    decoder.receive_data(stream)
    decoder.receive_data(b"")
    out = []
    while (event := decoder.next_event()) is not NEED_DATA:
        out += assembler.add(event)
    return out


def frames(vector: dict) -> list[bytes]:
    stream = vector["stream"]
    return [stream[e["offset"] : e["offset"] + e["length"]] for e in vector["events"]]


@pytest.fixture
def run_1042(golden):
    return golden[0]


def test_each_channel_reading_holds_header_control_and_its_frame(run_1042):
    header, control, *channels, end = frames(run_1042)
    readings = assemble(run_1042["stream"])
    assert all(isinstance(r, ChannelReading) for r in readings)
    assert [r.raw for r in readings] == [header + control + frame for frame in channels]
    assert [r.source_key for r in readings] == [f"EI412A0157:1042:{n}" for n in (1, 2, 3, 4)]


def test_golden_judgements(golden):
    for vector in [v for v in golden if "judgements" in v]:
        got = []
        for reading in assemble(vector["stream"]):
            j = judge_reading(reading)
            channel = reading.measurement.channel
            value = str(j.inhibition)
            got.append({"channel": channel, "inhibition": value, "verdict": j.verdict, "flags": list(j.flags)})
        assert got == vector["judgements"], vector["file"]


def test_verdict_recomputes_from_raw_alone(run_1042):
    for reading in assemble(run_1042["stream"]):
        replayed = reading_from_raw(reading.raw)
        assert replayed.raw == reading.raw
        assert judge_reading(replayed) == judge_reading(reading)


def test_replay_refuses_anything_but_one_clean_reading(run_1042):
    header, control, first, second, *_ = frames(run_1042)
    for raw in (header + control, header + control + first + second, control + first):
        with pytest.raises(ReplayError):
            reading_from_raw(raw)
    with pytest.raises(ReplayError, match="bad_checksum at byte 0"):
        reading_from_raw(header.replace(b"*75", b"*00") + control + first)


def test_lost_header_reports_orphans_and_the_next_run_is_whole(run_1042):
    header, control, *channels, end = frames(run_1042)
    stream = control + channels[0] + end + run_1042["stream"]
    out = assemble(stream)
    assert [o.kind for o in out if isinstance(o, RunError)] == ["no_header", "no_header", "no_header"]
    assert [r.measurement.channel for r in out if isinstance(r, ChannelReading)] == [1, 2, 3, 4]


def test_lost_control_frame_loses_only_that_run(run_1042):
    header, control, *channels, end = frames(run_1042)
    out = assemble(header + b"".join(channels) + end + run_1042["stream"])
    errors = [o for o in out if isinstance(o, RunError)]
    assert [e.kind for e in errors] == ["no_control"] * 5
    assert errors[0].offset == len(header)
    assert len([r for r in out if isinstance(r, ChannelReading)]) == 4


def test_missing_end_frame_loses_no_reading_and_names_missing_channels(run_1042):
    header, control, *channels, end = frames(run_1042)
    out = assemble(header + control + channels[0] + channels[2] + run_1042["stream"])
    [error] = [o for o in out if isinstance(o, RunError)]
    assert error.kind == "run_incomplete" and "[2, 4]" in error.detail and error.offset == 0
    assert len([r for r in out if isinstance(r, ChannelReading)]) == 6


def test_duplicate_and_out_of_range_channels_are_reported(golden):
    run_1043 = golden[1]
    header, control, first, second, end = frames(run_1043)
    extra = b"$R,3,0.2140,0.0811,---,---*42\r\n"
    out = assemble(header + control + first + first + extra + second + end)
    kinds = [o.kind for o in out if isinstance(o, RunError)]
    assert kinds == ["duplicate_channel", "channel_out_of_range"]
    assert [r.measurement.channel for r in out if isinstance(r, ChannelReading)] == [1, 2]


def test_end_frame_disagreeing_with_header_is_reported(run_1042):
    header, control, *channels, end = frames(run_1042)
    wrong_end = b"$E,1041,4*75\r\n"
    out = assemble(header + control + b"".join(channels) + wrong_end)
    assert [o.kind for o in out if isinstance(o, RunError)] == ["end_mismatch"]


def test_channel_quoting_another_control_value_is_flagged(run_1042):
    header, control, *_ = frames(run_1042)
    odd = b"$R,1,0.4000,0.3987,3.2,NEG*"
    checksum = 0
    for byte in odd[1:-1]:
        checksum ^= byte
    [reading] = assemble(header + control + odd + f"{checksum:02X}".encode() + b"\r\n")
    assert judge_reading(reading).flags == ("control_delta_a_mismatch",)


@pytest.fixture
def resend(golden):
    [vector] = [v for v in golden if v["file"] == "run-1042-resend.bin"]
    return vector


def test_a_resend_yields_its_channels_with_the_original_raw_bytes(run_1042, resend):
    readings = assemble(resend["stream"])
    assert all(isinstance(r, ChannelReading) for r in readings)
    original = {r.source_key: r.raw for r in assemble(run_1042["stream"])}
    assert [r.source_key for r in readings] == ["EI412A0157:1042:2", "EI412A0157:1042:4"]
    assert [r.raw for r in readings] == [original[r.source_key] for r in readings]


def test_a_resend_missing_one_of_its_channel_frames_is_incomplete(resend):
    header, control, second, fourth, end = frames(resend)
    out = assemble(header + control + second + end)
    [error] = [o for o in out if isinstance(o, RunError)]
    assert error.kind == "run_incomplete" and "1 of 2" in error.detail
    assert [r.measurement.channel for r in out if isinstance(r, ChannelReading)] == [2]


def test_a_resend_claiming_more_channels_than_the_header_is_an_end_mismatch(resend):
    header, control, second, fourth, _ = frames(resend)
    body = b"E,1042,5,R"
    checksum = 0
    for byte in body:
        checksum ^= byte
    end = b"$" + body + b"*" + f"{checksum:02X}".encode() + b"\r\n"
    out = assemble(header + control + second + fourth + end)
    assert [o.kind for o in out if isinstance(o, RunError)] == ["end_mismatch", "run_incomplete"]
