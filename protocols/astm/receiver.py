"""The E1381 receiver (computer side) as a sans-I/O state machine.

Bytes in with ``receive_data``, events out with ``next_event``, ACK/NAK out with ``data_to_send``.
The ACK of the frame that ends a message (the L record's ETX frame) is held back until the caller
has stored the message and calls ``confirm_message()``: the instrument treats that ACK as delivery.
The machine never reads a clock: ``waiting_for`` says which timer the caller should run and
``timeout()`` is called when it fires.
"""

from __future__ import annotations

import enum
from collections import deque

from . import events as ev
from ._frame import ACK, ENQ, EOT, NAK, STX, BadFrame, GoodFrame, scan_frame
from .errors import AstmLocalError

RECEIVE_TIMEOUT_S = 30.0
"""E1381: a receiver that sees no frame for 30 s returns to neutral."""


class ReceiverState(enum.Enum):
    """Link states of the receiver."""

    NEUTRAL = "neutral"
    RECEIVING = "receiving"
    AWAITING_CONFIRM = "awaiting_confirm"


class _In(enum.Enum):
    """Inputs that move the receiver (derived from bytes, or calls of the caller)."""

    ENQ = "enq"
    EOT = "eot"
    GOOD_FRAME = "good_frame"
    DUPLICATE_FRAME = "duplicate_frame"
    BAD_FRAME = "bad_frame"
    MESSAGE_END = "message_end"
    TIMEOUT = "timeout"
    CONFIRM = "confirm"


_S = ReceiverState
TRANSITIONS: dict[tuple[ReceiverState, _In], ReceiverState] = {
    (_S.NEUTRAL, _In.ENQ): _S.RECEIVING,
    (_S.RECEIVING, _In.ENQ): _S.RECEIVING,  # sender restarted (its EOT was lost): new transfer
    (_S.RECEIVING, _In.GOOD_FRAME): _S.RECEIVING,
    (_S.RECEIVING, _In.DUPLICATE_FRAME): _S.RECEIVING,
    (_S.RECEIVING, _In.BAD_FRAME): _S.RECEIVING,
    (_S.RECEIVING, _In.MESSAGE_END): _S.AWAITING_CONFIRM,
    (_S.RECEIVING, _In.EOT): _S.NEUTRAL,
    (_S.RECEIVING, _In.TIMEOUT): _S.NEUTRAL,
    (_S.AWAITING_CONFIRM, _In.CONFIRM): _S.RECEIVING,
}
"""Every legal (state, input) -> next state. Bytes not listed for a state are line noise."""

_WAITING_FOR: dict[ReceiverState, ev.WaitingFor | None] = {
    _S.NEUTRAL: None,
    _S.RECEIVING: "frame",
    _S.AWAITING_CONFIRM: None,
}


