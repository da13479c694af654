"""Upload kept snapshots to the LIMS (``PUT /api/v1/evidence/<sha256>``) once their envelopes are there.

The LIMS takes an image only when its SHA-256 matches and a stored envelope names it, so the
gateway's signature on the envelope is what authorises the upload. 409 means "no stored
envelope names it yet": tried again next round, unless the outbox holds no envelope naming it
(an orphan: moved aside, never sent). Another 4xx (the file no longer matches its name) moves it
aside too; 5xx and network errors are retried.
"""

from __future__ import annotations

import asyncio
import logging

from protocols.wire.paths import evidence_path

from .evidence_store import EvidenceStore
from .http_client import HttpClient, HttpFailed
from .outbox import Outbox
from .uplink_base import wait_any

log = logging.getLogger("gateway.evidence")

MEDIA_TYPES = {".jpg": "image/jpeg", ".png": "image/png"}


class EvidenceUploader:
    """Sends pending images every ``interval_s`` (or sooner when woken); use from the daemon's loop."""

    def __init__(self, store: EvidenceStore, outbox: Outbox, lims_url: str, client: HttpClient, *,
                 interval_s: float = 2.0) -> None:
        self.store = store
        self.outbox = outbox
        self.lims_url = lims_url
        self.client = client
        self.interval_s = interval_s
        self.uploaded = 0
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Upload rounds until ``stop``."""
        while not stop.is_set():
            self._wake.clear()
            await self.upload_round()
            await wait_any(stop, self._wake, timeout=self.interval_s)

    async def upload_round(self) -> int:
        """Try every pending image once; returns how many the LIMS now holds."""
        done = 0
        for path in self.store.pending():
            sha256 = path.stem
            try:
                answer = await self.client.put(self.lims_url + evidence_path(sha256), content=path.read_bytes(),
                                               headers={"Content-Type": MEDIA_TYPES[path.suffix]})
            except HttpFailed as exc:
                log.warning("evidence upload failed; will retry", extra={"sha256": sha256, "error": str(exc)})
                return done
            if answer.status in (200, 201):
                self.store.move(path, "sent")
                self.uploaded += 1
                done += 1
            elif answer.status == 409:
                if not self._named_in_outbox(sha256):
                    log.warning("snapshot named by no envelope; not uploaded", extra={"sha256": sha256})
                    self.store.move(path, "orphaned")
            elif answer.status < 500:
                log.error("LIMS refused a snapshot for good; moved aside",
                          extra={"sha256": sha256, "status": answer.status, "answer": answer.text[:200]})
                self.store.move(path, "orphaned")
        return done

    def _named_in_outbox(self, sha256: str) -> bool:
        rows = self.outbox.query("SELECT 1 FROM envelopes WHERE instr(envelope, ?) > 0 LIMIT 1", (sha256,))
        return bool(rows)
