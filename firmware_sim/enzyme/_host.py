"""The instrument's reader for host frames (doc §10.1), written from the document, not from ``protocols``.

Bytes in, ``HostAck`` / ``HostQuery`` / ``HostFrameRejected`` out. Anything that is not a
valid ``$K,<run>,<channel>*HH`` or ``$Q*HH`` frame is rejected with the reason and the
reader resynchronises on the next ``$``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._encoder import xor_checksum

MAX_FRAME = 82
_ACK_FIELDS = re.compile(rb"K,([0-9]{1,6}),([0-9]{1,2})")


@dataclass(frozen=True)
class HostAck:
    """``$K``: the host has stored channel ``channel`` of run ``run``."""

    run: int
    channel: int


@dataclass(frozen=True)
class HostQuery:
    """``$Q``: the host asks for every unacknowledged run now."""


@dataclass(frozen=True)
class HostFrameRejected:
    """Host bytes the instrument ignores, and why (the simulator logs them)."""

    reason: str
    data: bytes


HostInput = HostAck | HostQuery | HostFrameRejected


def parse_host_frame(frame: bytes) -> HostAck | HostQuery | HostFrameRejected:
    """Judge one ``$...\\r\\n`` frame: checksum first, then the type letter and its fields."""
    if len(frame) < 7 or frame[-5:-4] != b"*":
        return HostFrameRejected("no '*HH' checksum trailer before CRLF", frame)
    body, stated = frame[1:-5], frame[-4:-2]
    if re.fullmatch(rb"[0-9A-F]{2}", stated) is None or int(stated, 16) != xor_checksum(body):
        return HostFrameRejected(f"checksum {stated!r} does not match {xor_checksum(body):02X}", frame)
    if body == b"Q":
        return HostQuery()
    match = _ACK_FIELDS.fullmatch(body)
    if match is None:
        return HostFrameRejected(f"not a K or Q frame: {body!r}", frame)
    run, channel = int(match[1]), int(match[2])
    if not 1 <= run <= 999_999 or not 1 <= channel <= 12:
        return HostFrameRejected(f"run {run} or channel {channel} out of range", frame)
    return HostAck(run, channel)


class HostFrameReader:
    """Splits the host's byte stream into frames; noise is reported once per ``feed`` call."""

    def __init__(self) -> None:
        self._frame = bytearray()
        self._skipping = False  # dropping the rest of an over-long frame up to LF

    def feed(self, data: bytes) -> list[HostInput]:
        """Every complete frame (or rejection) that ``data`` finishes, in order."""
        out: list[HostInput] = []
        noise = bytearray()
        for byte in data:
            if byte == ord("$"):
                if self._frame:
                    out.append(HostFrameRejected("frame cut short by a new '$'", bytes(self._frame)))
                self._frame, self._skipping = bytearray(b"$"), False
            elif self._frame:
                self._frame.append(byte)
                if self._frame.endswith(b"\r\n"):
                    out.append(parse_host_frame(bytes(self._frame)))
                    self._frame = bytearray()
                elif len(self._frame) >= MAX_FRAME:
                    out.append(HostFrameRejected(f"no CRLF within {MAX_FRAME} bytes", bytes(self._frame)))
                    self._frame, self._skipping = bytearray(), True
            elif self._skipping:
                self._skipping = byte != ord("\n")
            else:
                noise.append(byte)
        if noise:
            out.append(HostFrameRejected(f"{len(noise)} byte(s) outside any frame", bytes(noise[:82])))
        return out
