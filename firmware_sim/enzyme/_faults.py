"""Wire faults the simulated instrument can commit on any frame."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ._runs import FrameTag

FAULT_KINDS = ("bad_checksum", "truncated", "garbage")


class FaultError(ValueError):
    """An unknown fault kind was asked for."""


@dataclass(frozen=True)
class Fault:
    """Commit ``kind`` on the run frame ``frame`` (``"H"``, ``"C"``, ``"E"`` or a channel number)."""

    kind: str
    frame: FrameTag

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise FaultError(f"unknown fault {self.kind!r}; known: {', '.join(FAULT_KINDS)}")


def noise(rng: random.Random) -> bytes:
    """1-20 bytes of line noise; never ``$``, CR or LF, so it stays 'garbage' and nothing else."""
    return bytes(b for b in rng.randbytes(rng.randint(1, 20)) if b not in b"$\r\n") or b"\x00"


def apply(kind: str, frame: bytes, rng: random.Random) -> tuple[bytes, bool]:
    """Bytes to write instead of ``frame`` and whether the frame itself is destroyed."""
    if kind == "bad_checksum":
        stated = int(frame[-4:-2], 16)
        wrong = stated ^ rng.randint(1, 255)
        return frame[:-4] + f"{wrong:02X}".encode("ascii") + b"\r\n", True
    if kind == "truncated":
        return frame[: rng.randrange(2, len(frame) - 1)], True
    if kind == "garbage":
        return noise(rng) + frame, False
    raise FaultError(f"unknown fault {kind!r}")
