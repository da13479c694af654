"""Turn one complete ``$...*HH\\r\\n`` frame into its event, or into a FrameError saying why not."""

from __future__ import annotations

import re

from ._layout import LAYOUTS, Layout, checksum
from .events import FrameError, FrameEvent

_HEX = frozenset(b"0123456789ABCDEF")
_ILLEGAL = re.compile(rb"[^\x20-\x23\x25-\x29\x2b-\x7e]")
"""A byte a frame's body may not hold: anything but printable ASCII, and ``$`` or ``*``."""


def parse_frame(frame: bytes, offset: int) -> FrameEvent:
    """Check trailer and checksum, then every field against its frame type's layout."""
    # frame = b"$" + body + b"*" + 2 hex digits + b"\r\n"
    if len(frame) < 6 or frame[-5:-4] != b"*":
        return FrameError("bad_checksum", offset, "no '*HH' checksum trailer before CRLF", frame)
    body, stated = frame[1:-5], frame[-4:-2]
    if not set(stated) <= _HEX:
        return FrameError("bad_checksum", offset, f"checksum {stated!r} is not two uppercase hex digits", frame)
    computed = checksum(body)
    if computed != int(stated, 16):
        detail = f"computed {computed:02X}, frame says {stated.decode()}"
        return FrameError("bad_checksum", offset, detail, frame)
    illegal = _ILLEGAL.search(body)
    if illegal is not None:
        index, byte = illegal.start(), body[illegal.start()]
        detail = f"illegal byte 0x{byte:02X} at stream offset {offset + 1 + index}"
        return FrameError("bad_field", offset, detail, frame)
    kind, *fields = body.decode("ascii").split(",")
    layout = LAYOUTS.get(kind)
    if layout is None:
        return FrameError("bad_field", offset, f"unknown frame type {kind!r}", frame)
    return _build(layout, kind, fields, offset, frame)


def _build(layout: Layout, kind: str, fields: list[str], offset: int, frame: bytes) -> FrameEvent:
    low, high = len(layout.required), len(layout.required) + len(layout.optional)
    if not low <= len(fields) <= high:
        expected = str(low) if low == high else f"{low}..{high}"
        detail = f"${kind} frame has {len(fields)} fields, expected {expected}"
        return FrameError("bad_field", offset, detail, frame)
    values: dict[str, object] = {spec.name: spec.omitted for spec in layout.optional}
    for position, (spec, text) in enumerate(zip(layout.required + layout.optional, fields), start=1):
        if not spec.pattern.fullmatch(text):
            detail = f"${kind} field {position} ({spec.name}) {text!r} does not match {spec.pattern.pattern}"
            return FrameError("bad_field", offset, detail, frame)
        try:
            values[spec.name] = spec.convert(text)
        except ValueError as exc:
            return FrameError("bad_field", offset, f"${kind} field {position} ({spec.name}) {text!r}: {exc}", frame)
    event: FrameEvent = layout.event(**values, offset=offset, raw=frame)
    return event
