"""Sans-I/O line framing for profile-described serial instruments.

Feed bytes with ``receive_data``; pull ``next_event()`` until it returns ``NEED_DATA``.
Bad bytes never raise: they become ``LineError`` events carrying the absolute stream offset,
and decoding goes on with the next line. ``receive_data(b"")`` means end of stream: an
unterminated line is reported as ``no_match``.
"""

from __future__ import annotations

from collections import deque
from enum import Enum

from ._parse import parse_line
from ._schema import Profile
from .errors import LineDecoderUsageError
from protocols.need_data import NEED_DATA, NeedData

from .events import LineError, LineEvent


class State(Enum):
    LINE = "line"  # collecting a line; no terminator byte pending
    TERM = "term"  # collecting a line; the bytes before the terminator's last byte have arrived
    SKIP = "skip"  # after too_long: drop bytes up to the end of that line
    SKIP_TERM = "skip_term"  # dropping; the terminator's first byte has arrived
    CLOSED = "closed"  # end of stream was signalled


class ByteClass(Enum):
    FIRST = "first"  # first byte of a two-byte terminator
    LAST = "last"  # last (or only) byte of the terminator
    OTHER = "other"


# Two-byte terminator (e.g. CR LF): (state, byte class) -> (action, next state).
TWO_BYTE_TRANSITIONS: dict[tuple[State, ByteClass], tuple[str, State]] = {
    (State.LINE, ByteClass.FIRST): ("append", State.TERM),
    (State.LINE, ByteClass.LAST): ("append", State.LINE),
    (State.LINE, ByteClass.OTHER): ("append", State.LINE),
    (State.TERM, ByteClass.FIRST): ("append", State.TERM),
    (State.TERM, ByteClass.LAST): ("finish", State.LINE),
    (State.TERM, ByteClass.OTHER): ("append", State.LINE),
    (State.SKIP, ByteClass.FIRST): ("drop", State.SKIP_TERM),
    (State.SKIP, ByteClass.LAST): ("drop", State.SKIP),
    (State.SKIP, ByteClass.OTHER): ("drop", State.SKIP),
    (State.SKIP_TERM, ByteClass.FIRST): ("drop", State.SKIP_TERM),
    (State.SKIP_TERM, ByteClass.LAST): ("drop", State.LINE),
    (State.SKIP_TERM, ByteClass.OTHER): ("drop", State.SKIP),
}

# One-byte terminator (e.g. LF): every line byte leaves the decoder ready for the terminator.
ONE_BYTE_TRANSITIONS: dict[tuple[State, ByteClass], tuple[str, State]] = {
    (State.TERM, ByteClass.LAST): ("finish", State.TERM),
    (State.TERM, ByteClass.OTHER): ("append", State.TERM),
    (State.SKIP, ByteClass.LAST): ("drop", State.TERM),
    (State.SKIP, ByteClass.OTHER): ("drop", State.SKIP),
}


class LineDecoder:
    """Bytes in, line events out, as the profile's ``[line]`` and ``[checksum]`` describe; no I/O."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        terminator = profile.line.terminator.encode("ascii")
        self._classes = {terminator[-1]: ByteClass.LAST}
        if len(terminator) == 2:
            self._classes[terminator[0]] = ByteClass.FIRST
            self._table, self.state = TWO_BYTE_TRANSITIONS, State.LINE
        else:
            self._table, self.state = ONE_BYTE_TRANSITIONS, State.TERM
        self._slack = len(terminator) - 1  # a CR of CR LF may follow a full-length line
        self._events: deque[LineEvent] = deque()
        self._position = 0  # absolute offset of the next byte fed
        self._line = bytearray()
        self._line_offset = 0
        self._actions = {"append": self._append, "finish": self._finish, "drop": self._drop}

    @property
    def bytes_received(self) -> int:
        """Bytes fed so far; also the offset the next byte will have."""
        return self._position

    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the port; ``b""`` signals end of stream."""
        if self.state is State.CLOSED:
            raise LineDecoderUsageError("receive_data() after end of stream")
        if not data:
            self._close()
            return
        for byte in data:
            action, next_state = self._table[(self.state, self._classes.get(byte, ByteClass.OTHER))]
            self.state = next_state
            self._actions[action](byte)
            self._position += 1

    def next_event(self) -> LineEvent | NeedData:
        """The next decoded line or error, else ``NEED_DATA``."""
        return self._events.popleft() if self._events else NEED_DATA

    def _append(self, byte: int) -> None:
        if not self._line:
            self._line_offset = self._position
        self._line.append(byte)
        if len(self._line) > self.profile.line.max_length + (self._slack if self.state is State.TERM else 0):
            detail = f"no terminator within {self.profile.line.max_length} bytes; dropping the rest of the line"
            self._events.append(LineError("too_long", self._line_offset, detail, bytes(self._line)))
            self._line.clear()
            self.state = State.SKIP

    def _finish(self, byte: int) -> None:
        if not self._line:
            self._line_offset = self._position
        self._line.append(byte)
        self._events.extend(parse_line(self.profile, bytes(self._line), self._line_offset))
        self._line.clear()

    def _drop(self, byte: int) -> None:
        """A byte of a line already reported as too long."""

    def _close(self) -> None:
        if self._line:
            detail = f"end of stream inside a line of {len(self._line)} byte(s) (no terminator)"
            self._events.append(LineError("no_match", self._line_offset, detail, bytes(self._line)))
            self._line.clear()
        self.state = State.CLOSED
