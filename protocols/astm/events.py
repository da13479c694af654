"""Events of the ASTM E1381 link state machines (receiver and sender), as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RejectReason = Literal[
    "bad_checksum",
    "bad_frame_number",
    "wrong_frame_number",
    "frame_too_long",
    "missing_crlf",
    "control_in_text",
    "message_too_large",
]
"""Why a frame was NAKed: checksum mismatch, FN not '0'-'7', FN not the expected one, more than
240 text characters, no CR LF after the checksum, a control byte (STX/ENQ/EOT/LF...) inside
the frame before its ETB/ETX, or (offset 0: the whole frame) a good frame of a message that
went over a receiver limit (see ``MessageTooLarge``)."""

LimitName = Literal["max_message_bytes", "max_records"]
"""The receiver limits: bytes of a message's frames (STX..LF each), records of a message."""

TerminationReason = Literal["eot", "restart", "timeout", "retries_exhausted", "busy"]
"""EOT received, ENQ in mid-transfer, timer fired, 6 NAKs of one frame, 6 NAKs of ENQ (sender)."""

WaitingFor = Literal["frame", "reply", "busy_retry", "contention_retry"]
"""What a machine waits for when its caller's timer fires: the receiver a next frame (30 s), the
sender a reply to ENQ or a frame (15 s), a retry after NAK-busy (10 s) or after contention (1 s)."""


@dataclass(frozen=True)
class EstablishmentRequested:
    """The sender sent ENQ; the receiver answered ACK and now expects frame 1."""


@dataclass(frozen=True)
class FrameAccepted:
    """A good frame (ACKed). ``final`` is True for an ETX frame (end of a record)."""

    fn: int
    text: bytes
    final: bool


@dataclass(frozen=True)
class DuplicateFrame:
    """The last good frame came again (our ACK was lost): ACKed again, its text ignored."""

    fn: int


@dataclass(frozen=True)
class FrameRejected:
    """A bad frame was NAKed. ``offset`` indexes the offending byte in ``data`` (frame from STX)."""

    reason: RejectReason
    offset: int
    data: bytes


@dataclass(frozen=True)
class BytesDiscarded:
    """Bytes outside any frame (line noise) were dropped without reply."""

    data: bytes


@dataclass(frozen=True)
class MessageComplete:
    """The frame ending an L record arrived. Its ACK waits for ``confirm_message()``.

    ``text`` joins the records' bytes (each ending in CR); ``raw`` is the exact bytes of the accepted
    frames (STX..LF each), in order, without NAKed or duplicate frames.
    """

    text: bytes
    raw: bytes


@dataclass(frozen=True)
class MessageTooLarge:
    """A message went over receiver limit ``limit`` with frame number ``frame`` (1 = first after ENQ).

    ``size`` is what the message would have reached with that frame (bytes or records), ``fn``
    the frame's FN digit. Its text so far is dropped and that frame NAKed, as is every frame
    after it until EOT, ENQ or the receive timeout: the sender gives up after its NAK retries
    and keeps the message; nothing of it is ever delivered as a ``MessageComplete``.
    """

    limit: LimitName
    maximum: int
    size: int
    frame: int
    fn: int

    def describe(self) -> str:
        """One line naming the limit, the size reached and the frame."""
        unit = "bytes" if self.limit == "max_message_bytes" else "records"
        return (f"message over {self.limit}={self.maximum} ({self.size} {unit} with frame {self.frame}, "
                f"FN {self.fn}): discarded, NAKing its frames until the sender ends the transfer")


@dataclass(frozen=True)
class TransferTerminated:
    """The link went back to neutral: EOT, a new ENQ mid-transfer, a timeout, or retries used up.

    ``partial`` holds the record bytes of an unfinished message that was thrown away (b'' if none).
    """

    reason: TerminationReason
    partial: bytes = b""


@dataclass(frozen=True)
class TimeoutExpired:
    """The caller's timer for ``waiting_for`` fired (``timeout()`` was called)."""

    waiting_for: WaitingFor


@dataclass(frozen=True)
class LinkBusy:
    """Sender: the receiver NAKed our ENQ; we retry after the busy wait (attempt counts retries)."""

    attempt: int


@dataclass(frozen=True)
class ContentionDetected:
    """Sender: we got ENQ in reply to our ENQ. With priority we retry after 1 s, else we yield."""

    yielded: bool


@dataclass(frozen=True)
class FrameAcknowledged:
    """Sender: the receiver ACKed frame ``fn``."""

    fn: int


@dataclass(frozen=True)
class FrameRetried:
    """Sender: the receiver NAKed frame ``fn``; we sent it again (``attempt`` = 1..6)."""

    fn: int
    attempt: int


@dataclass(frozen=True)
class TransferComplete:
    """Sender: every frame was ACKed and EOT sent."""


Event = (
    EstablishmentRequested | FrameAccepted | DuplicateFrame | FrameRejected | BytesDiscarded
    | MessageComplete | MessageTooLarge | TransferTerminated | TimeoutExpired | LinkBusy | ContentionDetected
    | FrameAcknowledged | FrameRetried | TransferComplete
)
