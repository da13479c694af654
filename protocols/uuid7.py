"""UUIDv7 result ids (RFC 9562 §5.7): Unix milliseconds, then random bits; time-ordered.

Ids made by one process strictly increase: a call within the millisecond of the previous one (or
after the clock stepped back) takes the previous millisecond + 1, as the ``uuid6`` package does.
"""

from __future__ import annotations

import os
import time

_last_ms = 0


def uuid7() -> str:
    """A new UUIDv7 in its canonical text form (lowercase, hyphenated)."""
    global _last_ms
    _last_ms = max(time.time_ns() // 1_000_000, _last_ms + 1)
    rand = int.from_bytes(os.urandom(10), "big")  # 80 bits: 12 for rand_a, 62 for rand_b
    value = ((_last_ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | (rand >> 62 & 0xFFF) << 64
             | 0b10 << 62 | rand & (1 << 62) - 1)
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
