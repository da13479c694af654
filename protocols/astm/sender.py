"""The E1381 sender as a sans-I/O state machine (the instrument's role; used by tests and tools).

``send_message(records)`` frames the records and queues ENQ; replies go in with ``receive_data``.
Timers are the caller's: ``waiting_for`` names the one to run (see ``SENDER_TIMEOUTS_S``) and
``timeout()`` is called when it fires.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Sequence

from protocols.need_data import NEED_DATA, NeedData

from . import events as ev
from ._frame import ACK, CR, ENQ, EOT, MAX_TEXT, NAK, build_frame
from .errors import AstmLocalError

SENDER_TIMEOUTS_S: dict[ev.WaitingFor, float] = {"reply": 15.0, "busy_retry": 10.0, "contention_retry": 1.0}
"""E1381 defaults: 15 s for any reply, >= 10 s after NAK-busy, >= 1 s after contention."""
MAX_RETRIES = 6


class SenderState(enum.Enum):
    """Link states of the sender."""

    NEUTRAL = "neutral"
    ESTABLISHING = "establishing"
    BUSY_WAIT = "busy_wait"
    CONTENTION_WAIT = "contention_wait"
    TRANSFERRING = "transferring"


class _In(enum.Enum):
    START = "start"
    ACK = "ack"
    ACK_LAST = "ack_last"
    NAK = "nak"
    NAK_EXHAUSTED = "nak_exhausted"
    ENQ_KEEP = "enq_keep"
    ENQ_YIELD = "enq_yield"
    TIMEOUT = "timeout"


_S = SenderState
TRANSITIONS: dict[tuple[SenderState, _In], SenderState] = {
    (_S.NEUTRAL, _In.START): _S.ESTABLISHING,
    (_S.ESTABLISHING, _In.ACK): _S.TRANSFERRING,
    (_S.ESTABLISHING, _In.NAK): _S.BUSY_WAIT,
    (_S.ESTABLISHING, _In.NAK_EXHAUSTED): _S.NEUTRAL,
    (_S.ESTABLISHING, _In.ENQ_KEEP): _S.CONTENTION_WAIT,
    (_S.ESTABLISHING, _In.ENQ_YIELD): _S.NEUTRAL,
    (_S.ESTABLISHING, _In.TIMEOUT): _S.NEUTRAL,
    (_S.BUSY_WAIT, _In.TIMEOUT): _S.ESTABLISHING,
    (_S.CONTENTION_WAIT, _In.TIMEOUT): _S.ESTABLISHING,
    (_S.TRANSFERRING, _In.ACK): _S.TRANSFERRING,
    (_S.TRANSFERRING, _In.ACK_LAST): _S.NEUTRAL,
    (_S.TRANSFERRING, _In.NAK): _S.TRANSFERRING,
    (_S.TRANSFERRING, _In.NAK_EXHAUSTED): _S.NEUTRAL,
    (_S.TRANSFERRING, _In.TIMEOUT): _S.NEUTRAL,
}
"""Every legal (state, input) -> next state; reply bytes not listed for a state are ignored."""

_WAITING_FOR: dict[SenderState, ev.WaitingFor | None] = {
    _S.NEUTRAL: None,
    _S.ESTABLISHING: "reply",
    _S.BUSY_WAIT: "busy_retry",
    _S.CONTENTION_WAIT: "contention_retry",
    _S.TRANSFERRING: "reply",
}


def frame_records(records: Sequence[bytes]) -> list[bytes]:
    """Frames for ``records`` (each without its CR): FN from 1, ETB pieces of <= 240 bytes, ETX last."""
    frames: list[bytes] = []
    for record in records:
        text = record + bytes((CR,))
        pieces = [text[i : i + MAX_TEXT] for i in range(0, len(text), MAX_TEXT)]
        for index, piece in enumerate(pieces):
            frames.append(build_frame(len(frames) + 1, piece, final=index == len(pieces) - 1))
    return frames


class AstmLinkSender:
    """Sender side of an E1381 link. ``priority`` = instrument role (keeps the line on contention)."""

    def __init__(self, priority: bool = True, max_retries: int = MAX_RETRIES) -> None:
        self.state = SenderState.NEUTRAL
        self.priority = priority
        self.max_retries = max_retries
        self._frames: list[bytes] = []
        self._index = 0
        self._retries = 0
        self._busy = 0
        self._events: deque[ev.Event] = deque()
        self._outbox = bytearray()

    @property
    def waiting_for(self) -> ev.WaitingFor | None:
        """Which timer the caller should run now (durations in SENDER_TIMEOUTS_S), or None."""
        return _WAITING_FOR[self.state]

    def send_message(self, records: Sequence[bytes]) -> None:
        """Start a transfer of ``records`` (H ... L, each without CR): queues ENQ."""
        self._move(_In.START)
        self._frames, self._index, self._retries, self._busy = frame_records(records), 0, 0, 0
        self._outbox.append(ENQ)

    def data_to_send(self) -> bytes:
        """Bytes (ENQ, frames, EOT) the caller must write now; empties the outbox."""
        out, self._outbox = bytes(self._outbox), bytearray()
        return out

    def next_event(self) -> ev.Event | NeedData:
        """The next event, or ``NEED_DATA``."""
        return self._events.popleft() if self._events else NEED_DATA

    def receive_data(self, data: bytes) -> None:
        """Feed the receiver's replies (ACK, NAK, ENQ, EOT); other bytes are ignored."""
        for byte in data:
            if self.state is SenderState.ESTABLISHING:
                self._on_establishing(byte)
            elif self.state is SenderState.TRANSFERRING:
                self._on_transferring(byte)

    def timeout(self) -> None:
        """The caller's timer for ``waiting_for`` fired."""
        waiting_for = self.waiting_for
        if waiting_for is None:
            raise AstmLocalError("timeout() in state neutral: nothing is awaited")
        self._events.append(ev.TimeoutExpired(waiting_for))
        self._move(_In.TIMEOUT)
        if waiting_for == "reply":
            self._outbox.append(EOT)
            self._events.append(ev.TransferTerminated("timeout"))
        else:
            self._outbox.append(ENQ)

    def _move(self, what: _In) -> None:
        try:
            self.state = TRANSITIONS[(self.state, what)]
        except KeyError:
            raise AstmLocalError(f"{what.value} is not allowed in state {self.state.value}") from None

    def _on_establishing(self, byte: int) -> None:
        if byte == ACK:
            self._move(_In.ACK)
            self._outbox += self._frames[0]
        elif byte == NAK:
            self._busy += 1
            if self._busy > self.max_retries:
                self._move(_In.NAK_EXHAUSTED)
                self._events.append(ev.TransferTerminated("busy"))
            else:
                self._move(_In.NAK)
                self._events.append(ev.LinkBusy(self._busy))
        elif byte == ENQ:
            self._move(_In.ENQ_KEEP if self.priority else _In.ENQ_YIELD)
            self._events.append(ev.ContentionDetected(yielded=not self.priority))

    def _on_transferring(self, byte: int) -> None:
        fn = (self._index + 1) % 8
        if byte in (ACK, EOT):  # EOT = receiver interrupt request; E1381 lets us treat it as ACK
            self._events.append(ev.FrameAcknowledged(fn))
            self._index += 1
            self._retries = 0
            if self._index == len(self._frames):
                self._move(_In.ACK_LAST)
                self._outbox.append(EOT)
                self._events.append(ev.TransferComplete())
            else:
                self._move(_In.ACK)
                self._outbox += self._frames[self._index]
        elif byte == NAK:
            self._retries += 1
            if self._retries > self.max_retries:
                self._move(_In.NAK_EXHAUSTED)
                self._outbox.append(EOT)
                self._events.append(ev.TransferTerminated("retries_exhausted"))
            else:
                self._move(_In.NAK)
                self._outbox += self._frames[self._index]
                self._events.append(ev.FrameRetried(fn, self._retries))
