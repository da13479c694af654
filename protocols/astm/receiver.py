"""The E1381 receiver (computer side) as a sans-I/O state machine.

Bytes in with ``receive_data``, events out with ``next_event``, ACK/NAK out with ``data_to_send``.
The ACK of the frame that ends a message (the L record's ETX frame) is held back until the caller
has stored the message and calls ``confirm_message()``: the instrument treats that ACK as delivery.
If storing outlasted the sender's reply timer, ``confirm_message(ack=False)`` sends no ACK: the
sender has ended that transfer and will send the message again, so a late ACK would only be taken
as the reply to its next ENQ or frame.
Every frame gets exactly one reply: a bad frame is NAKed at its first bad byte and the rest of it,
through its LF, is ignored (control bytes in it included).
The machine never reads a clock: ``waiting_for`` says which timer the caller should run and
``timeout()`` is called when it fires.

A message is capped (``max_message_bytes`` of frames, ``max_records`` records): over a cap the
receiver emits ``MessageTooLarge``, drops the message and NAKs every frame until EOT, ENQ or the
timeout, so the sender gives up after its retries and keeps the message (E1381 NAK handling).
"""

from __future__ import annotations

import enum
from collections import deque

from protocols.need_data import NEED_DATA, NeedData

from . import events as ev
from ._frame import ACK, ENQ, EOT, LF, NAK, STX, BadFrame, GoodFrame, scan_frame
from .errors import AstmLocalError
from .message import split_records

RECEIVE_TIMEOUT_S = 30.0
"""E1381: a receiver that sees no frame for 30 s returns to neutral."""
MAX_MESSAGE_BYTES = 1024 * 1024
"""Default cap on one message's accepted frames, STX..LF each (record text + 7 bytes per frame)."""
MAX_RECORDS = 10_000
"""Default cap on one message's records, H and L included."""


class ReceiverState(enum.Enum):
    """Link states of the receiver."""

    NEUTRAL = "neutral"
    RECEIVING = "receiving"
    AWAITING_CONFIRM = "awaiting_confirm"
    DISCARDING = "discarding"
    """A message went over a limit: every frame is NAKed until EOT, ENQ or the timeout."""


class _In(enum.Enum):
    """Inputs that move the receiver (derived from bytes, or calls of the caller)."""

    ENQ = "enq"
    EOT = "eot"
    GOOD_FRAME = "good_frame"
    DUPLICATE_FRAME = "duplicate_frame"
    BAD_FRAME = "bad_frame"
    MESSAGE_END = "message_end"
    TOO_LARGE = "too_large"
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
    (_S.RECEIVING, _In.TOO_LARGE): _S.DISCARDING,
    (_S.AWAITING_CONFIRM, _In.CONFIRM): _S.RECEIVING,
    (_S.DISCARDING, _In.ENQ): _S.RECEIVING,
    (_S.DISCARDING, _In.BAD_FRAME): _S.DISCARDING,
    (_S.DISCARDING, _In.EOT): _S.NEUTRAL,
    (_S.DISCARDING, _In.TIMEOUT): _S.NEUTRAL,
}
"""Every legal (state, input) -> next state. Bytes not listed for a state are line noise."""

_WAITING_FOR: dict[ReceiverState, ev.WaitingFor | None] = {
    _S.NEUTRAL: None,
    _S.RECEIVING: "frame",
    _S.AWAITING_CONFIRM: None,
    _S.DISCARDING: "frame",
}


