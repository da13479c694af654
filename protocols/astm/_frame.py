"""E1381 frames: control bytes, checksum, frame building and incremental frame scanning."""

from __future__ import annotations

from dataclasses import dataclass

from .events import RejectReason

STX, ETX, EOT, ENQ, ACK, LF, CR, NAK, ETB = 0x02, 0x03, 0x04, 0x05, 0x06, 0x0A, 0x0D, 0x15, 0x17
MAX_TEXT = 240
"""At most 240 text bytes per frame; longer records continue in ETB frames."""

_TERMINATORS = frozenset({ETX, ETB})
_RESYNC = frozenset({STX, EOT, ENQ})
"""Bytes that start something new: a bad frame ends just before them."""
_FORBIDDEN_IN_TEXT = frozenset({STX, EOT, ENQ, ACK, NAK, LF})
_HEX = b"0123456789ABCDEF"


def checksum(body: bytes) -> bytes:
    """C1C2 of a frame: sum of ``body`` (FN through ETX/ETB inclusive) mod 256, two uppercase hex."""
    total = sum(body) % 256
    return bytes((_HEX[total >> 4], _HEX[total & 0xF]))


def build_frame(fn: int, text: bytes, final: bool) -> bytes:
    """``<STX> FN text <ETX|ETB> C1 C2 <CR><LF>`` with frame number ``fn`` (taken mod 8)."""
    if len(text) > MAX_TEXT:
        raise ValueError(f"frame text is {len(text)} bytes, more than {MAX_TEXT}")
    body = bytes((0x30 + fn % 8,)) + text + bytes((ETX if final else ETB,))
    return bytes((STX,)) + body + checksum(body) + bytes((CR, LF))


@dataclass(frozen=True)
class GoodFrame:
    """A well-formed frame (its number is not checked here). ``raw`` is STX..LF."""

    fn: int
    text: bytes
    final: bool
    raw: bytes


@dataclass(frozen=True)
class BadFrame:
    """A malformed frame: its first ``consumed`` bytes are dropped (the rest is noise until STX/EOT/ENQ)."""

    reason: RejectReason
    offset: int
    data: bytes
    consumed: int


def scan_frame(buf: bytes | bytearray) -> GoodFrame | BadFrame | None:
    """Scan one frame at the start of ``buf`` (which begins with STX); None = need more bytes."""
    if len(buf) < 2:
        return None
    if not 0x30 <= buf[1] <= 0x37:
        return _bad(buf, "bad_frame_number", 1)
    end = None
    for i in range(2, len(buf)):
        byte = buf[i]
        if byte in _TERMINATORS:
            end = i
            break
        if byte in _FORBIDDEN_IN_TEXT:
            return _bad(buf, "control_in_text", i)
        if i - 2 >= MAX_TEXT:
            return BadFrame("frame_too_long", i, bytes(buf[: i + 1]), i + 1)
    if end is None or len(buf) < end + 5:
        return None
    for j in range(end + 1, end + 5):
        if buf[j] in _RESYNC:
            return _bad(buf, "bad_checksum" if j < end + 3 else "missing_crlf", j)
    if buf[end + 3] != CR or buf[end + 4] != LF:
        j = end + 3 if buf[end + 3] != CR else end + 4
        return BadFrame("missing_crlf", j, bytes(buf[: j + 1]), j + 1)
    if bytes(buf[end + 1 : end + 3]) != checksum(bytes(buf[1 : end + 1])):
        return BadFrame("bad_checksum", end + 1, bytes(buf[: end + 5]), end + 5)
    raw = bytes(buf[: end + 5])
    return GoodFrame(buf[1] - 0x30, raw[2:end], buf[end] == ETX, raw)


def _bad(buf: bytes | bytearray, reason: RejectReason, offset: int) -> BadFrame:
    """Reject at ``offset``; a resync byte there is left for the caller, any other byte is dropped."""
    consumed = offset if buf[offset] in _RESYNC else offset + 1
    return BadFrame(reason, offset, bytes(buf[: offset + 1]), consumed)
