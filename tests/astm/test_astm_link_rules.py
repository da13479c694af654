"""The receiver's reply rules of docs/instruments/multi-item-analyzer.md, on golden byte strings.

Every frame gets exactly one reply (one NAK for a bad frame, whatever is inside it), a control byte
in the text is NAKed, and a frame ending ``<ETX>C1C2<LF>`` is NAKed as soon as its LF is in.
"""

import pytest
from astm_support import feed

from protocols.astm import AstmLinkReceiver, BytesDiscarded, FrameAccepted, FrameRejected, build_frame
from protocols.need_data import NEED_DATA

ACK, NAK, ENQ, EOT, STX = b"\x06", b"\x15", b"\x05", b"\x04", b"\x02"
H_FRAME_1 = build_frame(1, b"H|\\^&\r", final=True)
L_FRAME_2 = build_frame(2, b"L|1|N\r", final=True)
CONTROLS = [0x01, 0x07, 0x10, 0x11, 0x16, 0x1B, 0x7F]


def _with_byte(frame: bytes, at: int, byte: int) -> bytes:
    """``frame`` with ``byte`` put into its text at ``at`` and a checksum that matches it."""
    text = frame[2:-5]
    text = text[:at] + bytes([byte]) + text[at:]
    return build_frame(frame[1] - 0x30, text, final=frame[-5] == 0x03)


@pytest.mark.parametrize("control", CONTROLS)
def test_control_byte_in_the_text_is_naked_even_with_a_matching_checksum(control):
    bad = _with_byte(H_FRAME_1, 2, control)
    events, sent, _ = feed(ENQ + bad + H_FRAME_1 + L_FRAME_2)
    assert events[1] == FrameRejected("control_in_text", 4, bad[:5])
    assert events[2] == BytesDiscarded(bad[5:])
    assert [type(e) for e in events[3:5]] == [FrameAccepted, FrameAccepted]
    assert sent == ACK + NAK + ACK + ACK  # ENQ, the bad frame, the resent H, the L frame (confirmed)


@pytest.mark.parametrize("inside", [STX, ENQ, EOT, b"\n", b"\x15", b"\x06"])
def test_a_bad_frame_gets_exactly_one_reply_whatever_control_byte_is_inside(inside):
    bad = H_FRAME_1[:4] + inside + H_FRAME_1[4:]  # checksum no longer matters: the byte is judged first
    for cut in range(1, len(bad) + 1):
        events, sent, receiver = feed(ENQ + bad, [1 + cut])
        assert sent == ACK + NAK, (inside, cut)
        assert receiver.state.value == "receiving"
    events, sent, _ = feed(ENQ + bad + H_FRAME_1)
    assert sent == ACK + NAK + ACK


@pytest.mark.parametrize("bad", [
    H_FRAME_1[:-4] + b"00\r\n",  # checksum
    H_FRAME_1[:-2] + b"X\n",  # CR replaced
    H_FRAME_1[:-2] + b"\rX\r\n",  # LF replaced
    b"\x029H\x03XX\r\n",  # frame number
    b"\x021" + b"x" * 300 + b"\x03" + b"00\r\n",  # too long
    build_frame(3, b"H|\\^&\r", final=True),  # wrong frame number
], ids=["checksum", "cr", "lf", "fn", "too_long", "wrong_fn"])
def test_every_kind_of_bad_frame_gets_one_nak_at_every_split(bad):
    data = ENQ + bad + H_FRAME_1
    for cut in range(1, len(data)):
        assert feed(data, [cut])[1] == ACK + NAK + ACK, cut


def test_a_damaged_byte_in_the_place_of_the_lf_ends_the_bad_frame():
    bad = H_FRAME_1[:-1] + b"X"  # the frame's length is known: its last byte is where the LF should be
    events, sent, _ = feed(ENQ + bad + H_FRAME_1)
    assert events[1] == FrameRejected("missing_crlf", len(bad) - 1, bad)
    assert isinstance(events[2], FrameAccepted)  # the resend is a frame of its own, not the bad one's tail
    assert sent == ACK + NAK + ACK


def test_frame_ending_checksum_lf_without_cr_is_naked_when_the_lf_arrives():
    bad = H_FRAME_1[:-2] + b"\n"
    receiver = AstmLinkReceiver()
    receiver.receive_data(ENQ + bad)
    events = []
    while (event := receiver.next_event()) is not NEED_DATA:
        events.append(event)
    assert events[1] == FrameRejected("missing_crlf", len(bad) - 1, bad)
    assert receiver.data_to_send() == ACK + NAK  # at once, no later byte needed
    receiver.receive_data(H_FRAME_1)
    assert isinstance(receiver.next_event(), FrameAccepted)
    assert receiver.data_to_send() == ACK


def test_skipping_the_rest_of_a_bad_frame_ends_with_the_receive_timeout():
    receiver = AstmLinkReceiver()
    receiver.receive_data(ENQ + H_FRAME_1[:4] + b"\x07" + b"lost LF" + EOT + ENQ)
    while receiver.next_event() is not NEED_DATA:
        pass
    assert receiver.data_to_send() == ACK + NAK
    receiver.timeout()
    while receiver.next_event() is not NEED_DATA:
        pass
    receiver.receive_data(ENQ + H_FRAME_1)
    while receiver.next_event() is not NEED_DATA:
        pass
    assert receiver.data_to_send() == ACK + ACK
