"""Failed-login throttling per account and per client, checked before any password is hashed.

Within ``window_s`` seconds at most ``per_account`` failures for one username and ``per_client`` for one
client address are allowed; after that each try is refused (429) until the oldest failure leaves the
window. A successful login clears its account's failures. Counts live in this process (each worker
keeps its own); the number of names and addresses tracked is bounded, oldest forgotten first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_KEYS = 10_000


class LoginThrottle:
    """Sliding-window failure counts; ``retry_after`` says how long a name or client must wait."""

    def __init__(self, per_account: int, per_client: int, window_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = {"account": per_account, "client": per_client}
        self.window_s = window_s
        self.clock = clock
        self._lock = threading.Lock()
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()

    def retry_after(self, username: str, client: str) -> float | None:
        """Seconds until a try is allowed again, or ``None`` when it is allowed now."""
        now = self.clock()
        waits = []
        with self._lock:
            for kind, key in (("account", username), ("client", client)):
                times = self._recent((kind, key), now)
                if len(times) >= self.limits[kind]:
                    waits.append(times[0] + self.window_s - now)
        return max(waits) if waits else None

    def failed(self, username: str, client: str) -> None:
        now = self.clock()
        with self._lock:
            for key in (("account", username), ("client", client)):
                times = self._recent(key, now)
                times.append(now)
                self._failures[key] = times
                self._failures.move_to_end(key)
            while len(self._failures) > MAX_KEYS:
                self._failures.popitem(last=False)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(("account", username), None)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times
