"""Camera snapshots on the gateway's disk: kept before the result that names them commits, then uploaded.

Layout beside the outbox: ``evidence/pending/<sha256>.<ext>`` until the LIMS holds the image,
then ``evidence/sent/``; an image no envelope names (its reading turned out to be stored
already, or a crash came between snapshot and commit) goes to ``evidence/orphaned/``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from msgspec.structs import replace

from protocols.result import TestResult

from .camera import Snapshot

EVIDENCE_KIND = "snapshot"


def evidence_dir(outbox_path: Path) -> Path:
    """The evidence folder of the outbox at ``outbox_path``."""
    return outbox_path.parent / "evidence"


def with_evidence(result: TestResult, snapshot: Snapshot) -> TestResult:
    """``result`` with ``evidence: [{kind, sha256, taken_at, media_type}]`` added (a new signed member)."""
    entry: dict[str, Any] = {"kind": EVIDENCE_KIND, "sha256": snapshot.sha256, "taken_at": snapshot.taken_at,
                             "media_type": snapshot.media_type}
    return replace(result, extra={**result.extra, "evidence": [*result.extra.get("evidence", []), entry]})


class EvidenceStore:
    """The folders of one gateway's snapshots; file names are the images' SHA-256."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        for state in ("pending", "sent", "orphaned"):
            (folder / state).mkdir(parents=True, exist_ok=True)

    def keep(self, snapshot: Snapshot) -> Path:
        """Write the image durably (temp file, fsync, rename, fsync folder) into ``pending``."""
        path = self.folder / "pending" / f"{snapshot.sha256}.{snapshot.extension}"
        scratch = path.with_suffix(".tmp")
        with scratch.open("wb") as out:
            out.write(snapshot.data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(scratch, path)
        _fsync_dir(path.parent)
        return path

    def pending(self, limit: int = 100) -> list[Path]:
        """Up to ``limit`` images not yet uploaded, oldest first."""
        files = [p for p in (self.folder / "pending").iterdir() if p.suffix in (".jpg", ".png")]
        return sorted(files, key=lambda p: p.stat().st_mtime)[:limit]

    def move(self, path: Path, state: str) -> None:
        """Move a pending image to ``sent`` or ``orphaned``."""
        os.replace(path, self.folder / state / path.name)

    def discard(self, snapshot: Snapshot) -> None:
        """Drop a kept image whose result was not stored (its reading was stored already)."""
        (self.folder / "pending" / f"{snapshot.sha256}.{snapshot.extension}").unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
