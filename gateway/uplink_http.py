"""Upload pending envelopes to the LIMS over HTTP, as NDJSON batches, until the outbox is drained.

Protocol: ``POST {lims.url}/api/v1/ingest`` with one envelope per line; the LIMS
answers 200 with one ``results`` entry per line (``stored``, ``duplicate`` or
``rejected`` with a ``code``). See docs/configuration.md for the retry policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from typing import Any, NoReturn

from protocols.wire.answers import NOT_ENROLLED_CODES
from protocols.wire.paths import INGEST_PATH, NDJSON

from .config import LimsSection
from .http_client import HttpClient, HttpFailed, client_for
from .ingest_answer import AnswerRecorder, PassReport
from .outbox import Outbox, StoredEnvelope
from .uplink_base import UplinkStats, backoff_delay, wait_any

log = logging.getLogger("gateway.uplink")

__all__ = ["INGEST_PATH", "NOT_ENROLLED_CODES", "HttpUplink", "PassReport", "UploadFailed"]


class UploadFailed(Exception):
    """A batch could not be delivered now (network, 5xx, unexpected answer); retry with backoff."""


class HttpUplink:
    """Drains the outbox to the LIMS; ``wake()`` after each append, ``run()`` as a task."""

    def __init__(self, outbox: Outbox, lims: LimsSection, client: HttpClient | None = None) -> None:
        self.outbox = outbox
        self.lims = lims
        self._client = client or client_for(lims.url, timeout_s=lims.timeout_s)
        self._wake = asyncio.Event()
        self._batch_size = lims.batch_size
        self._failures = 0
        self._last_failure: str | None = None
        self._answers = AnswerRecorder(outbox)
        self._lock = asyncio.Lock()
        self.stats = UplinkStats()

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
            await wait_any(stop, self._wake)
            if stop.is_set():
                return
            self._wake.clear()
            try:
                report = await self.upload_pass()
            except (UploadFailed, sqlite3.Error) as exc:
                if isinstance(exc, sqlite3.Error):  # e.g. disk full while recording answers: they come again
                    self._outbox_failed(exc)
                await wait_any(stop, timeout=self.next_delay())
                self._wake.set()
                continue
            if report.not_enrolled:
                await wait_any(stop, timeout=self.lims.retry_max_s)
                self._wake.set()

    async def final_delivery(self, timeout: float) -> int:
        """One pass bounded by ``timeout`` seconds; what is left waits for the next start."""
        try:
            return (await asyncio.wait_for(self.upload_pass(), timeout)).delivered
        except TimeoutError:
            raise UploadFailed(f"no answer within {timeout:.1f} s") from None

    async def upload_pass(self) -> PassReport:
        """Send every envelope pending now, oldest first, in batches; raise UploadFailed to back off."""
        async with self._lock:
            report = PassReport()
            after_seq = 0
            self.stats.state = "uploading"
            while batch := self.outbox.pending(self._batch_size, after_seq=after_seq):
                answered = await self._send(batch, report)
                if answered is not None:
                    after_seq = answered
            self.stats.state = "not_enrolled" if report.not_enrolled else "idle"
            return report

    def next_delay(self) -> float:
        """Backoff before the next try: full jitter over an exponentially growing window."""
        return backoff_delay(self._failures, self.lims.retry_min_s, self.lims.retry_max_s)

    async def _send(self, batch: list[StoredEnvelope], report: PassReport) -> int | None:
        """POST ``batch``; the last seq answered, or None if the LIMS found it too large (batch size halved).

        A LIMS that stopped early (too many rejected lines) answers a prefix; the rest stays pending.
        """
        body = "".join(f"{stored.text}\n" for stored in batch).encode("utf-8")
        try:
            response = await self._client.post(
                f"{self.lims.url}{INGEST_PATH}", content=body, headers={"content-type": NDJSON}
            )
        except HttpFailed as exc:
            self._failed(batch, str(exc))
        if response.status == 413:
            return self._too_large(batch, report)
        if response.status != 200:
            self._failed(batch, f"HTTP {response.status}: {response.text[:200]}")
        try:
            entries = _entries_by_line(response.json(), len(batch))
        except ValueError as exc:
            self._failed(batch, f"unexpected answer from the LIMS: {exc}")
        self._recovered()
        self._apply(batch[:len(entries)], entries, report)
        return batch[len(entries) - 1].seq

    def _too_large(self, batch: list[StoredEnvelope], report: PassReport) -> int | None:
        """Halve the batch size (kept for this uplink's life); a lone envelope too large is rejected."""
        if len(batch) > 1:
            self._batch_size = max(1, len(batch) // 2)
            log.info("LIMS answered 413, halving the batch", extra={"batch_size": self._batch_size})
            return None
        error = "payload_too_large: the LIMS refuses an envelope of this size (HTTP 413)"
        log.error("LIMS rejected an envelope", extra={"seq": batch[0].seq, "error": error})
        self.outbox.mark_rejected(batch[0].seq, error)
        report.rejected += 1
        self.stats.count(0, 1, time.time())
        return batch[0].seq

    def _apply(self, batch: list[StoredEnvelope], entries: list[dict[str, Any]], report: PassReport) -> None:
        """Mark each envelope delivered, rejected, or (not enrolled) still pending."""
        before = (report.delivered, report.rejected)
        self._answers.apply(zip(batch, entries, strict=True), report)
        self.stats.count(report.delivered - before[0], report.rejected - before[1], time.time())

    def _failed(self, batch: list[StoredEnvelope], error: str) -> NoReturn:
        """Record a transient failure (logged once per outage) and raise UploadFailed."""
        self._failures += 1
        self.stats.state, self.stats.last_error = "failing", error
        with contextlib.suppress(sqlite3.Error):  # a full disk must not hide the upload's own failure
            self.outbox.note_failed_attempt([stored.seq for stored in batch], error)
        if self._last_failure is None:
            log.warning("LIMS upload failing, retrying with backoff", extra={"error": error, "url": self.lims.url})
        self._last_failure = error
        raise UploadFailed(error)

    def _outbox_failed(self, exc: sqlite3.Error) -> None:
        """The outbox could not record an upload's outcome; the envelopes stay pending and are re-sent."""
        self._failures += 1
        error = f"outbox: {type(exc).__name__}: {exc}"
        if self._last_failure is None:
            log.warning("cannot record uploads in the outbox, retrying with backoff", extra={"error": error})
        self._last_failure = self.stats.last_error = error

    def _recovered(self) -> None:
        if self._last_failure is not None:
            log.info("LIMS upload working again", extra={"failed_attempts": self._failures})
        self._failures = 0
        self._last_failure = None
        self.stats.last_error = None


def _entries_by_line(answer: Any, count: int) -> list[dict[str, Any]]:
    """The LIMS's per-line entries in line order; ValueError unless there is exactly one per answered line.

    Every line is answered, or, when the LIMS ``stopped`` early, lines 1..``after_line``.
    """
    results = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(results, list):
        raise ValueError("no 'results' list")
    stopped = answer.get("stopped")
    after_line = stopped.get("after_line") if isinstance(stopped, dict) else None
    answered = after_line if type(after_line) is int and 1 <= after_line < count else count
    by_line = {entry.get("line"): entry for entry in results if isinstance(entry, dict)}
    missing = [line for line in range(1, answered + 1) if line not in by_line]
    if missing or len(results) != answered:
        raise ValueError(f"{len(results)} result(s) for {answered} line(s); missing lines {missing[:5]}")
    return [by_line[line] for line in range(1, answered + 1)]
