"""A bound on password hashing running at once: argon2id takes tens of MiB and a CPU core per call."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import HTTPException, status


class PasswordSlots:
    """At most ``size`` password checks or hashes at once; a caller waits up to ``wait_s`` for a slot."""

    def __init__(self, size: int, wait_s: float) -> None:
        self._semaphore = threading.BoundedSemaphore(size)
        self.size = size
        self.wait_s = wait_s

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot for the block; 503 with ``Retry-After`` when none frees up within ``wait_s``."""
        if not self._semaphore.acquire(timeout=self.wait_s):
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                f"all {self.size} password checking slots are busy (password_hash_concurrency); retry shortly",
                headers={"Retry-After": "2"},
            )
        try:
            yield
        finally:
            self._semaphore.release()