class AstmLinkReceiver:
    """Computer side of an E1381 link: ACKs ENQ and good frames, NAKs bad ones, reassembles messages.

    ``max_message_bytes`` and ``max_records`` cap one message (see ``MessageTooLarge``).
    """

    def __init__(self, max_message_bytes: int = MAX_MESSAGE_BYTES, max_records: int = MAX_RECORDS) -> None:
        for name, value in (("max_message_bytes", max_message_bytes), ("max_records", max_records)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.max_message_bytes = max_message_bytes
        self.max_records = max_records
        self.state = ReceiverState.NEUTRAL
        self._buffer = bytearray()
        self._events: deque[ev.Event] = deque()
        self._outbox = bytearray()
        self._last_fn: int | None = None
        self._message = bytearray()
        self._record = bytearray()
        self._raw = bytearray()
        self._records = 0
        self._frames = 0
        self._skipping = False
        """A frame was NAKed before its end: its remaining bytes, through its LF, get no reply."""

    @property
    def pending_bytes(self) -> int:
        """Bytes of accepted frames of the message being reassembled (never above max_message_bytes)."""
        return len(self._raw)

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

    def next_event(self) -> ev.Event | NeedData:
        """The next event, or ``NEED_DATA`` when more bytes are needed (or a message awaits confirmation)."""
        while not self._events and self.state is not ReceiverState.AWAITING_CONFIRM and self._step():
            pass
        return self._events.popleft() if self._events else NEED_DATA

    def confirm_message(self, *, ack: bool = True) -> None:
        """The last MessageComplete is stored: queue the ACK of its final frame.

        ``ack=False``: it was stored after the sender's reply timer ran out, so the sender has
        given up on the transfer (E1381: it sends EOT and keeps the message to send again). No
        ACK is queued; the receiver waits for that EOT as in mid-transfer (an ENQ starts a new
        transfer, a repeat of the final frame is a duplicate and is ACKed, the receive timer runs).
        """
        self._move(_In.CONFIRM)
        if ack:
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
        self._skipping = False

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
        if self._skipping:
            return self._skip_rest_of_frame()
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

    def _skip_rest_of_frame(self) -> bool:
        """Drop the rest of a NAKed frame through its LF (control bytes in it included)."""
        end = self._buffer.find(LF)
        self._skipping = end < 0
        cut = len(self._buffer) if end < 0 else end + 1
        if cut:
            self._events.append(ev.BytesDiscarded(bytes(self._buffer[:cut])))
            del self._buffer[:cut]
        return bool(self._buffer) or bool(self._events)

    def _discard_until(self, wanted: set[int]) -> None:
        end = next((i for i, byte in enumerate(self._buffer) if byte in wanted), len(self._buffer))
        if end:
            self._events.append(ev.BytesDiscarded(bytes(self._buffer[:end])))
            del self._buffer[:end]

    def _establish(self) -> None:
        self._last_fn = 0
        self._frames = 0
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
        self._records = 0

    def _frame(self) -> bool:
        scanned = scan_frame(self._buffer)
        if scanned is None:
            return False
        if isinstance(scanned, BadFrame):
            del self._buffer[: scanned.consumed]
            self._skipping = not scanned.ended
            self._reject(scanned.reason, scanned.offset, scanned.data)
            return True
        del self._buffer[: len(scanned.raw)]
        if self.state is ReceiverState.DISCARDING:
            self._reject("message_too_large", 0, scanned.raw)
        elif scanned.fn == self._last_fn:
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
        self._frames += 1
        size = len(self._raw) + len(frame.raw)
        if size > self.max_message_bytes:
            self._too_large("max_message_bytes", self.max_message_bytes, size, frame.fn)
            return
        self._raw += frame.raw
        self._record += frame.text
        records = split_records(self._record) if frame.final else []
        if self._records + len(records) > self.max_records:
            self._too_large("max_records", self.max_records, self._records + len(records), frame.fn)
            return
        self._last_fn = frame.fn
        self._records += len(records)
        self._events.append(ev.FrameAccepted(frame.fn, frame.text, frame.final))
        if frame.final:
            self._message += self._record
            self._record.clear()
        if not (records and records[-1].startswith(b"L")):
            self._move(_In.GOOD_FRAME)
            self._outbox.append(ACK)
            return
        self._move(_In.MESSAGE_END)
        self._events.append(ev.MessageComplete(bytes(self._message), bytes(self._raw)))

    def _too_large(self, limit: ev.LimitName, maximum: int, size: int, fn: int) -> None:
        """Drop the message, NAK this frame and every later one until EOT/ENQ/timeout."""
        self._move(_In.TOO_LARGE)
        self._reset_message()
        self._outbox.append(NAK)
        self._events.append(ev.MessageTooLarge(limit, maximum, size, self._frames, fn))
