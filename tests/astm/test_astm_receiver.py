"""The E1381 receiver fed byte strings: every split, every error path, duplicates, timeouts, ETB."""

import pytest
from astm_support import SAMPLE_RECORDS, drain, feed, transfer

from protocols.astm import (
    AstmLinkReceiver,
    AstmLocalError,
    BytesDiscarded,
    DuplicateFrame,
    EstablishmentRequested,
    FrameAccepted,
    FrameRejected,
    MessageComplete,
    ReceiverState,
    TimeoutExpired,
    TransferTerminated,
    build_frame,
    frame_records,
)
from protocols.need_data import NEED_DATA

ACK, NAK = b"\x06", b"\x15"
L_FRAME_2 = build_frame(2, b"L|1|N\r", final=True)
H_FRAME_1 = build_frame(1, b"H|\\^&\r", final=True)


def test_whole_transfer_gives_one_message_and_acks_everything():
    events, sent, receiver = feed(transfer())
    kinds = [type(e) for e in events]
    assert kinds == [EstablishmentRequested] + [FrameAccepted] * 6 + [MessageComplete, TransferTerminated]
    message = events[7]
    assert message.text == b"".join(r + b"\r" for r in SAMPLE_RECORDS)
    assert message.raw == b"".join(frame_records(SAMPLE_RECORDS))
    assert events[-1] == TransferTerminated("eot", b"")
    assert sent == ACK * 7
    assert receiver.state is ReceiverState.NEUTRAL


def test_every_split_point_gives_the_same_events_and_replies():
    data = transfer()
    expected = feed(data)[:2]
    for cut in range(1, len(data)):
        assert feed(data, [cut])[:2] == expected, cut


def test_byte_by_byte_gives_the_same_events():
    data = transfer()
    assert feed(data, list(range(1, len(data))))[:2] == feed(data)[:2]


def test_final_ack_waits_for_confirm_and_input_pauses_meanwhile():
    receiver = AstmLinkReceiver()
    receiver.receive_data(b"\x05" + H_FRAME_1 + L_FRAME_2 + b"\x04")
    events = drain(receiver, confirm=False)
    assert isinstance(events[-1], MessageComplete)
    assert receiver.data_to_send() == ACK * 2  # ENQ and H only: the L frame's ACK is held
    assert receiver.state is ReceiverState.AWAITING_CONFIRM
    assert receiver.waiting_for is None
    assert receiver.next_event() is NEED_DATA  # the EOT waits until the message is confirmed
    receiver.confirm_message()
    assert receiver.data_to_send() == ACK
    assert drain(receiver) == [TransferTerminated("eot", b"")]


@pytest.mark.parametrize("ack", [True, False])
def test_confirm_without_message_is_a_local_error(ack):
    with pytest.raises(AstmLocalError, match="confirm is not allowed in state neutral"):
        AstmLinkReceiver().confirm_message(ack=ack)


def _late_confirmed(more: bytes) -> tuple[list[object], bytes, AstmLinkReceiver]:
    """A message stored after the sender's reply timer (no final ACK), then ``more`` bytes."""
    receiver = AstmLinkReceiver()
    receiver.receive_data(b"\x05" + H_FRAME_1 + L_FRAME_2)
    assert isinstance(drain(receiver, confirm=False)[-1], MessageComplete)
    assert receiver.data_to_send() == ACK * 2
    receiver.confirm_message(ack=False)
    assert receiver.data_to_send() == b""
    assert (receiver.state, receiver.waiting_for) == (ReceiverState.RECEIVING, "frame")
    receiver.receive_data(more)
    return drain(receiver), receiver.data_to_send(), receiver


def test_late_confirm_sends_no_ack_and_the_senders_eot_then_resend_give_the_message_again():
    resend = b"\x05" + H_FRAME_1 + L_FRAME_2
    events, sent, receiver = _late_confirmed(b"\x04" + resend + b"\x04")
    assert [type(e) for e in events] == [TransferTerminated, EstablishmentRequested, FrameAccepted,
                                         FrameAccepted, MessageComplete, TransferTerminated]
    assert events[0] == TransferTerminated("eot", b"")  # the sender gave up: nothing was pending
    assert events[4] == MessageComplete(b"H|\\^&\rL|1|N\r", H_FRAME_1 + L_FRAME_2)
    assert sent == ACK * 3  # ENQ, H, L: each reply answers the resend, none is left over
    assert receiver.state is ReceiverState.NEUTRAL


