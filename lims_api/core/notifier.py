"""In-process change notifier: the ingest path (a worker thread) wakes the live pages' event streams.

Only wakes streams of the same process; each stream also re-reads the database every
``board_poll_s`` so results stored by other workers (or the MQTT bridge) still arrive.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ChangeNotifier:
    """Thread-safe fan-out of "something was stored" to asyncio waiters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def publish(self) -> None:
        """Wake every subscribed stream; callable from any thread."""
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop is closed: its stream is gone
                continue

    @contextmanager
    def subscribe(self) -> Iterator[asyncio.Event]:
        """An event set on each publish while the ``with`` block runs (inside a running loop)."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                self._waiters.discard(entry)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._waiters)
