"""The evidence part of an audit bundle: flags.jsonl, evidence.jsonl and the images (protocols.bundle_evidence)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims_api.core.jsonl import LazyJsonl
from lims_api.ingest.models import StoredEnvelope
from protocols.bundle_evidence import EVIDENCE_DIR, EVIDENCE_FILE, FLAGS_FILE

from .models import EvidenceFile, ResultEvidence, ResultFlag

EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg"}


def write_evidence_part(session: Session, target: Path, filters: list[Any]) -> dict[str, int]:
    """Write the flags and evidence of the envelopes matching ``filters`` (files only when there is something)."""
    with LazyJsonl(target / FLAGS_FILE) as flags:
        for f, gateway, seq in session.execute(
            select(ResultFlag, StoredEnvelope.gateway_id, StoredEnvelope.seq)
            .join(StoredEnvelope, StoredEnvelope.id == ResultFlag.envelope_id).where(*filters)
            .order_by(StoredEnvelope.gateway_id, StoredEnvelope.seq, ResultFlag.id).execution_options(yield_per=500)
        ):
            flags.write({"gateway": gateway, "seq": seq, "source": f.source, "code": f.code, "detail": f.detail,
                         "computed_at": f.computed_at.isoformat(timespec="milliseconds")})
    with LazyJsonl(target / EVIDENCE_FILE) as entries:
        images = _write_entries(session, target, filters, entries)
    return {"flags": flags.count, "evidence": entries.count, "images": images}


def _write_entries(session: Session, target: Path, filters: list[Any], entries: LazyJsonl) -> int:
    """Write evidence.jsonl lines and each image not yet written; return the number of images written."""
    images = 0
    for entry, gateway, seq, image in session.execute(
        select(ResultEvidence, StoredEnvelope.gateway_id, StoredEnvelope.seq, EvidenceFile)
        .join(StoredEnvelope, StoredEnvelope.id == ResultEvidence.envelope_id)
        .outerjoin(EvidenceFile, EvidenceFile.sha256 == ResultEvidence.sha256).where(*filters)
        .order_by(StoredEnvelope.gateway_id, StoredEnvelope.seq, ResultEvidence.id).execution_options(yield_per=50)
    ):
        file = None
        if image is not None:
            file = f"{EVIDENCE_DIR}{image.sha256}.{EXTENSIONS[image.media_type]}"
            path = target / file
            if not path.exists():
                path.parent.mkdir(exist_ok=True)
                path.write_bytes(image.content)
                images += 1
        entries.write({"gateway": gateway, "seq": seq, "kind": entry.kind, "sha256": entry.sha256,
                       "taken_at": entry.taken_at, "media_type": entry.media_type, "file": file})
    return images
