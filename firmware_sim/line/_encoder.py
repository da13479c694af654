"""Write one line from a profile's ``[simulator].template``, with the checksum the profile describes."""

from __future__ import annotations

from typing import Any

from ._spec import LineSpec, LineSpecError


def checksum(kind: str, data: bytes) -> str:
    """``xor8``: XOR of the bytes; ``sum8``: their sum mod 256; two uppercase hex digits."""
    value = 0
    for byte in data:
        value = value ^ byte if kind == "xor8" else (value + byte) & 0xFF
    return f"{value:02X}"


def _covered(spec: LineSpec, line: str, match: Any) -> tuple[int, int]:
    rule = spec.checksum
    if "span_start" in rule:
        return match.start(rule["span_start"]), match.end(rule["span_end"])
    after = rule.get("after", "")
    start = line.find(after) + len(after) if after else 0
    return start, line.rfind(rule["before"])


def encode_line(spec: LineSpec, values: dict[str, Any]) -> bytes:
    """The template filled with ``values`` (placeholders are the pattern's group names), check-summed, terminated."""
    kind = spec.checksum.get("kind", "none")
    line = spec.template.format(**values, checksum="00")
    if kind != "none":
        match = spec.pattern.fullmatch(line)
        if match is None:
            raise LineSpecError(f"the template wrote {line!r}, which its own pattern does not match")
        start, end = _covered(spec, line, match)
        field = spec.checksum["field"]
        stated = checksum(kind, line[start:end].encode(spec.encoding))
        line = line[: match.start(field)] + stated + line[match.end(field):]
    return (line + spec.terminator).encode(spec.encoding)
