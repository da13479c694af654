"""The receiver's per-message caps: an oversized message is refused with NAKs and never delivered."""

import pytest
from astm_support import SAMPLE_RECORDS, drain, transfer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocols.astm import (
    MAX_MESSAGE_BYTES,
    MAX_RECORDS,
    AstmLinkReceiver,
    AstmLinkSender,
    EstablishmentRequested,
    FrameAccepted,
    FrameRejected,
    MessageComplete,
    MessageTooLarge,
    ReceiverState,
    TimeoutExpired,
    TransferComplete,
    TransferTerminated,
    build_frame,
    frame_records,
)
from protocols.need_data import NEED_DATA

ACK, NAK, ENQ, EOT = b"\x06", b"\x15", b"\x05", b"\x04"
FRAMES = frame_records(SAMPLE_RECORDS)
SAMPLE_BYTES = sum(len(f) for f in FRAMES)
SAMPLE_TEXT = b"".join(r + b"\r" for r in SAMPLE_RECORDS)


def _feed(receiver: AstmLinkReceiver, data: bytes) -> tuple[list[object], bytes]:
    """Feed ``data`` in one piece; return the events and the bytes the receiver answered."""
    receiver.receive_data(data)
    events = drain(receiver)
    return events, receiver.data_to_send()


def _messages(events: list[object]) -> list[bytes]:
    return [e.text for e in events if isinstance(e, MessageComplete)]


def test_defaults_are_one_mebibyte_and_ten_thousand_records():
    receiver = AstmLinkReceiver()
    assert (receiver.max_message_bytes, receiver.max_records) == (MAX_MESSAGE_BYTES, MAX_RECORDS)
    assert (MAX_MESSAGE_BYTES, MAX_RECORDS) == (1_048_576, 10_000)


@pytest.mark.parametrize("kwargs", [{"max_message_bytes": 0}, {"max_records": -1}, {"max_records": True},
                                    {"max_message_bytes": 1.5}])
def test_a_cap_that_is_not_a_positive_integer_is_refused_by_name(kwargs):
    [name] = kwargs
    with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
        AstmLinkReceiver(**kwargs)


def test_message_exactly_at_both_caps_is_delivered():
    receiver = AstmLinkReceiver(max_message_bytes=SAMPLE_BYTES, max_records=len(SAMPLE_RECORDS))
    events, sent = _feed(receiver, transfer())
    assert _messages(events) == [SAMPLE_TEXT]
    assert sent == ACK * (len(FRAMES) + 1)


def test_one_byte_over_the_cap_is_refused_at_the_last_frame_then_the_retry_of_a_good_message_passes():
    receiver = AstmLinkReceiver(max_message_bytes=SAMPLE_BYTES - 1)
    events, sent = _feed(receiver, ENQ + b"".join(FRAMES))
    too_large = MessageTooLarge("max_message_bytes", SAMPLE_BYTES - 1, SAMPLE_BYTES, len(FRAMES), len(FRAMES) % 8)
    assert events[-1] == too_large
    assert _messages(events) == []
    assert sent == ACK * len(FRAMES) + NAK  # ENQ and frames 1..5 ACKed, the L frame NAKed
    assert receiver.state is ReceiverState.DISCARDING and receiver.waiting_for == "frame"
    assert receiver.pending_bytes == 0
    assert "max_message_bytes=" + str(SAMPLE_BYTES - 1) in too_large.describe()
    assert f"frame {len(FRAMES)}, FN {len(FRAMES) % 8}" in too_large.describe()

    resends, sent = _feed(receiver, FRAMES[-1] * 6 + EOT)  # the sender's 6 retries, then it gives up
    assert resends == [FrameRejected("message_too_large", 0, FRAMES[-1])] * 6 + [TransferTerminated("eot", b"")]
    assert sent == NAK * 6
    assert receiver.state is ReceiverState.NEUTRAL

    small = [b"H|\\^&", b"L|1|N"]
    events, sent = _feed(receiver, transfer(small))
    assert _messages(events) == [b"H|\\^&\rL|1|N\r"]
    assert sent == ACK * 3


def test_record_cap_is_checked_at_the_etx_frame_that_ends_the_record():
    receiver = AstmLinkReceiver(max_records=len(SAMPLE_RECORDS) - 1)
    events, sent = _feed(receiver, transfer())
    [too_large] = [e for e in events if isinstance(e, MessageTooLarge)]
    assert too_large == MessageTooLarge("max_records", len(SAMPLE_RECORDS) - 1, len(SAMPLE_RECORDS),
                                        len(FRAMES), len(FRAMES) % 8)
    assert "max_records=5 (6 records" in too_large.describe()
    assert _messages(events) == []
    assert sent == ACK * len(FRAMES) + NAK
    assert events[-1] == TransferTerminated("eot", b"")