def test_late_confirm_then_enq_without_eot_starts_a_new_transfer():
    events, sent, _ = _late_confirmed(b"\x05" + H_FRAME_1)
    assert events[:2] == [TransferTerminated("restart", b""), EstablishmentRequested()]
    assert sent == ACK * 2


def test_late_confirm_then_a_repeat_of_the_final_frame_is_acked_as_a_duplicate():
    events, sent, _ = _late_confirmed(L_FRAME_2)  # a sender that resends instead of ending: it is stored
    assert events == [DuplicateFrame(2)]
    assert sent == ACK


def test_late_confirm_then_silence_times_out_to_neutral_without_a_reply():
    events, sent, receiver = _late_confirmed(b"")
    assert (events, sent) == ([], b"")
    receiver.timeout()
    assert drain(receiver) == [TimeoutExpired("frame"), TransferTerminated("timeout", b"")]
    assert (receiver.state, receiver.data_to_send()) == (ReceiverState.NEUTRAL, b"")


def _rejected(frame: bytes, after: bytes = b"") -> tuple[list[object], bytes]:
    events, sent, _ = feed(b"\x05" + frame + after)
    return events, sent


def test_bad_checksum_is_naked_with_offset_of_the_checksum():
    bad = H_FRAME_1[:-4] + b"00\r\n"
    events, sent = _rejected(bad)
    assert events[1] == FrameRejected("bad_checksum", len(bad) - 4, bad)
    assert sent == ACK + NAK


def test_wrong_frame_number_is_naked():
    frame = build_frame(3, b"H|\\^&\r", final=True)
    events, sent = _rejected(frame)
    assert events[1] == FrameRejected("wrong_frame_number", 1, frame)
    assert sent == ACK + NAK


def test_frame_number_not_a_digit_0_to_7_is_naked():
    events, sent = _rejected(b"\x029H\x03XX\r\n")
    assert events[1] == FrameRejected("bad_frame_number", 1, b"\x029")
    assert sent == ACK + NAK


def test_frame_too_long_is_naked_at_byte_242_and_the_rest_is_noise():
    long_frame = b"\x021" + b"x" * 300 + b"\x03" + b"00\r\n"
    events, sent = _rejected(long_frame)
    assert events[1] == FrameRejected("frame_too_long", 242, long_frame[:243])
    assert events[2] == BytesDiscarded(long_frame[243:])
    assert sent == ACK + NAK


def test_missing_cr_lf_is_naked():
    frame = H_FRAME_1[:-2] + b"X\n"
    events, sent = _rejected(frame)
    assert events[1] == FrameRejected("missing_crlf", len(frame) - 2, frame[:-1])
    assert sent == ACK + NAK


def test_control_byte_in_text_is_naked_once_and_the_resend_accepted():
    truncated = H_FRAME_1[:5]
    events, sent = _rejected(truncated, H_FRAME_1)  # the STX of H_FRAME_1 is a byte of the bad frame
    assert events[1] == FrameRejected("control_in_text", 5, truncated + b"\x02")
    assert events[2] == BytesDiscarded(H_FRAME_1[1:])
    assert sent == ACK + NAK
    events, sent = _rejected(truncated, H_FRAME_1 + H_FRAME_1)
    assert isinstance(events[-1], FrameAccepted)
    assert sent == ACK + NAK + ACK


def test_bad_frame_then_resend_is_accepted_once():
    bad = H_FRAME_1[:-4] + b"00\r\n"
    events, sent, _ = feed(b"\x05" + bad + H_FRAME_1 + L_FRAME_2)
    assert [type(e) for e in events] == [EstablishmentRequested, FrameRejected, FrameAccepted, FrameAccepted,
                                         MessageComplete]
    assert events[-1].raw == H_FRAME_1 + L_FRAME_2
    assert sent == ACK + NAK + ACK + ACK


