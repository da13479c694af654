"""One instrument link's up/down state: one log line per change, reported to the gateway, backoff.

A link that stays away is retried with a growing wait, and its outage is logged once when it
starts and once when it ends (with its length and the number of attempts), never per attempt.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

_MIN_GROWN_S = 0.1
"""A backoff that starts at 0 s (retry at once) still grows: 0, 0.1, 0.2, ... s."""

LinkListener = Callable[[bool, str | None], None]
"""``listener(up, reason)``: the link came up (reason None) or is down (reason says why)."""


def ignore_link(up: bool, reason: str | None) -> None:
    """The default listener: nobody watches the link."""


@dataclass
class Backoff:
    """Waits between attempts: ``first_s``, doubling up to ``max_s``; ``reset()`` after a success."""

    first_s: float
    max_s: float
    _next: float = field(init=False)

    def __post_init__(self) -> None:
        self.max_s = max(self.max_s, self.first_s)
        self._next = self.first_s

    def reset(self) -> None:
        self._next = self.first_s

    async def wait(self) -> None:
        """Sleep the current wait, then double it (up to ``max_s``)."""
        delay, self._next = self._next, min(max(self._next * 2, _MIN_GROWN_S), self.max_s)
        await asyncio.sleep(delay)


class LinkWatch:
    """State of one link (unknown, up, down); logs and notifies only when it changes.

    ``fields`` are added to every log record (structured logs); ``event`` names the change; an
    outage is logged at ``level``.
    """

    def __init__(self, logger: logging.Logger, label: str, listener: Callable[[], LinkListener],
                 fields: Mapping[str, object] | None = None, level: int = logging.WARNING) -> None:
        self.logger = logger
        self.level = level
        self.label = label
        self._listener = listener
        self._fields = dict(fields or {})
        self.up: bool | None = None
        self.reason: str | None = None
        self.failed_attempts = 0
        self._down_since: float | None = None

    def connected(self, detail: str, event: str = "link_up") -> None:
        """The link works: log ``detail`` if it was down or unknown, and tell the listener."""
        if self.up is not True:
            extra = self._extra(event)
            if self._down_since is not None:
                extra.update(down_s=round(self._elapsed(), 3), failed_attempts=self.failed_attempts)
                detail += f" (after {self._elapsed():.1f} s down, {self.failed_attempts} failed attempt(s))"
            self.logger.info("%s: %s", self.label, detail, extra=extra)
        self.up, self.reason, self._down_since, self.failed_attempts = True, None, None, 0
        self._listener()(True, None)

    def lost(self, reason: str, event: str = "link_down", retry_max_s: float | None = None) -> None:
        """The link failed (``reason``): log it once per outage, count the attempt, tell the listener."""
        self.failed_attempts += 1
        if self.up is not False:
            retry = "" if retry_max_s is None else f"; reconnecting with backoff (at most {retry_max_s:g} s apart)"
            self.logger.log(self.level, "%s: %s%s", self.label, reason, retry, extra=self._extra(event, reason=reason))
            self._down_since = asyncio.get_running_loop().time()
        self.up, self.reason = False, reason
        self._listener()(False, reason)

    def _elapsed(self) -> float:
        return 0.0 if self._down_since is None else asyncio.get_running_loop().time() - self._down_since

    def _extra(self, event: str, **more: object) -> dict[str, object]:
        return {**self._fields, "event": event, **more}
