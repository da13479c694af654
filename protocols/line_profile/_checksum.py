"""Line checksums: which characters they cover and their two-hex-digit value."""

from __future__ import annotations

import re

from ._schema import Checksum


def checksum_value(kind: str, data: bytes) -> str:
    """``xor8`` (XOR of the bytes) or ``sum8`` (sum mod 256) as two uppercase hex digits."""
    if kind == "xor8":
        value = 0
        for byte in data:
            value ^= byte
    elif kind == "sum8":
        value = sum(data) & 0xFF
    else:
        raise ValueError(f"no checksum kind {kind!r}")
    return f"{value:02X}"


def checksum_span(rule: Checksum, match: re.Match[str]) -> tuple[int, int] | None:
    """Start and end of the covered characters in the matched line, or None when the delimiters are missing."""
    if rule.span_start is not None and rule.span_end is not None:
        start, end = match.start(rule.span_start), match.end(rule.span_end)
        return (start, end) if 0 <= start <= end else None
    line, origin = match.string, match.start()
    assert rule.before
    start = origin
    if rule.after:
        found = line.find(rule.after, origin)
        if found < 0:
            return None
        start = found + len(rule.after)
    end = line.rfind(rule.before, start, match.end())
    return (start, end) if end >= 0 else None


def checksum_problem(rule: Checksum, match: re.Match[str], encoding: str) -> str | None:
    """Why the line's checksum is wrong, or None when it is right (or the profile has none)."""
    if rule.kind == "none":
        return None
    assert rule.field is not None
    span = checksum_span(rule, match)
    if span is None:
        return f"checksum span delimiters ({rule.after!r}, {rule.before!r}) not found"
    covered = match.string[span[0]:span[1]].encode(encoding, "surrogateescape")
    stated, computed = match.group(rule.field), checksum_value(rule.kind, covered)
    if stated != computed:
        return f"{rule.kind} over characters {span[0]}..{span[1] - 1} is {computed}, line says {stated!r}"
    return None
