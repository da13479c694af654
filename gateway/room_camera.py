"""The sink's camera step: take the snapshot, keep it, name it in the result — or flag why not."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from protocols.plausibility import CAMERA_FAILED
from protocols.result import TestResult

from .camera import Snapshot, take_snapshot
from .config import CameraSection
from .evidence_store import EvidenceStore, with_evidence
from .plausibility import add_flags

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("gateway.evidence")


@dataclass
class RoomCamera:
    """The room's camera, where its images are kept, and who uploads them."""

    section: CameraSection
    client: httpx.AsyncClient
    store: EvidenceStore
    clock: Callable[[], datetime]
    on_kept: Callable[[], None] = lambda: None

    async def attach(self, result: TestResult) -> tuple[TestResult, Snapshot | None]:
        """The result with its snapshot named in ``evidence`` (kept on disk), or flagged ``camera_failed``."""
        shot = await take_snapshot(self.client, self.section, self.clock)
        if not isinstance(shot, Snapshot):
            log.warning("camera gave no snapshot; result flagged and stored without one",
                        extra={"result_id": result.id, "reason": shot.reason, "detail": shot.detail,
                               "url": self.section.snapshot_url})
            return add_flags(result, [f"{CAMERA_FAILED}:{shot.reason}"]), None
        try:
            self.store.keep(shot)
        except OSError as exc:
            log.error("cannot keep the snapshot; result flagged and stored without one",
                      extra={"result_id": result.id, "error": str(exc)})
            return add_flags(result, [f"{CAMERA_FAILED}:not_kept"]), None
        return with_evidence(result, shot), shot