class AstmLinkReceiver:
    """Computer side of an E1381 link: ACKs ENQ and good frames, NAKs bad ones, reassembles messages."""

    def __init__(self) -> None:
        self.state = ReceiverState.NEUTRAL
        self._buffer = bytearray()
        self._events: deque[ev.Event] = deque()
        self._outbox = bytearray()
        self._last_fn: int | None = None
        self._message = bytearray()
        self._record = bytearray()
        self._raw = bytearray()

    @property
    def waiting_for(self) -> ev.WaitingFor | None:
        """Which timer the caller should run now ('frame': RECEIVE_TIMEOUT_S), or None."""
        return _WAITING_FOR[self.state]

    def receive_data(self, data: bytes) -> None:
        """Feed bytes read from the line."""
        self._buffer += data

    def data_to_send(self) -> bytes:
        """Bytes (ACK/NAK) the caller must write now; empties the outbox."""
        out, self._outbox = bytes(self._outbox), bytearray()
        return out

    def next_event(self) -> ev.Event | None:
        """The next event, or None when more bytes are needed (or a message awaits confirmation)."""
        while not self._events and self.state is not ReceiverState.AWAITING_CONFIRM and self._step():
            pass
        return self._events.popleft() if self._events else None

    def confirm_message(self) -> None:
        """The last MessageComplete is stored: queue the ACK of its final frame."""
        self._move(_In.CONFIRM)
        self._outbox.append(ACK)
        self._reset_message()

    def timeout(self) -> None:
        """The caller's timer for ``waiting_for`` fired: drop any partial message, back to neutral."""
        waiting_for = self.waiting_for
        if waiting_for is None:
            raise AstmLocalError(f"timeout() in state {self.state.value}: nothing is awaited")
        self._events.append(ev.TimeoutExpired(waiting_for))
        self._terminate(_In.TIMEOUT, "timeout")
        self._buffer.clear()

    def _move(self, what: _In) -> None:
        try:
            self.state = TRANSITIONS[(self.state, what)]
        except KeyError:
            raise AstmLocalError(f"{what.value} is not allowed in state {self.state.value}") from None

    def _step(self) -> bool:
        """Consume one unit of the buffer (noise run, ENQ, EOT, frame); False = need more bytes."""
        if self.state is ReceiverState.NEUTRAL:
            self._discard_until({ENQ})
            if not self._buffer:
                return bool(self._events)
            del self._buffer[0]
            self._move(_In.ENQ)
            self._establish()
            return True
        self._discard_until({STX, ENQ, EOT})
        if not self._buffer:
            return bool(self._events)
        first = self._buffer[0]
        if first == ENQ:
            del self._buffer[0]
            self._terminate(_In.ENQ, "restart")
            self._establish()
        elif first == EOT:
            del self._buffer[0]
            self._terminate(_In.EOT, "eot")
        else:
            return self._frame()
        return True

    def _discard_until(self, wanted: set[int]) -> None:
        end = next((i for i, byte in enumerate(self._buffer) if byte in wanted), len(self._buffer))
        if end:
            self._events.append(ev.BytesDiscarded(bytes(self._buffer[:end])))
            del self._buffer[:end]

    def _establish(self) -> None:
        self._last_fn = 0
        self._reset_message()
        self._outbox.append(ACK)
        self._events.append(ev.EstablishmentRequested())

    def _terminate(self, what: _In, reason: ev.TerminationReason) -> None:
        partial = bytes(self._message + self._record)
        self._move(what)
        self._events.append(ev.TransferTerminated(reason, partial))
        self._reset_message()

    def _reset_message(self) -> None:
        self._message.clear()
        self._record.clear()
        self._raw.clear()

    def _frame(self) -> bool:
        scanned = scan_frame(self._buffer)
        if scanned is None:
            return False
        if isinstance(scanned, BadFrame):
            del self._buffer[: scanned.consumed]
            self._reject(scanned.reason, scanned.offset, scanned.data)
            return True
        del self._buffer[: len(scanned.raw)]
        if scanned.fn == self._last_fn:
            self._move(_In.DUPLICATE_FRAME)
            self._outbox.append(ACK)
            self._events.append(ev.DuplicateFrame(scanned.fn))
        elif self._last_fn is not None and scanned.fn != (self._last_fn + 1) % 8:
            self._reject("wrong_frame_number", 1, scanned.raw)
        else:
            self._accept(scanned)
        return True

    def _reject(self, reason: ev.RejectReason, offset: int, data: bytes) -> None:
        self._move(_In.BAD_FRAME)
        self._outbox.append(NAK)
        self._events.append(ev.FrameRejected(reason, offset, data))

    def _accept(self, frame: GoodFrame) -> None:
        self._last_fn = frame.fn
        self._raw += frame.raw
        self._record += frame.text
        self._events.append(ev.FrameAccepted(frame.fn, frame.text, frame.final))
        if not frame.final:
            self._move(_In.GOOD_FRAME)
            self._outbox.append(ACK)
            return
        ends_message = _last_record(self._record).startswith(b"L")
        self._message += self._record
        self._record.clear()
        if not ends_message:
            self._move(_In.GOOD_FRAME)
            self._outbox.append(ACK)
            return
        self._move(_In.MESSAGE_END)
        self._events.append(ev.MessageComplete(bytes(self._message), bytes(self._raw)))


def _last_record(record: bytes | bytearray) -> bytes:
    """The last non-empty CR-separated record in ``record`` (a frame may hold more than one)."""
    parts = [part for part in bytes(record).split(b"\r") if part.strip(b"\n")]
    return parts[-1].lstrip(b"\n") if parts else b""
