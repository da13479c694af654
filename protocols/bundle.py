"""Offline verification of an audit export bundle (wire contract §3).

Pure: callers read the files and pass their bytes; the verifier returns every
fault it finds, each naming the file, line, gateway and seq concerned.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import checkpoint as cp
from . import envelope as env
from .bundle_evidence import verify_bundle_evidence
from .bundle_log import TREE_HEAD_FILE, verify_bundle_log
from .errors import EnvelopeError
from .treehead import LIMS_GATEWAY

BUNDLE_FORMAT = "kuaijian-bundle/1"
FAULT_KINDS = (
    "manifest", "keys", "invalid_json", "schema", "unknown_key", "revoked_key",
    "bad_signature", "seq_gap", "broken_prev", "fork", "count_mismatch", "checkpoint", "log", "evidence", "flags",
)


@dataclass(frozen=True)
class Fault:
    """One reason the bundle fails verification."""

    kind: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.where}: {self.message}"


@dataclass(frozen=True)
class KeyRecord:
    """A gateway (or LIMS) public key from keys.json."""

    gateway: str
    kid: str
    public_raw: bytes
    valid_from: datetime | None
    revoked_at: datetime | None


@dataclass
class Report:
    """What verification found: envelope count, per-gateway last seq and faults."""

    envelopes: int = 0
    images: int = 0
    """Evidence images checked against their hashes."""
    gateways: dict[str, int] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults

    def add(self, kind: str, where: str, message: str) -> None:
        self.faults.append(Fault(kind, where, message))


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


def json_problem(exc: UnicodeDecodeError | json.JSONDecodeError) -> str:
    """Why bytes are not a JSON document, in words (with the position)."""
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
    return f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"


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


def _received_at(envelope: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(envelope["result"]["received_at"])
    except (KeyError, TypeError, ValueError):
        return None


def _check_key(envelope: dict[str, Any], keys: dict[tuple[str, str], KeyRecord], where: str, report: Report) -> None:
    record = keys.get((envelope["gateway"], envelope["kid"]))
    if record is None:
        report.add("unknown_key", where, f"kid {envelope['kid']} is not in keys.json for gateway {envelope['gateway']}")
        return
    received = _received_at(envelope)
    if record.revoked_at is not None and (received is None or received >= record.revoked_at):
        report.add("revoked_key", where, f"signed with kid {record.kid}, revoked at {record.revoked_at.isoformat()}")
        return
    try:
        env.verify_signature(envelope, record.public_raw)
    except EnvelopeError as exc:
        report.add("bad_signature", where, exc.message)


def starts_at_first(manifest: dict[str, Any]) -> bool:
    """True unless the manifest's range has a start date: the export then holds every gateway's
    envelopes from seq 1 (a missing or malformed range counts as complete, the strict reading)."""
    span = manifest.get("range")
    return not (isinstance(span, dict) and span.get("from") is not None)


class _ChainWalker:
    """Follows each gateway's envelopes in file order and reports gaps, forks and broken links.

    ``from_start``: the bundle claims every envelope from seq 1, so a chain starting later is a gap.
    """

    def __init__(self, report: Report, from_start: bool) -> None:
        self.report = report
        self.from_start = from_start
        self.last: dict[str, tuple[int, str]] = {}

    def step(self, envelope: dict[str, Any], digest: str, where: str) -> None:
        gateway, seq = envelope["gateway"], envelope["seq"]
        previous = self.last.get(gateway)
        self.last[gateway] = (seq, digest)
        self.report.gateways[gateway] = seq
        if previous is None:
            if self.from_start and seq > 1:
                self.report.add("seq_gap", where, f"seq 1..{seq - 1} missing: the manifest's range has no start "
                                f"date, so gateway {gateway}'s chain must begin at seq 1")
            return
        last_seq, last_hash = previous
        if seq == last_seq:
            if digest != last_hash:
                self.report.add("fork", where, f"a second, different envelope for seq {seq}")
            else:
                self.report.add("fork", where, f"seq {seq} appears twice")
        elif seq < last_seq:
            self.report.add("schema", where, f"out of order: seq {seq} after seq {last_seq}")
        elif seq > last_seq + 1:
            self.report.add("seq_gap", where, f"seq {last_seq + 1}..{seq - 1} missing before seq {seq}")
        elif envelope["prev"] != last_hash:
            self.report.add("broken_prev", where, f"prev does not equal the hash of seq {last_seq}")


def verify_envelopes(
    lines: list[bytes],
    keys: dict[tuple[str, str], KeyRecord],
    report: Report,
    hashes: dict[tuple[str, int], str] | None = None,
    *,
    from_start: bool = False,
) -> None:
    """Verify every envelope line: JSON, schema, key, signature, chain continuity.

    ``hashes``, when given, receives each envelope's hash by (gateway, seq) (first one wins);
    ``from_start``: each gateway's first envelope must be seq 1 (see ``starts_at_first``).
    """
    walker = _ChainWalker(report, from_start)
    for number, line in enumerate(lines, start=1):
        where = f"envelopes.jsonl line {number}"
        try:
            envelope = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            report.add("invalid_json", where, json_problem(exc))
            continue
        try:
            env.check_shape(envelope)
            digest = env.envelope_hash(envelope)
        except EnvelopeError as exc:
            report.add("schema", where, exc.message)
            continue
        where = f"{where} (gateway {envelope['gateway']}, seq {envelope['seq']})"
        report.envelopes += 1
        if hashes is not None:
            hashes.setdefault((envelope["gateway"], envelope["seq"]), digest)
        _check_key(envelope, keys, where, report)
        walker.step(envelope, digest, where)


def split_lines(data: bytes) -> list[bytes]:
    """Envelope lines of envelopes.jsonl (a final newline is optional, blank lines are ignored)."""
    return [line for line in data.split(b"\n") if line.strip()]


def _check_checkpoint(
    doc: dict[str, Any], keys: dict[tuple[str, str], KeyRecord], hashes: dict[tuple[str, int], str]
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
    covered = [((g, s), hashes.get((g, s))) for g, first, last in doc["ranges"] for s in range(first, last + 1)]
    missing = [where for where, digest in covered if digest is None]
    if missing:
        (gateway, seq) = missing[0]
        return (f"day {day}: {len(missing)} of {doc['count']} envelope(s) the checkpoint covers are not in the "
                f"bundle (first: gateway {gateway}, seq {seq})")
    root = cp.root_hex(digest for _, digest in covered if digest is not None)
    if root != doc["merkle_root"]:
        return f"day {day}: Merkle root {root} of the bundle's envelopes is not the signed {doc['merkle_root']}"
    return None


def verify_checkpoints(
    data: bytes, keys: dict[tuple[str, str], KeyRecord], hashes: dict[tuple[str, int], str], report: Report
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


def verify_bundle(manifest: bytes, keys: bytes, envelopes: bytes, checkpoints: bytes | None = None,
                  log: dict[str, bytes] | None = None, extra_images: dict[str, bytes] | None = None) -> Report:
    """Verify the three mandatory bundle files (and checkpoints.jsonl, the log and evidence files if given, and
    ``extra_images`` by name); list every fault."""
    report = Report()
    lines = split_lines(envelopes)
    parsed = check_manifest(manifest, len(lines), report)
    key_records = parse_keys(keys, report)
    hashes: dict[tuple[str, int], str] = {}
    verify_envelopes(lines, key_records, report, hashes, from_start=starts_at_first(parsed))
    if checkpoints is not None:
        verify_checkpoints(checkpoints, key_records, hashes, report)
    if log is not None and TREE_HEAD_FILE in log:
        verify_bundle_log(log, key_records, hashes, report)
    report.images = verify_bundle_evidence(log or {}, lines, report, extra_images)
    return report
