"""The E1381 sender machine: against our receiver, and on busy, contention, NAKs and silence."""

import pytest
from astm_support import SAMPLE_RECORDS, drain

from protocols.astm import (
    AstmLinkReceiver,
    AstmLinkSender,
    AstmLocalError,
    ContentionDetected,
    FrameRetried,
    LinkBusy,
    MessageComplete,
    SenderState,
    TimeoutExpired,
    TransferComplete,
    TransferTerminated,
    frame_records,
)
from protocols.need_data import NEED_DATA

ACK, NAK, ENQ, EOT = b"\x06", b"\x15", b"\x05", b"\x04"


def _events(sender: AstmLinkSender) -> list[object]:
    out = []
    while (event := sender.next_event()) is not NEED_DATA:
        out.append(event)
    return out


def test_sender_and_receiver_deliver_a_message():
    sender, receiver = AstmLinkSender(), AstmLinkReceiver()
    sender.send_message(SAMPLE_RECORDS)
    messages = []
    for _ in range(100):
        receiver.receive_data(sender.data_to_send())
        messages += [e for e in drain(receiver) if isinstance(e, MessageComplete)]
        reply = receiver.data_to_send()
        if not reply:
            break
        sender.receive_data(reply)
    assert [m.raw for m in messages] == [b"".join(frame_records(SAMPLE_RECORDS))]
    assert TransferComplete() in _events(sender)
    assert sender.state is SenderState.NEUTRAL


def test_busy_receiver_is_retried_after_the_wait_then_given_up():
    sender = AstmLinkSender(max_retries=2)
    sender.send_message([b"H|\\^&", b"L|1|N"])
    assert sender.data_to_send() == ENQ
    for attempt in (1, 2):
        sender.receive_data(NAK)
        assert sender.waiting_for == "busy_retry"
        assert _events(sender) == [LinkBusy(attempt)]
        sender.timeout()
        assert _events(sender) == [TimeoutExpired("busy_retry")]
        assert sender.data_to_send() == ENQ
    sender.receive_data(NAK)
    assert _events(sender)[-1] == TransferTerminated("busy")
    assert sender.state is SenderState.NEUTRAL


@pytest.mark.parametrize(("priority", "state"), [(True, SenderState.CONTENTION_WAIT), (False, SenderState.NEUTRAL)])
def test_contention(priority, state):
    sender = AstmLinkSender(priority=priority)
    sender.send_message([b"H|\\^&", b"L|1|N"])
    sender.data_to_send()
    sender.receive_data(ENQ)
    assert _events(sender) == [ContentionDetected(yielded=not priority)]
    assert sender.state is state
    if priority:
        assert sender.waiting_for == "contention_retry"
        sender.timeout()
        assert sender.data_to_send() == ENQ


def test_nak_resends_the_same_frame_up_to_six_times_then_eot():
    sender = AstmLinkSender()
    sender.send_message([b"H|\\^&", b"L|1|N"])
    sender.data_to_send()
    sender.receive_data(ACK)
    first = sender.data_to_send()
    for attempt in range(1, 7):
        sender.receive_data(NAK)
        assert sender.data_to_send() == first
        assert _events(sender) == [FrameRetried(1, attempt)]
    sender.receive_data(NAK)
    assert sender.data_to_send() == EOT
    assert _events(sender) == [TransferTerminated("retries_exhausted")]


def test_no_reply_ends_with_eot():
    sender = AstmLinkSender()
    sender.send_message([b"H|\\^&", b"L|1|N"])
    sender.data_to_send()
    assert sender.waiting_for == "reply"
    sender.timeout()
    assert sender.data_to_send() == EOT
    assert _events(sender) == [TimeoutExpired("reply"), TransferTerminated("timeout")]
    with pytest.raises(AstmLocalError):
        sender.timeout()
