"""Sans-I/O framing state machine for the EI-412 serial stream.

Feed bytes with ``receive_data``; pull ``next_event()`` until it returns ``NEED_DATA``.
Bad bytes never raise: they become ``FrameError`` events carrying the absolute stream
offset, and the decoder resynchronises on the next ``$``. ``receive_data(b"")`` means
end of stream: pending garbage and any unfinished frame are reported.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from enum import Enum

from protocols.need_data import NEED_DATA, NeedData

from ._layout import MAX_FRAME_BYTES
from ._parse import parse_frame
from .errors import EnzymeUsageError
from .events import FrameError, FrameEvent


class State(Enum):
    HUNT = "hunt"  # between frames: every byte but '$' is garbage
    FRAME = "frame"  # inside a frame, waiting for CR
    FRAME_CR = "frame_cr"  # inside a frame, last byte was CR
    SKIP = "skip"  # after too_long: drop the rest of that frame up to LF or '$'
    CLOSED = "closed"  # end of stream was signalled


class ByteClass(Enum):
    DOLLAR = "$"
    CR = "CR"
    LF = "LF"
    OTHER = "other"


_CLASS = {ord("$"): ByteClass.DOLLAR, 0x0D: ByteClass.CR, 0x0A: ByteClass.LF}
_FRAME_STOP = re.compile(rb"[$\r]")
"""Bytes whose transition out of ``FRAME`` is not a plain ``append`` (LF and other bytes are)."""

# (state, byte class) -> (action, next state). ``append`` may divert to SKIP on overflow.
TRANSITIONS: dict[tuple[State, ByteClass], tuple[str, State]] = {
    (State.HUNT, ByteClass.DOLLAR): ("start", State.FRAME),
    (State.HUNT, ByteClass.CR): ("collect_garbage", State.HUNT),
    (State.HUNT, ByteClass.LF): ("collect_garbage", State.HUNT),
    (State.HUNT, ByteClass.OTHER): ("collect_garbage", State.HUNT),
    (State.FRAME, ByteClass.DOLLAR): ("truncate_and_start", State.FRAME),
    (State.FRAME, ByteClass.CR): ("append", State.FRAME_CR),
    (State.FRAME, ByteClass.LF): ("append", State.FRAME),
    (State.FRAME, ByteClass.OTHER): ("append", State.FRAME),
    (State.FRAME_CR, ByteClass.DOLLAR): ("truncate_and_start", State.FRAME),
    (State.FRAME_CR, ByteClass.CR): ("append", State.FRAME_CR),
    (State.FRAME_CR, ByteClass.LF): ("finish", State.HUNT),
    (State.FRAME_CR, ByteClass.OTHER): ("append", State.FRAME),
    (State.SKIP, ByteClass.DOLLAR): ("start", State.FRAME),
    (State.SKIP, ByteClass.CR): ("drop", State.SKIP),
    (State.SKIP, ByteClass.LF): ("drop", State.HUNT),
    (State.SKIP, ByteClass.OTHER): ("drop", State.SKIP),
}


class EnzymeDecoder:
    """Bytes in, frame events out; owns only state (no I/O, clock or threads)."""

    def __init__(self) -> None:
        self.state = State.HUNT
        self._events: deque[FrameEvent] = deque()
        self._position = 0  # absolute offset of the next byte fed
        self._frame = bytearray()
        self._frame_offset = 0
        self._garbage = bytearray()
        self._garbage_offset = 0

    @property
    def bytes_received(self) -> int:
        """Bytes fed so far; also the offset the next byte will have."""
        return self._position

    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the port; ``b""`` signals end of stream."""
        if self.state is State.CLOSED:
            raise EnzymeUsageError("receive_data() after end of stream")
        if not data:
            self._close()
            return
        index, end = 0, len(data)
        while index < end:
            if self.state is State.FRAME:
                index = self._append_run(data, index)
                if index == end:
                    break
            byte = data[index]
            action, next_state = TRANSITIONS[(self.state, _CLASS.get(byte, ByteClass.OTHER))]
            self.state = next_state
            _ACTIONS[action](self, byte)
            self._position += 1
            index += 1

    def _append_run(self, data: bytes, index: int) -> int:
        """In ``FRAME``, append the bytes up to the next ``$`` or CR at once (each would be an ``append``
        that stays in ``FRAME``) while the frame stays under its limit; returns the index reached."""
        stop = _FRAME_STOP.search(data, index)
        run = min((len(data) if stop is None else stop.start()) - index, MAX_FRAME_BYTES - 1 - len(self._frame))
        if run <= 0:
            return index
        self._frame += data[index:index + run]
        self._position += run
        return index + run

    def next_event(self) -> FrameEvent | NeedData:
        """The next decoded frame or error, else ``NEED_DATA``."""
        return self._events.popleft() if self._events else NEED_DATA

    def _start(self, byte: int) -> None:
        self._flush_garbage()
        self._frame = bytearray((byte,))
        self._frame_offset = self._position

    def _truncate_and_start(self, byte: int) -> None:
        self._report_truncated("a new '$' arrived before CRLF")
        self._start(byte)

    def _append(self, byte: int) -> None:
        self._frame.append(byte)
        if len(self._frame) >= MAX_FRAME_BYTES:
            detail = f"no CRLF within {MAX_FRAME_BYTES} bytes; discarding through the next LF"
            self._events.append(FrameError("too_long", self._frame_offset, detail, bytes(self._frame)))
            self._frame.clear()
            self.state = State.SKIP

    def _finish(self, byte: int) -> None:
        self._frame.append(byte)
        self._events.append(parse_frame(bytes(self._frame), self._frame_offset))
        self._frame.clear()

    def _collect_garbage(self, byte: int) -> None:
        if not self._garbage:
            self._garbage_offset = self._position
        self._garbage.append(byte)
        if len(self._garbage) >= MAX_FRAME_BYTES:
            self._flush_garbage()

    def _drop(self, byte: int) -> None:
        """Byte of an already reported too-long frame."""

    def _flush_garbage(self) -> None:
        if self._garbage:
            detail = f"{len(self._garbage)} byte(s) outside any frame"
            self._events.append(FrameError("garbage", self._garbage_offset, detail, bytes(self._garbage)))
            self._garbage.clear()

    def _report_truncated(self, why: str) -> None:
        detail = f"frame of {len(self._frame)} byte(s) cut short: {why}"
        self._events.append(FrameError("truncated", self._frame_offset, detail, bytes(self._frame)))
        self._frame.clear()

    def _close(self) -> None:
        if self.state in (State.FRAME, State.FRAME_CR):
            self._report_truncated("end of stream before CRLF")
        self._flush_garbage()
        self.state = State.CLOSED


_ACTIONS: dict[str, Callable[[EnzymeDecoder, int], None]] = {
    action: getattr(EnzymeDecoder, f"_{action}") for action, _ in TRANSITIONS.values()}
"""Each transition's action, looked up once for every decoder."""
