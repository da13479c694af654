"""Rate limits for log lines that anonymous or misbehaving clients can trigger (rejections, refusals).

Per logger and message template, at most ``burst`` warnings (and lower) pass in each window of
``window_s`` seconds; the rest are counted and the next line that passes says how many were
suppressed. Errors always pass. The keys are message templates, so the state stays small.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

BURST = 20
WINDOW_S = 10.0


class RateLimitFilter(logging.Filter):
    """Drops warnings beyond ``burst`` per ``window_s`` and template; reports the count on the next one."""

    def __init__(self, burst: int = BURST, window_s: float = WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.burst = burst
        self.window_s = window_s
        self.clock = clock
        self._lock = threading.Lock()
        self._state: dict[tuple[str, str], tuple[float, int, int]] = {}
        """(logger, template) → (window start, passed in window, suppressed since the last pass)."""

    def reset(self) -> None:
        """Forget every window and count (tests start from a clean state)."""
        with self._lock:
            self._state.clear()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            return True
        key = (record.name, str(record.msg))
        now = self.clock()
        with self._lock:
            start, passed, suppressed = self._state.get(key, (now, 0, 0))
            if now - start >= self.window_s:
                start, passed = now, 0
            if passed >= self.burst:
                self._state[key] = (start, passed, suppressed + 1)
                return False
            self._state[key] = (start, passed + 1, 0)
        if suppressed:
            _note_suppressed(record, suppressed)
        return True


def _note_suppressed(record: logging.LogRecord, count: int) -> None:
    record.suppressed = count
    if isinstance(record.args, tuple):
        record.msg = f"{record.msg} (%d similar lines suppressed before this one)"
        record.args = (*record.args, count)


SHARED = RateLimitFilter()
"""The one filter the LIMS's noisy loggers share."""


def rate_limited(logger: logging.Logger) -> logging.Logger:
    """``logger`` with the shared rate limit attached (once)."""
    if SHARED not in logger.filters:
        logger.addFilter(SHARED)
    return logger
