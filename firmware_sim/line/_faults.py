"""Wire faults the simulated line instrument can commit on any line."""

from __future__ import annotations

import random

from ._spec import LineSpec

FAULT_KINDS = ("bad_checksum", "garbage", "truncated")


class FaultError(ValueError):
    """An unknown fault kind was asked for, or one the profile cannot commit."""


def noise(rng: random.Random) -> bytes:
    """1-20 bytes of line noise, all ≥ 0x80: never a terminator, never part of an ASCII line."""
    return bytes(rng.randint(0x80, 0xFF) for _ in range(rng.randint(1, 20)))


def apply(kind: str, spec: LineSpec, line: bytes, rng: random.Random) -> tuple[bytes, bool]:
    """Bytes to write instead of ``line`` and whether the line itself is destroyed."""
    body = line[: len(line) - len(spec.terminator)]
    if kind == "bad_checksum":
        field = spec.checksum.get("field")
        match = spec.pattern.fullmatch(body.decode(spec.encoding))
        if not field or match is None:
            raise FaultError("bad_checksum needs a profile with a checksum")
        start, end = match.span(field)
        wrong = f"{int(match.group(field), 16) ^ rng.randint(1, 255):02X}".encode("ascii")
        return body[:start] + wrong + body[end:] + spec.terminator.encode("ascii"), True
    if kind == "truncated":
        return body[: rng.randrange(2, len(body) - 1)], True
    if kind == "garbage":
        return noise(rng) + line, False
    raise FaultError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
