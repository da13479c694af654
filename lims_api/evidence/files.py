"""Camera images uploaded by gateways: kept only when their hash matches and a stored result names them."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import EvidenceFile, ResultEvidence

MAGIC = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))
Outcome = Literal["stored", "already_stored"]


class EvidenceRefused(Exception):
    """The upload is not kept: ``status`` is the HTTP answer, the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def media_type_of(data: bytes) -> str | None:
    """``image/jpeg`` or ``image/png`` from the leading bytes, else None."""
    return next((media for magic, media in MAGIC if data.startswith(magic)), None)


def keep_upload(session: Session, sha256: str, data: bytes, now: datetime) -> Outcome:
    """Check and store one image; the caller commits. Raises ``EvidenceRefused`` (422, 409)."""
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise EvidenceRefused(422, f"body hashes to {digest}, not to {sha256}")
    media_type = media_type_of(data)
    if media_type is None:
        raise EvidenceRefused(422, f"body starts {data[:8].hex()}: not a JPEG or PNG image")
    if session.scalar(select(ResultEvidence.id).where(ResultEvidence.sha256 == sha256).limit(1)) is None:
        raise EvidenceRefused(409, f"no stored result names evidence {sha256}; send its envelope first")
    if session.get(EvidenceFile, sha256) is not None:
        return "already_stored"
    session.add(EvidenceFile(sha256=sha256, media_type=media_type, size=len(data), content=data, received_at=now))
    return "stored"
