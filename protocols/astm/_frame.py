"""E1381 frames: control bytes, checksum, frame building and incremental frame scanning."""

from __future__ import annotations

from dataclasses import dataclass

from .events import RejectReason

STX, ETX, EOT, ENQ, ACK, LF, CR, NAK, ETB = 0x02, 0x03, 0x04, 0x05, 0x06, 0x0A, 0x0D, 0x15, 0x17
DEL = 0x7F
MAX_TEXT = 240
"""At most 240 text bytes per frame; longer records continue in ETB frames."""

_TERMINATORS = frozenset({ETX, ETB})
FORBIDDEN_IN_TEXT = frozenset(range(0x20)) - {CR, ETX, ETB} | {DEL}
"""Control bytes a frame's text may not hold: every C0 control but CR (the record end), and DEL.
ETX/ETB end the text; the other C0 controls (SOH, STX, EOT, ENQ, ACK, BEL, LF, DLE, DC1-DC4, NAK,
SYN, ESC, ...) are E1381's restricted characters or line damage."""
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
    """A malformed frame, known bad at byte ``offset``: ``data`` is the frame up to that byte.

    ``data`` (``consumed`` bytes) is dropped from the buffer. ``ended`` is True when ``data`` ends
    with the frame's own LF; otherwise the rest of the frame, up to its LF, is still to come.
    """

    reason: RejectReason
    offset: int
    data: bytes
    consumed: int
    ended: bool


def scan_frame(buf: bytes | bytearray) -> GoodFrame | BadFrame | None:
    """Scan one frame at the start of ``buf`` (which begins with STX); None = need more bytes.

    A frame is judged bad at the first byte that makes it so, never later.
    """
    if len(buf) < 2:
        return None
    if not 0x30 <= buf[1] <= 0x37:
        return _bad(buf, "bad_frame_number", 1)
    end = _text_end(buf)
    if isinstance(end, BadFrame) or end is None:
        return end
    for j in range(end + 1, min(len(buf), end + 3)):
        if buf[j] not in _HEX:
            return _bad(buf, "bad_checksum", j)
    for j, wanted in ((end + 3, CR), (end + 4, LF)):
        if j < len(buf) and buf[j] != wanted:  # the byte in the LF's place ends the frame, whatever it is
            return _bad(buf, "missing_crlf", j, ended=j == end + 4 or buf[j] == LF)
    if len(buf) < end + 5:
        return None
    if bytes(buf[end + 1 : end + 3]) != checksum(bytes(buf[1 : end + 1])):
        return _bad(buf, "bad_checksum", end + 1, end + 5, ended=True)
    raw = bytes(buf[: end + 5])
    return GoodFrame(buf[1] - 0x30, raw[2:end], buf[end] == ETX, raw)


def _text_end(buf: bytes | bytearray) -> int | BadFrame | None:
    """Index of the ETX/ETB ending the text, a BadFrame for a forbidden or 241st byte, None = more."""
    for i in range(2, len(buf)):
        byte = buf[i]
        if byte in _TERMINATORS:
            return i
        if byte in FORBIDDEN_IN_TEXT:
            return _bad(buf, "control_in_text", i)
        if i - 2 >= MAX_TEXT:
            return _bad(buf, "frame_too_long", i)
    return None


def _bad(buf: bytes | bytearray, reason: RejectReason, offset: int, consumed: int | None = None,
         ended: bool | None = None) -> BadFrame:
    """Reject at ``offset``; the frame is dropped through that byte (or through ``consumed`` bytes).

    ``ended`` defaults to: the last dropped byte is an LF outside the text (an LF in the text is not its end).
    """
    consumed = offset + 1 if consumed is None else consumed
    if ended is None:
        ended = reason != "control_in_text" and buf[consumed - 1] == LF
    return BadFrame(reason, offset, bytes(buf[:consumed]), consumed, ended)
