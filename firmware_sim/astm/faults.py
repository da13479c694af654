"""Fault injection plan of the simulated instrument: which fault hits which message and frame."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from .encoder import record

FAULTS = ("bad_checksum", "noise", "stall", "duplicate", "lost_eot", "clock_skew", "oversize")
"""bad_checksum: one frame goes out with a wrong checksum first (NAK, resend); noise: junk bytes
(no link control bytes) before a frame; stall: pause mid-message longer than the host's receive
timeout (the transfer fails and is retried later); duplicate: a frame is sent again after its
ACK (as if the ACK was lost); lost_eot: no EOT after the message; clock_skew: the instrument clock
is hours off; oversize: padding C records (``oversize_bytes`` in all, each cut into an ETB and an
ETX frame) before the L record, to go over the host's message cap (refused with NAKs, the
transfer fails and the message goes again later, clean)."""
PAD_RECORD_BYTES = 300
"""Text of one padding record (CR included): an ETB frame of 240 bytes and an ETX frame of 60."""
_CONTROL = frozenset(b"\x02\x03\x04\x05\x06\x0a\x0d\x15\x17")
NOISE_BYTES = bytes(b for b in range(256) if b not in _CONTROL)


@dataclass(frozen=True)
class MessageFaults:
    """The faults of one transfer: a kind and the frame index it hits (None = no fault)."""

    kind: str | None = None
    frame: int = 0

    def hits(self, kind: str, frame: int) -> bool:
        """True when fault ``kind`` applies to frame ``frame``."""
        return self.kind == kind and self.frame == frame


def parse_faults(text: str) -> tuple[str, ...]:
    """``"bad_checksum,noise"`` -> names; unknown names raise ValueError listing the known ones."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in FAULTS]
    if unknown:
        raise ValueError(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(FAULTS)}")
    return names


def pick(rng: random.Random, faults: tuple[str, ...], rate: float) -> str | None:
    """The fault kind of the next message (None = a clean message)."""
    if not faults or rng.random() >= rate:
        return None
    return rng.choice(faults)


def place(rng: random.Random, kind: str | None, frames: int) -> MessageFaults:
    """Put fault ``kind`` on a random frame (never frame 0 for stalls, so the host is mid-message)."""
    if kind is None:
        return MessageFaults()
    return MessageFaults(kind, rng.randrange(1, frames) if frames > 1 else 0)


def skew(rng: random.Random, kind: str | None) -> timedelta:
    """The instrument clock's offset for this message."""
    return timedelta(hours=rng.choice((-5, 3, 26))) if kind == "clock_skew" else timedelta(0)


def noise(rng: random.Random) -> bytes:
    """A short burst of line noise."""
    return bytes(rng.choice(NOISE_BYTES) for _ in range(rng.randint(1, 12)))


def corrupt(frame: bytes) -> bytes:
    """The frame with its first checksum digit changed."""
    digit = frame[-4:-3]
    return frame[:-4] + (b"0" if digit != b"0" else b"1") + frame[-3:]


def oversize(records: tuple[str, ...], total: int) -> tuple[str, ...]:
    """``records`` with padding C records of about ``total`` bytes inserted before the last (L) one."""
    pads = []
    for number in range(1, max(1, -(-total // PAD_RECORD_BYTES)) + 1):
        head = record("C", {2: str(number), 3: "I", 4: "", 5: "G"})
        pads.append(record("C", {2: str(number), 3: "I", 4: "P" * (PAD_RECORD_BYTES - len(head) - 1), 5: "G"}))
    return (*records[:-1], *pads, records[-1])
