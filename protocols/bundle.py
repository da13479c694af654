"""Offline verification of an audit export bundle (wire contract §3).

Pure: callers read the files and pass their bytes; the verifier returns every
fault it finds, each naming the file, line, gateway and seq concerned.
"""

from __future__ import annotations

import json
from datetime import datetime
from collections.abc import Iterator, Mapping
from typing import Any

from . import checkpoint as cp
from . import envelope as env
from .bundle_evidence import verify_bundle_evidence
from .bundle_report import Fault, KeyRecord, Report, json_problem
from .bundle_stream import EnvelopeStream, check_line, split_lines
from .bundle_log import TREE_HEAD_FILE, verify_bundle_log
from .treehead import LIMS_GATEWAY

__all__ = ["BUNDLE_FORMAT", "FAULT_KINDS", "BundleVerifier", "Fault", "KeyRecord", "LIMS_GATEWAY", "Report", "check_line",
           "json_problem", "parse_keys", "split_lines", "verify_bundle"]

BUNDLE_FORMAT = "kuaijian-bundle/1"
FAULT_KINDS = (
    "manifest", "keys", "invalid_json", "schema", "unknown_key", "revoked_key",
    "bad_signature", "seq_gap", "broken_prev", "fork", "count_mismatch", "checkpoint", "log", "evidence", "flags",
)


def _parse_time(value: Any, where: str, report: Report) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        report.add("keys", where, f"not an RFC 3339 time: {value!r}")
        return None
    if parsed.tzinfo is None:
        report.add("keys", where, f"time without offset: {value!r}")
        return None
    return parsed


def _key_entry_problem(entry: Any) -> str | None:
    """What is wrong with one keys.json entry's identity members, or None."""
    if not isinstance(entry, dict):
        return "must be a JSON object with gateway, kid and public_key"
    for member in ("gateway", "kid", "public_key"):
        if not isinstance(entry.get(member), str):
            return f"member {member!r} is missing or not a string"
    try:
        env.b64url_decode(entry["public_key"])
    except (TypeError, ValueError):
        return "public_key is not base64url text"
    return None


def parse_keys(data: bytes, report: Report) -> dict[tuple[str, str], KeyRecord]:
    """Index keys.json by (gateway, kid); malformed entries become ``keys`` faults."""
    try:
        entries = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        report.add("keys", "keys.json", json_problem(exc))
        return {}
    if not isinstance(entries, list):
        report.add("keys", "keys.json", "must be a JSON list")
        return {}
    keys: dict[tuple[str, str], KeyRecord] = {}
    for index, entry in enumerate(entries):
        where = f"keys.json[{index}]"
        problem = _key_entry_problem(entry)
        if problem is not None:
            report.add("keys", where, problem)
            continue
        public_raw = env.b64url_decode(entry["public_key"])
        gateway, kid = entry["gateway"], entry["kid"]
        if len(public_raw) != 32 or env.key_id(public_raw) != kid:
            report.add("keys", where, f"kid {kid!r} is not the SHA-256 prefix of its 32-byte public key")
            continue
        keys[(gateway, kid)] = KeyRecord(
            gateway, kid, public_raw,
            _parse_time(entry.get("valid_from"), where + ".valid_from", report),
            _parse_time(entry.get("revoked_at"), where + ".revoked_at", report),
        )
    return keys


def check_manifest(data: bytes, envelope_count: int, report: Report) -> dict[str, Any]:
    """Check manifest.json's format and its envelope count against the lines found."""
    try:
        manifest = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        report.add("manifest", "manifest.json", json_problem(exc))
        return {}
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        report.add("manifest", "manifest.json", f"format must be {BUNDLE_FORMAT!r}")
        return manifest if isinstance(manifest, dict) else {}
    for member in ("created_at", "range", "sites", "counts"):
        if member not in manifest:
            report.add("manifest", "manifest.json", f"missing member {member!r}")
    declared = (manifest.get("counts") or {}).get("envelopes")
    if declared != envelope_count:
        report.add(
            "count_mismatch", "manifest.json",
            f"counts.envelopes is {declared!r} but envelopes.jsonl holds {envelope_count} envelope(s)",
        )
    return manifest


