"""Host → instrument frames of ack mode (doc §10.1): pure functions that return the bytes to write."""

from __future__ import annotations

from ._layout import checksum
from .errors import EnzymeUsageError

MAX_RUN = 999_999
MAX_CHANNEL = 12


def _frame(body: str) -> bytes:
    encoded = body.encode("ascii")
    return b"$" + encoded + b"*" + f"{checksum(encoded):02X}".encode("ascii") + b"\r\n"


def ack_frame(run: int, channel: int) -> bytes:
    """``$K,<run>,<channel>*HH\\r\\n``: channel ``channel`` of run ``run`` is durably stored."""
    if isinstance(run, bool) or not isinstance(run, int) or not 1 <= run <= MAX_RUN:
        raise EnzymeUsageError(f"ack run {run!r} must be an int in 1..{MAX_RUN}")
    if isinstance(channel, bool) or not isinstance(channel, int) or not 1 <= channel <= MAX_CHANNEL:
        raise EnzymeUsageError(f"ack channel {channel!r} must be an int in 1..{MAX_CHANNEL}")
    return _frame(f"K,{run},{channel}")


def query_frame() -> bytes:
    """``$Q*51\\r\\n``: ask the instrument to re-send every unacknowledged run now."""
    return _frame("Q")
