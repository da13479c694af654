"""Upload pending envelopes to the LIMS over HTTP, as NDJSON batches, until the outbox is drained.

Protocol: ``POST {lims.url}/api/v1/ingest`` with one envelope per line; the LIMS
answers 200 with one ``results`` entry per line (``stored``, ``duplicate`` or
``rejected`` with a ``code``). See docs/configuration.md for the retry policy.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx

from .config import LimsSection
from .outbox import Outbox, StoredEnvelope

log = logging.getLogger("gateway.uplink")

INGEST_PATH = "/api/v1/ingest"
NOT_ENROLLED_CODES = frozenset({"unknown_gateway", "unknown_kid", "revoked_kid"})
"""Rejections that say "this gateway/key is not (or no longer) enrolled": keep, retry later."""


class UploadFailed(Exception):
    """A batch could not be delivered now (network, 5xx, unexpected answer); retry with backoff."""


@dataclass
class PassReport:
    """What one pass over the outbox did."""

    delivered: int = 0
    rejected: int = 0
    not_enrolled: int = 0


class HttpUplink:
    """Drains the outbox to the LIMS; ``wake()`` after each append, ``run()`` as a task."""

    def __init__(self, outbox: Outbox, lims: LimsSection, client: httpx.AsyncClient | None = None) -> None:
        self.outbox = outbox
        self.lims = lims
        self._client = client or httpx.AsyncClient(timeout=lims.timeout_s)
        self._wake = asyncio.Event()
        self._batch_size = lims.batch_size
        self._failures = 0
        self._last_failure: str | None = None
        self._not_enrolled_logged = False
        self._lock = asyncio.Lock()

    def wake(self) -> None:
        """Ask for an upload soon (new envelopes were committed)."""
        self._wake.set()

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()

    async def run(self, stop: asyncio.Event) -> None:
        """Upload whenever woken, backing off while the LIMS is unreachable, until ``stop`` is set."""
        self._wake.set()  # drain what a previous run left pending
        while not stop.is_set():
            await _wait_any(stop, self._wake)
            if stop.is_set():
                return
            self._wake.clear()
            try:
                report = await self.upload_pass()
            except UploadFailed:
                await _wait_any(stop, timeout=self.next_delay())
                self._wake.set()
                continue
            if report.not_enrolled:
                await _wait_any(stop, timeout=self.lims.retry_max_s)
                self._wake.set()

    async def upload_pass(self) -> PassReport:
        """Send every envelope pending now, oldest first, in batches; raise UploadFailed to back off."""
        async with self._lock:
            report = PassReport()
            after_seq = 0
            while batch := self.outbox.pending(self._batch_size, after_seq=after_seq):
                if await self._send(batch, report):
                    after_seq = batch[-1].seq
            return report

    def next_delay(self) -> float:
        """Backoff before the next try: full jitter over an exponentially growing window."""
        low, high = self.lims.retry_min_s, self.lims.retry_max_s
        return random.uniform(low, min(high, low * 2 ** min(max(0, self._failures - 1), 30)))

    async def _send(self, batch: list[StoredEnvelope], report: PassReport) -> bool:
        """POST ``batch``; False if the LIMS found it too large (the batch size is halved then)."""
        body = "".join(f"{stored.text}\n" for stored in batch).encode("utf-8")
        try:
            response = await self._client.post(
                f"{self.lims.url}{INGEST_PATH}", content=body, headers={"content-type": "application/x-ndjson"}
            )
        except httpx.HTTPError as exc:
            self._failed(batch, f"{type(exc).__name__}: {exc}")
        if response.status_code == 413:
            return self._too_large(batch, report)
        if response.status_code != 200:
            self._failed(batch, f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            entries = _entries_by_line(response.json(), len(batch))
        except ValueError as exc:
            self._failed(batch, f"unexpected answer from the LIMS: {exc}")
        self._recovered()
        self._apply(batch, entries, report)
        return True

    def _too_large(self, batch: list[StoredEnvelope], report: PassReport) -> bool:
        """Halve the batch size (kept for this uplink's life); a lone envelope too large is rejected."""
        if len(batch) > 1:
            self._batch_size = max(1, len(batch) // 2)
            log.info("LIMS answered 413, halving the batch", extra={"batch_size": self._batch_size})
            return False
        error = "payload_too_large: the LIMS refuses an envelope of this size (HTTP 413)"
        log.error("LIMS rejected an envelope", extra={"seq": batch[0].seq, "error": error})
        self.outbox.mark_rejected(batch[0].seq, error)
        report.rejected += 1
        return True

    def _apply(self, batch: list[StoredEnvelope], entries: list[dict[str, Any]], report: PassReport) -> None:
        """Mark each envelope delivered, rejected, or (not enrolled) still pending."""
        delivered: list[int] = []
        not_enrolled: list[int] = []
        not_enrolled_code = ""
        for stored, entry in zip(batch, entries, strict=True):
            status, code = entry.get("status"), entry.get("code")
            if status in ("stored", "duplicate") and entry.get("hash") in (None, stored.hash):
                delivered.append(stored.seq)
            elif status == "rejected" and code in NOT_ENROLLED_CODES:
                not_enrolled.append(stored.seq)
                not_enrolled_code = str(code)
            else:
                error = _rejection_text(entry, stored)
                log.error("LIMS rejected an envelope", extra={"seq": stored.seq, "error": error})
                self.outbox.mark_rejected(stored.seq, error)
                report.rejected += 1
        self.outbox.mark_delivered(delivered)
        report.delivered += len(delivered)
        if not_enrolled:
            error = f"{not_enrolled_code}: this gateway or key is not enrolled at the LIMS"
            self.outbox.note_failed_attempt(not_enrolled, error)
            report.not_enrolled += len(not_enrolled)
            if not self._not_enrolled_logged:
                log.warning("envelopes stay pending: %s", error, extra={"gateway": self.outbox.gateway_id})
            self._not_enrolled_logged = True
        elif delivered:
            self._not_enrolled_logged = False

    def _failed(self, batch: list[StoredEnvelope], error: str) -> NoReturn:
        """Record a transient failure (logged once per outage) and raise UploadFailed."""
        self._failures += 1
        self.outbox.note_failed_attempt([stored.seq for stored in batch], error)
        if self._last_failure is None:
            log.warning("LIMS upload failing, retrying with backoff", extra={"error": error, "url": self.lims.url})
        self._last_failure = error
        raise UploadFailed(error)

    def _recovered(self) -> None:
        if self._last_failure is not None:
            log.info("LIMS upload working again", extra={"failed_attempts": self._failures})
        self._failures = 0
        self._last_failure = None


def _entries_by_line(answer: Any, count: int) -> list[dict[str, Any]]:
    """The LIMS's per-line entries in line order; ValueError unless there is exactly one per line."""
    results = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(results, list):
        raise ValueError("no 'results' list")
    by_line = {entry.get("line"): entry for entry in results if isinstance(entry, dict)}
    missing = [line for line in range(1, count + 1) if line not in by_line]
    if missing or len(results) != count:
        raise ValueError(f"{len(results)} result(s) for {count} line(s); missing lines {missing[:5]}")
    return [by_line[line] for line in range(1, count + 1)]


def _rejection_text(entry: dict[str, Any], stored: StoredEnvelope) -> str:
    if entry.get("status") in ("stored", "duplicate"):
        return f"hash_mismatch: LIMS holds seq {stored.seq} with hash {entry.get('hash')}, ours is {stored.hash}"
    return f"{entry.get('code') or 'unknown'}: {entry.get('error') or entry.get('status')}"


async def _wait_any(*events: asyncio.Event, timeout: float | None = None) -> None:
    """Return when any of ``events`` is set or ``timeout`` seconds have passed."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
