"""The driver tests' sink: it stores each source key once, like the outbox, and lets a test await a condition."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from protocols.result import TestResult

TIMEOUT = 10.0
"""Seconds a driver test waits for a condition before failing."""


class Collector:
    """A sink that stores each source key once (like the outbox) and lets tests await a condition."""

    def __init__(self) -> None:
        self.results: list[TestResult] = []
        self.keys: list[str] = []
        self.calls: list[str] = []
        self._changed = asyncio.Condition()

    async def __call__(self, result: TestResult, source_key: str | None) -> bool:
        async with self._changed:
            assert source_key is not None
            self.calls.append(source_key)
            stored = source_key not in self.keys
            if stored:
                self.keys.append(source_key)
                self.results.append(result)
            self._changed.notify_all()
            return stored

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), TIMEOUT)
