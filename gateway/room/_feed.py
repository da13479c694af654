"""Wakes the page's event streams when a result is stored; the outbox stays the source of truth."""

from __future__ import annotations

import asyncio

from ..outbox import StoredEnvelope


class ResultFeed:
    """A broadcast "something changed" signal for every open event stream (one loop only)."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()
        self.closed = False
        self.last_seq = 0

    def stored(self, envelope: StoredEnvelope) -> None:
        """The sink's ``on_stored``: wake every waiting stream."""
        self.last_seq = max(self.last_seq, envelope.seq)
        self._wake()

    def changed(self) -> None:
        """Labels were queued or withdrawn: wake the streams so other tablets see it."""
        self._wake()

    def close(self) -> None:
        """End every stream (server shutdown)."""
        self.closed = True
        self._wake()

    async def wait(self, timeout: float) -> None:
        """Return at the next change, at close, or after ``timeout`` seconds (a heartbeat)."""
        if self.closed:
            return
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except TimeoutError:
            pass

    def _wake(self) -> None:
        current, self._changed = self._changed, asyncio.Event()
        current.set()
