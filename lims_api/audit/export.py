"""Audit export bundle (contract §3): manifest.json, keys.json, envelopes.jsonl as received, checkpoints.jsonl;
the optional flags.jsonl, evidence.jsonl and evidence images (docs/evidence.md)."""

from __future__ import annotations

import json
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lims_api.core.errors import ExportError
from lims_api.core.models import utc_now
from lims_api.evidence.export import write_evidence_part
from lims_api.ingest.models import Gateway, GatewayKey, StoredEnvelope

from . import audit_log
from .export_checkpoints import exportable_checkpoints, lims_key_entries
from .export_log import write_log_files

BUNDLE_FORMAT = "kuaijian-bundle/1"


@contextmanager
def _session(engine_or_session: Engine | Session) -> Iterator[Session]:
    if isinstance(engine_or_session, Session):
        yield engine_or_session
    else:
        with Session(engine_or_session) as session:
            yield session


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="milliseconds")


def _day(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_envelopes(session: Session, path: Path, filters: list[Any]) -> tuple[int, set[str], set[str]]:
    """Write raw envelope lines ordered by gateway, seq, streamed from the database (a server-side cursor where
    the driver has one); return (count, gateways, sites)."""
    query = (select(StoredEnvelope.raw_text, StoredEnvelope.gateway_id, StoredEnvelope.site_id).where(*filters)
             .order_by(StoredEnvelope.gateway_id, StoredEnvelope.seq))
    count, gateways, sites = 0, set(), set()
    with path.open("wb") as out:
        for raw_text, gateway, site in session.execute(query.execution_options(yield_per=1000)):
            out.write(raw_text.encode("utf-8") + b"\n")
            count += 1
            gateways.add(gateway)
            sites.add(site)
    return count, gateways, sites


def _keys(session: Session, gateways: set[str], site: str | None) -> list[dict[str, Any]]:
    """Keys of the exported gateways plus those of the selected site (all gateways without a site)."""
    site_gateways = select(Gateway.id) if site is None else select(Gateway.id).where(Gateway.site_id == site)
    wanted = gateways | set(session.scalars(site_gateways))
    keys = session.scalars(
        select(GatewayKey)
        .where(GatewayKey.gateway_id.in_(sorted(wanted)))
        .order_by(GatewayKey.gateway_id, GatewayKey.valid_from, GatewayKey.kid)
    )
    return [
        {
            "gateway": k.gateway_id,
            "kid": k.kid,
            "public_key": k.public_key,
            "valid_from": _iso(k.valid_from),
            "revoked_at": _iso(k.revoked_at),
        }
        for k in keys
    ]


def _write_bundle(
    session: Session, target: Path, date_from: date | None, date_to: date | None, site: str | None
) -> int:
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise ExportError(f"export directory {target} is not empty")
    filters: list[Any] = []
    if date_from is not None:
        filters.append(StoredEnvelope.tested_date >= date_from)
    if date_to is not None:
        filters.append(StoredEnvelope.tested_date <= date_to)
    if site is not None:
        filters.append(StoredEnvelope.site_id == site)
    count, gateways, sites = _write_envelopes(session, target / "envelopes.jsonl", filters)
    checkpoints = exportable_checkpoints(session, filters)
    if checkpoints:
        (target / "checkpoints.jsonl").write_text("".join(line + "\n" for line in checkpoints), encoding="utf-8")
    head = write_log_files(session, target, filters)
    signed = checkpoints + ([head] if head is not None else [])
    _write_json(target / "keys.json", _keys(session, gateways, site) + lims_key_entries(session, signed))
    evidence = write_evidence_part(session, target, filters)
    manifest = {
        "format": BUNDLE_FORMAT,
        "created_at": _iso(utc_now()),
        "range": {"from": _day(date_from), "to": _day(date_to)},
        "sites": [site] if site is not None else sorted(sites),
        "counts": {"envelopes": count},
    }
    _write_json(target / "manifest.json", manifest)
    audit_log.append(session, "system:export", "export", f"bundle:{target.name}",
                     {"range": manifest["range"], "site": site, "envelopes": count, "checkpoints": len(checkpoints),
                      **evidence})
    session.commit()
    return count


def export_bundle(
    engine_or_session: Engine | Session,
    out_dir: Path | str,
    date_from: date | None = None,
    date_to: date | None = None,
    site: str | None = None,
    *,
    as_tar: bool = False,
) -> int:
    """Write the bundle for envelopes whose local test date is in [from, to] (and of ``site``).

    Returns the number of envelopes. ``as_tar`` writes ``<out_dir>.tar.gz`` (one top-level
    directory named like ``out_dir``) instead of the directory.
    """
    if date_from is not None and date_to is not None and date_from > date_to:
        raise ExportError(f"range is empty: from {date_from} is after to {date_to}")
    out = Path(out_dir)
    with _session(engine_or_session) as session:
        if not as_tar:
            return _write_bundle(session, out, date_from, date_to, site)
        archive = out.with_name(out.name + ".tar.gz")
        if archive.exists():
            raise ExportError(f"archive {archive} already exists")
        archive.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=archive.parent) as scratch:
            staged = Path(scratch) / out.name
            count = _write_bundle(session, staged, date_from, date_to, site)
            with tarfile.open(archive, "w:gz") as tar:
                tar.add(staged, arcname=out.name)
        return count