def test_endless_etb_frames_stay_bounded_and_every_frame_after_the_cap_is_naked():
    cap = 2_000
    receiver = AstmLinkReceiver(max_message_bytes=cap)
    _feed(receiver, ENQ + build_frame(1, b"H|\\^&\r", final=True))
    frames = [build_frame(fn, b"C|1|I|" + b"x" * 234, final=False) for fn in range(2, 200)]
    replies = b""
    events: list[object] = []
    for frame in frames:  # a hostile sender that ignores the NAKs and keeps numbering on
        more, sent = _feed(receiver, frame)
        events += more
        replies += sent
        assert receiver.pending_bytes <= cap
    [too_large] = [e for e in events if isinstance(e, MessageTooLarge)]
    accepted = sum(isinstance(e, FrameAccepted) for e in events)
    assert too_large.frame == accepted + 2  # H frame, the accepted ETB frames, then this one
    assert too_large.size > cap >= too_large.size - len(frames[0])
    assert replies == ACK * accepted + NAK * (len(frames) - accepted)
    receiver.timeout()
    assert drain(receiver) == [TimeoutExpired("frame"), TransferTerminated("timeout", b"")]
    assert receiver.state is ReceiverState.NEUTRAL


def test_empty_intermediate_frames_count_against_the_byte_cap():
    receiver = AstmLinkReceiver(max_message_bytes=70)
    events, sent = _feed(receiver, ENQ + b"".join(build_frame(fn, b"", final=False) for fn in range(1, 12)))
    [too_large] = [e for e in events if isinstance(e, MessageTooLarge)]
    assert (too_large.limit, too_large.size, too_large.frame) == ("max_message_bytes", 77, 11)
    assert sent == ACK * 11 + NAK


def test_enq_while_discarding_starts_a_new_transfer_that_is_received_normally():
    receiver = AstmLinkReceiver(max_records=2)
    events, _ = _feed(receiver, transfer())
    assert any(isinstance(e, MessageTooLarge) for e in events)
    assert receiver.state is ReceiverState.NEUTRAL
    _feed(receiver, ENQ + b"".join(FRAMES[:3]))  # H, P, O: the third record is one too many
    assert receiver.state is ReceiverState.DISCARDING
    events, sent = _feed(receiver, ENQ + b"".join(frame_records([b"H|\\^&", b"L|1|N"])))
    assert events[:2] == [TransferTerminated("restart", b""), EstablishmentRequested()]
    assert _messages(events) == [b"H|\\^&\rL|1|N\r"]
    assert sent == ACK * 3


def test_caps_count_each_message_of_a_transfer_on_its_own():
    receiver = AstmLinkReceiver(max_message_bytes=SAMPLE_BYTES, max_records=len(SAMPLE_RECORDS))
    events, _ = _feed(receiver, transfer(SAMPLE_RECORDS * 2))  # two messages, frames 1..12 (mod 8)
    assert _messages(events) == [SAMPLE_TEXT, SAMPLE_TEXT]
    assert not any(isinstance(e, MessageTooLarge) for e in events)


def _exchange(sender: AstmLinkSender, receiver: AstmLinkReceiver) -> tuple[list[object], list[object]]:
    """Run both sans-I/O machines against each other until the line is quiet; all events of each."""
    sent_events: list[object] = []
    received: list[object] = []
    while out := sender.data_to_send():
        receiver.receive_data(out)
        received += drain(receiver)
        assert receiver.pending_bytes <= receiver.max_message_bytes
        sender.receive_data(receiver.data_to_send())
        while (event := sender.next_event()) is not NEED_DATA:
            sent_events.append(event)
    return sent_events, received


records_strategy = st.lists(st.binary(max_size=700).map(lambda b: b"C|" + bytes(0x20 + x % 0x5F for x in b)),
                            max_size=12)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(middle=records_strategy, max_bytes=st.integers(64, 6_000), max_records=st.integers(2, 16))
def test_a_message_is_delivered_whole_exactly_when_it_fits_and_the_next_one_always_is(middle, max_bytes,
                                                                                        max_records):
    records = [b"H|\\^&", *middle, b"L|1|N"]
    size = sum(len(f) for f in frame_records(records))
    exceeded = {name for name, over in (("max_message_bytes", size > max_bytes),
                                        ("max_records", len(records) > max_records)) if over}
    receiver = AstmLinkReceiver(max_message_bytes=max_bytes, max_records=max_records)
    sender = AstmLinkSender()
    sender.send_message(records)
    sender_events, events = _exchange(sender, receiver)
    too_large = [e for e in events if isinstance(e, MessageTooLarge)]
    if not exceeded:
        assert _messages(events) == [b"".join(r + b"\r" for r in records)] and too_large == []
        assert sender_events[-1] == TransferComplete()
    else:
        assert _messages(events) == [] and len(too_large) == 1
        assert too_large[0].limit in exceeded and too_large[0].size > too_large[0].maximum
        assert sender_events[-1] == TransferTerminated("retries_exhausted")
    assert receiver.state is ReceiverState.NEUTRAL
    sender.send_message([b"H|\\^&", b"L|1|N"])  # 2 records, 26 bytes: fits any cap drawn here
    _, events = _exchange(sender, receiver)
    assert _messages(events) == [b"H|\\^&\rL|1|N\r"]