def test_duplicate_frame_is_acked_and_not_added_twice():
    events, sent, _ = feed(b"\x05" + H_FRAME_1 + H_FRAME_1 + L_FRAME_2)
    assert events[2] == DuplicateFrame(1)
    message = events[-1]
    assert isinstance(message, MessageComplete)
    assert message.text == b"H|\\^&\rL|1|N\r"
    assert message.raw == H_FRAME_1 + L_FRAME_2
    assert sent == ACK * 4


def test_duplicate_of_the_final_frame_after_confirm_is_not_a_second_message():
    events, sent, _ = feed(b"\x05" + H_FRAME_1 + L_FRAME_2 + L_FRAME_2 + b"\x04")
    assert sum(isinstance(e, MessageComplete) for e in events) == 1
    assert DuplicateFrame(2) in events
    assert sent == ACK * 4


def test_timeout_drops_the_partial_message_and_returns_to_neutral():
    receiver = AstmLinkReceiver()
    receiver.receive_data(b"\x05" + H_FRAME_1 + b"\x022L|1")
    drain(receiver)
    assert receiver.waiting_for == "frame"
    receiver.timeout()
    assert drain(receiver) == [TimeoutExpired("frame"), TransferTerminated("timeout", b"H|\\^&\r")]
    assert receiver.state is ReceiverState.NEUTRAL
    assert receiver.waiting_for is None
    receiver.receive_data(b"N\r\x03XX\r\n")  # the rest of the stalled frame: noise, no reply
    assert drain(receiver) == [BytesDiscarded(b"N\r\x03XX\r\n")]
    assert receiver.data_to_send() == ACK * 2


def test_timeout_in_neutral_is_a_local_error():
    with pytest.raises(AstmLocalError, match="nothing is awaited"):
        AstmLinkReceiver().timeout()


def test_enq_mid_transfer_restarts_with_frame_one():
    events, sent, _ = feed(b"\x05" + H_FRAME_1 + b"\x05" + H_FRAME_1 + L_FRAME_2)
    assert events[2:4] == [TransferTerminated("restart", b"H|\\^&\r"), EstablishmentRequested()]
    assert isinstance(events[-1], MessageComplete)
    assert sent == ACK * 5


def test_noise_outside_frames_is_dropped_without_reply():
    events, sent, _ = feed(b"zz\x06" + b"\x05" + b"\xff~" + H_FRAME_1 + b"!" + L_FRAME_2)
    assert events[0] == BytesDiscarded(b"zz\x06")
    assert events[2] == BytesDiscarded(b"\xff~")
    assert isinstance(events[-1], MessageComplete)
    assert sent == ACK * 3


def test_etb_continuation_of_a_record_longer_than_240_bytes():
    comment = b"C|1|I|" + b"x" * 500 + b"|G"
    records = [b"H|\\^&", comment, b"L|1|N"]
    frames = frame_records(records)
    assert [f[-5] for f in frames] == [0x03, 0x17, 0x17, 0x03, 0x03]  # H, C in 3 pieces, L
    assert [len(f) - 7 for f in frames[1:3]] == [240, 240]
    events, sent, _ = feed(b"\x05" + b"".join(frames))
    accepted = [e for e in events if isinstance(e, FrameAccepted)]
    assert [e.final for e in accepted] == [True, False, False, True, True]
    assert events[-1].text == b"H|\\^&\r" + comment + b"\rL|1|N\r"
    assert sent == ACK * 6


def test_frame_numbers_wrap_from_7_to_0():
    records = [b"H|\\^&"] + [f"C|{i}|I|c|G".encode() for i in range(1, 10)] + [b"L|1|N"]
    frames = frame_records(records)
    assert [f[1:2] for f in frames][6:10] == [b"7", b"0", b"1", b"2"]
    events, sent, _ = feed(b"\x05" + b"".join(frames))
    assert isinstance(events[-1], MessageComplete)
    assert sent == ACK * (len(frames) + 1)


def test_two_messages_in_one_transfer():
    data = b"\x05" + H_FRAME_1 + L_FRAME_2 + build_frame(3, b"H|\\^&\r", True) + build_frame(4, b"L|1|N\r", True)
    events, _, _ = feed(data)
    messages = [e for e in events if isinstance(e, MessageComplete)]
    assert [m.raw for m in messages] == [H_FRAME_1 + L_FRAME_2, data[1 + len(H_FRAME_1 + L_FRAME_2):]]
