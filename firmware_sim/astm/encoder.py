"""The FS-Q8's own E1394 record encoder and E1381 framer, written from the instrument document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

FIELD, REPEAT, COMPONENT, ESCAPE = "|", "\\", "^", "&"
STX, ETX, ETB, EOT, ENQ, ACK, NAK = b"\x02", b"\x03", b"\x17", b"\x04", b"\x05", b"\x06", b"\x15"
CRLF = b"\r\n"
FRAME_TEXT_MAX = 240
ENCODING = "utf-8"


def escape(text: str) -> str:
    """Escape delimiters inside a value: & first, then | ^ \\ (E1394 &E& &F& &S& &R&)."""
    return (text.replace(ESCAPE, "&E&").replace(FIELD, "&F&").replace(COMPONENT, "&S&")
            .replace(REPEAT, "&R&"))


def component(*parts: str) -> str:
    """One field made of components, each escaped."""
    return COMPONENT.join(escape(p) for p in parts)


def record(kind: str, fields: Mapping[int, str]) -> str:
    """A record of type ``kind``; ``fields`` maps E1394 field number (>= 2) to its already-built text."""
    last = max(fields, default=1)
    values = [kind] + [fields.get(i, "") for i in range(2, last + 1)]
    return FIELD.join(values)


def header_record(control_id: str, model: str, serial: str, firmware: str, timestamp: str) -> str:
    """H: H.2 delimiters (verbatim), H.3 control id, H.5 model^serial^firmware, H.10 LIS, H.12 P, H.13, H.14."""
    delimiters = REPEAT + COMPONENT + ESCAPE
    return record("H", {2: delimiters, 3: escape(control_id), 5: component(model, serial, firmware),
                        10: "LIS", 12: "P", 13: "LIS2-A2", 14: timestamp})


def checksum(body: bytes) -> bytes:
    """Two uppercase hex digits of the byte sum of FN..ETX/ETB modulo 256."""
    return f"{sum(body) % 256:02X}".encode("ascii")


def frame(fn: int, text: bytes, final: bool) -> bytes:
    """One frame: STX, FN digit, text, ETX or ETB, checksum, CR LF."""
    body = str(fn % 8).encode("ascii") + text + (ETX if final else ETB)
    return STX + body + checksum(body) + CRLF


def frame_message(records: Sequence[str]) -> list[bytes]:
    """All frames of one message: records end in CR, split at 240 bytes (ETB), FN 1, 2, ... 7, 0, 1."""
    frames: list[bytes] = []
    for rec in records:
        data = rec.encode(ENCODING) + b"\r"
        chunks = [data[i : i + FRAME_TEXT_MAX] for i in range(0, len(data), FRAME_TEXT_MAX)]
        for n, chunk in enumerate(chunks):
            frames.append(frame(len(frames) + 1, chunk, n == len(chunks) - 1))
    return frames


def encode_message(records: Sequence[str]) -> bytes:
    """The concatenated frames of one message (what goes between ENQ and EOT when all is well)."""
    return b"".join(frame_message(records))