def starts_at_first(manifest: dict[str, Any]) -> bool:
    """True unless the manifest's range has a start date: the export then holds every gateway's
    envelopes from seq 1 (a missing or malformed range counts as complete, the strict reading)."""
    span = manifest.get("range")
    return not (isinstance(span, dict) and span.get("from") is not None)


def _covered(doc: dict[str, Any]) -> Iterator[tuple[str, int]]:
    """(gateway, seq) of every envelope a checkpoint covers, in its order."""
    return ((g, s) for g, first, last in doc["ranges"] for s in range(first, last + 1))


def _check_checkpoint(
    doc: dict[str, Any], keys: dict[tuple[str, str], KeyRecord], hashes: Mapping[tuple[str, int], str]
) -> str | None:
    """Why one checkpoint fails against the bundle's envelopes, or ``None`` when it holds."""
    day = doc["date"]
    record = keys.get((LIMS_GATEWAY, doc["kid"]))
    if record is None:
        return f"day {day}: LIMS key {doc['kid']} is not in keys.json (gateway {LIMS_GATEWAY!r})"
    try:
        cp.verify_checkpoint_signature(doc, record.public_raw)
    except cp.CheckpointError as exc:
        return f"day {day}: {exc}"
    absent = (where for where in _covered(doc) if where not in hashes)
    first = next(absent, None)
    if first is not None:
        gateway, seq = first
        return (f"day {day}: {1 + sum(1 for _ in absent)} of {doc['count']} envelope(s) the checkpoint covers are "
                f"not in the bundle (first: gateway {gateway}, seq {seq})")
    root = cp.root_hex(hashes[where] for where in _covered(doc))
    if root != doc["merkle_root"]:
        return f"day {day}: Merkle root {root} of the bundle's envelopes is not the signed {doc['merkle_root']}"
    return None


def verify_checkpoints(
    data: bytes, keys: dict[tuple[str, str], KeyRecord], hashes: Mapping[tuple[str, int], str], report: Report
) -> None:
    """Recompute each checkpoint's Merkle root from the bundle's envelopes of its day."""
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        where = f"checkpoints.jsonl line {number}"
        try:
            doc = cp.parse_checkpoint_line(line)
        except cp.CheckpointError as exc:
            report.add("checkpoint", where, str(exc))
            continue
        problem = _check_checkpoint(doc, keys, hashes)
        if problem is not None:
            report.add("checkpoint", f"{where} (day {doc['date']})", problem)


class BundleVerifier:
    """Verifies one bundle: built from manifest.json and keys.json, fed each envelope line's ``LineCheck``
    in file order, finished with the optional files; ``keys`` is what ``check_line`` needs."""

    def __init__(self, manifest: bytes, keys: bytes) -> None:
        self.report = Report()
        self._manifest = manifest
        self.keys = parse_keys(keys, self.report)
        parsed = check_manifest(manifest, 0, Report())
        self.stream = EnvelopeStream(self.report, from_start=starts_at_first(parsed))
        self.feed = self.stream.feed

    def finish(self, checkpoints: bytes | None = None, log: dict[str, bytes] | None = None,
               extra_images: dict[str, bytes] | None = None) -> Report:
        """Check the manifest's count, checkpoints.jsonl, the log and evidence files given; the report."""
        report, stream = self.report, self.stream
        manifest_faults = Report()
        check_manifest(self._manifest, stream.count, manifest_faults)
        report.faults[0:0] = manifest_faults.faults
        if checkpoints is not None:
            verify_checkpoints(checkpoints, self.keys, stream.hashes, report)
        if log is not None and TREE_HEAD_FILE in log:
            verify_bundle_log(log, self.keys, stream.hashes, report)
        report.images = verify_bundle_evidence(log or {}, stream.named, stream.exported, report, extra_images)
        return report


def verify_bundle(manifest: bytes, keys: bytes, envelopes: bytes, checkpoints: bytes | None = None,
                  log: dict[str, bytes] | None = None, extra_images: dict[str, bytes] | None = None) -> Report:
    """Verify the three mandatory bundle files (and checkpoints.jsonl, the log and evidence files if given, and
    ``extra_images`` by name); list every fault."""
    verifier = BundleVerifier(manifest, keys)
    for line in split_lines(envelopes):
        verifier.feed(check_line(line, verifier.keys))
    return verifier.finish(checkpoints, log, extra_images)
