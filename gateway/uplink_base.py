"""What every uplink (HTTP, MQTT) offers the daemon, and the numbers it keeps for status and metrics."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Literal, Protocol

UplinkState = Literal["starting", "idle", "uploading", "failing", "not_enrolled", "connected", "disconnected",
                      "stopped"]


@dataclass
class UplinkStats:
    """Live uplink figures, read by the status file writer and the /metrics collector."""

    state: UplinkState = "starting"
    last_error: str | None = None
    delivered_total: int = 0
    rejected_total: int = 0
    last_upload_at: float | None = None
    """Unix time of the last envelope the LIMS acknowledged (stored or duplicate)."""

    def count(self, delivered: int, rejected: int, now: float) -> None:
        """Add one batch's outcome."""
        self.delivered_total += delivered
        self.rejected_total += rejected
        if delivered:
            self.last_upload_at = now


class Uplink(Protocol):
    """Moves pending envelopes from the outbox to the LIMS."""

    stats: UplinkStats

    def wake(self) -> None:
        """New envelopes were committed: send them soon."""

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; survive LIMS/broker outages with backoff."""

    async def final_delivery(self, timeout: float) -> int:
        """After ``run`` returned: one bounded last try; returns how many were delivered."""

    async def aclose(self) -> None:
        """Release connections."""


def backoff_delay(failures: int, low: float, high: float) -> float:
    """Full jitter over an exponentially growing window: uniform(low, min(high, low * 2^(failures-1)))."""
    return random.uniform(low, min(high, low * 2 ** min(max(0, failures - 1), 30)))


async def wait_any(*events: asyncio.Event, timeout: float | None = None) -> None:
    """Return when any of ``events`` is set or ``timeout`` seconds have passed."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
