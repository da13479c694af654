"""Fault injection for the simulated reader: which reply goes wrong, and how its bytes are spoiled."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

REPLY_FAULTS = ("noise", "bad_crc", "slow", "absent", "disconnect")
"""Faults drawn per reply: garbage before the frame, corrupted CRC (RTU only), a reply later than
the host's timeout, no reply, half a frame then the link drops."""
INSTRUMENT_FAULTS = ("duplicate", "clock_skew")
"""Faults of the instrument itself: re-presenting an acked result, a clock off by ``skew``."""
ALL_FAULTS = REPLY_FAULTS + INSTRUMENT_FAULTS


@dataclass
class FaultPlan:
    """Decides, reply by reply, which fault (if any) to inject.

    ``script`` faults are used first, one per reply (``None`` = a clean reply); then each reply
    draws a fault from ``kinds`` with probability ``rate``.
    """

    kinds: frozenset[str] = frozenset()
    rate: float = 0.0
    seed: int = 0
    script: deque[str | None] = field(default_factory=deque)
    slow_s: float = 2.0
    """How late a ``slow`` reply comes (choose it above the host's timeout)."""

    def __post_init__(self) -> None:
        unknown = (set(self.kinds) | {s for s in self.script if s}) - set(ALL_FAULTS)
        if unknown:
            raise ValueError(f"unknown fault(s) {sorted(unknown)}; known: {', '.join(ALL_FAULTS)}")
        self._rng = random.Random(self.seed)
        self._reply_kinds = sorted(set(self.kinds) & set(REPLY_FAULTS))

    @classmethod
    def scripted(cls, faults: Iterable[str | None], **kw: object) -> FaultPlan:
        """A plan that spoils the next replies exactly as listed, then none."""
        return cls(script=deque(faults), **kw)  # type: ignore[arg-type]

    def next_reply_fault(self) -> str | None:
        """The fault for the reply about to be sent."""
        if self.script:
            return self.script.popleft()
        if self._reply_kinds and self._rng.random() < self.rate:
            return self._rng.choice(self._reply_kinds)
        return None

    def noise(self) -> bytes:
        """A few garbage bytes, as a noisy RS-485 line delivers them."""
        return bytes(self._rng.randrange(256) for _ in range(self._rng.randint(2, 6)))


def spoil(frame: bytes, fault: str | None, plan: FaultPlan, *, has_crc: bool) -> bytes:
    """The bytes actually sent for ``frame`` under ``fault`` (``slow``/``absent``/``disconnect`` are the caller's)."""
    if fault == "noise":
        return plan.noise() + frame
    if fault == "bad_crc" and has_crc:
        return frame[:-1] + bytes([frame[-1] ^ 0x5A])
    return frame
