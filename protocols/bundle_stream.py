"""envelopes.jsonl checked line by line: each line alone (``check_line``, any order, any process),
then in file order (``EnvelopeStream``: numbering, chain continuity, hashes for the later checks).

Pure: the caller reads the lines and may run ``check_line`` wherever it likes; only the results'
order matters, so memory stays at one line plus one hash per envelope.
"""

from __future__ import annotations

import json
import sys
from collections import ChainMap
from collections.abc import Container, Iterable, Iterator, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from . import envelope as env
from .bundle_report import KeyRecord, Report, json_problem
from .errors import EnvelopeError

Keys = dict[tuple[str, str], KeyRecord]


class LineCheck(NamedTuple):
    """What one envelope line shows on its own, without its neighbours."""

    fault: tuple[str, str] | None
    """(kind, message) when the line is not an envelope (``invalid_json``/``schema``); the chain skips it."""
    gateway: str = ""
    seq: int = 0
    prev: str = ""
    digest: str = ""
    key_fault: tuple[str, str] | None = None
    """(kind, message) of ``unknown_key``/``revoked_key``/``bad_signature``."""
    exported: tuple[Any, Any] | None = None
    """(gateway, seq) as written, for the evidence and flags checks (also for a line failing the schema)."""
    evidence: tuple[str, ...] = ()
    """sha256 of every evidence entry the line's result names."""


def _received_at(envelope: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(envelope["result"]["received_at"])
    except (KeyError, TypeError, ValueError):
        return None


@lru_cache(maxsize=64)
def _public_key(raw: bytes) -> Ed25519PublicKey | None:
    """The key object of a keys.json public key (None when it is no Ed25519 point), built once per process."""
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        return None


def _key_fault(envelope: dict[str, Any], signing: bytes, keys: Keys) -> tuple[str, str] | None:
    record = keys.get((envelope["gateway"], envelope["kid"]))
    if record is None:
        return "unknown_key", f"kid {envelope['kid']} is not in keys.json for gateway {envelope['gateway']}"
    received = _received_at(envelope)
    if record.revoked_at is not None and (received is None or received >= record.revoked_at):
        return "revoked_key", f"signed with kid {record.kid}, revoked at {record.revoked_at.isoformat()}"
    public = _public_key(record.public_raw)
    if public is None:
        return "bad_signature", f"signature of seq {envelope['seq']} does not verify"
    try:
        env.verify_signed_bytes(envelope, signing, public)
    except EnvelopeError as exc:
        return "bad_signature", exc.message
    return None


def _evidence_facts(envelope: Any) -> tuple[tuple[Any, Any] | None, tuple[str, ...]]:
    """(gateway, seq) and the evidence hashes named, from any parsed line (None/() where absent)."""
    try:
        key = (envelope["gateway"], envelope["seq"])
        hash(key)
    except (KeyError, TypeError, IndexError):
        return None, ()
    try:
        entries = envelope["result"].get("evidence") or []
    except (KeyError, TypeError, AttributeError):
        return key, ()
    if not isinstance(entries, list):
        return key, ()
    return key, tuple(e["sha256"] for e in entries if isinstance(e, dict) and isinstance(e.get("sha256"), str))


def check_line(line: bytes, keys: Keys) -> LineCheck:
    """JSON, schema, key and signature of one envelope line (one JCS pass gives the signed bytes and the hash;
    a keys.json record's kid is its key's, so the signature is checked against it directly)."""
    try:
        envelope = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return LineCheck(("invalid_json", json_problem(exc)))
    exported, evidence = _evidence_facts(envelope)
    try:
        env.check_shape(envelope)
        signing, digest = env.canonical_forms(envelope)
    except EnvelopeError as exc:
        return LineCheck(("schema", exc.message), exported=exported, evidence=evidence)
    return LineCheck(None, envelope["gateway"], envelope["seq"], envelope["prev"], digest,
                     _key_fault(envelope, signing, keys), exported, evidence)


def check_lines(lines: list[bytes], keys: Keys) -> list[LineCheck]:
    """``check_line`` of each line, in order (one unit of work for a pool)."""
    return [check_line(line, keys) for line in lines]


class ChainHashes(Mapping[tuple[str, int], str]):
    """Envelope hashes (hex) by (gateway, seq), the first one kept: 32 bytes per envelope for each gateway's
    consecutive run of seqs, a plain dict entry for any other."""

    def __init__(self) -> None:
        self._runs: dict[str, tuple[int, bytearray]] = {}
        self._other: dict[tuple[str, int], str] = {}

    def _run_index(self, gateway: str, seq: int) -> tuple[bytearray, int] | None:
        run = self._runs.get(gateway)
        if run is None or not run[0] <= seq < run[0] + len(run[1]) // 32:
            return None
        return run[1], (seq - run[0]) * 32

    def __getitem__(self, key: tuple[str, int]) -> str:
        found = self._run_index(*key)
        if found is None:
            return self._other[key]
        digests, at = found
        return digests[at:at + 32].hex()

    def __contains__(self, key: object) -> bool:
        return (isinstance(key, tuple) and self._run_index(*key) is not None) or key in self._other

    def __iter__(self) -> Iterator[tuple[str, int]]:
        for gateway, (first, digests) in self._runs.items():
            yield from ((gateway, first + i) for i in range(len(digests) // 32))
        yield from self._other

    def __len__(self) -> int:
        return sum(len(d) // 32 for _, d in self._runs.values()) + len(self._other)

    def setdefault(self, key: tuple[str, int], digest: str) -> str:
        """Keep ``digest`` for ``key`` unless one is kept already; the kept one."""
        if key in self:
            return self[key]
        gateway, seq = key
        run = self._runs.get(gateway)
        if run is None:
            self._runs[gateway] = (seq, bytearray.fromhex(digest))
        elif seq == run[0] + len(run[1]) // 32:
            run[1].extend(bytes.fromhex(digest))
        else:
            self._other[key] = digest
        return digest


class EnvelopeStream:
    """Takes each line's ``LineCheck`` in file order and reports gaps, forks and broken links.

    ``from_start``: the bundle claims every envelope from seq 1, so a chain starting later is a gap.
    After the last line: ``count`` (non-blank lines), ``hashes`` by (gateway, seq) (first one wins),
    ``named`` (sha256 -> envelopes naming it) and ``exported`` (every (gateway, seq) written).
    """

    def __init__(self, report: Report, from_start: bool) -> None:
        self.report = report
        self.from_start = from_start
        self.count = 0
        self.last: dict[str, tuple[int, str]] = {}
        self.hashes = ChainHashes()
        self.named: dict[str, set[tuple[str, int]]] = {}
        self._unchained: set[tuple[Any, Any]] = set()

    @property
    def exported(self) -> Container[tuple[Any, Any]]:
        """Every (gateway, seq) written, looked up in place (no set of a million pairs)."""
        return ChainMap[tuple[Any, Any], object](self.hashes, dict.fromkeys(self._unchained))  # type: ignore[arg-type]

    def feed(self, check: LineCheck) -> None:
        """The next non-blank line's check."""
        self.count += 1
        for sha in check.evidence:
            self.named.setdefault(sha, set()).add(check.exported)  # type: ignore[arg-type]
        if check.fault is not None:
            if check.exported is not None:
                self._unchained.add(check.exported)
            self.report.add(check.fault[0], f"envelopes.jsonl line {self.count}", check.fault[1])
            return
        gateway, seq = sys.intern(check.gateway), check.seq
        self.report.envelopes += 1
        self.hashes.setdefault((gateway, seq), check.digest)
        if check.key_fault is not None:
            self.report.add(check.key_fault[0], self._where(gateway, seq), check.key_fault[1])
        problem = self._step(gateway, seq, check.prev, check.digest)
        if problem is not None:
            self.report.add(problem[0], self._where(gateway, seq), problem[1])

    def _where(self, gateway: str, seq: int) -> str:
        return f"envelopes.jsonl line {self.count} (gateway {gateway}, seq {seq})"

    def _step(self, gateway: str, seq: int, prev: str, digest: str) -> tuple[str, str] | None:
        """Move ``gateway``'s chain on to ``seq``; (kind, message) when the step breaks it."""
        previous = self.last.get(gateway)
        self.last[gateway] = (seq, digest)
        self.report.gateways[gateway] = seq
        if previous is None:
            if self.from_start and seq > 1:
                return ("seq_gap", f"seq 1..{seq - 1} missing: the manifest's range has no start "
                        f"date, so gateway {gateway}'s chain must begin at seq 1")
            return None
        last_seq, last_hash = previous
        if seq == last_seq + 1:
            return None if prev == last_hash else ("broken_prev", f"prev does not equal the hash of seq {last_seq}")
        if seq == last_seq:
            return "fork", (f"a second, different envelope for seq {seq}" if digest != last_hash
                            else f"seq {seq} appears twice")
        if seq < last_seq:
            return "schema", f"out of order: seq {seq} after seq {last_seq}"
        return "seq_gap", f"seq {last_seq + 1}..{seq - 1} missing before seq {seq}"


def split_lines(data: bytes) -> list[bytes]:
    """Envelope lines of envelopes.jsonl (a final newline is optional, blank lines are ignored)."""
    return [line for line in data.split(b"\n") if line.strip()]


def stream_lines(chunks: Iterable[bytes]) -> Iterable[bytes]:
    """The non-blank lines of envelopes.jsonl read as byte lines (e.g. a binary file object)."""
    return (line.rstrip(b"\n") for line in chunks if line.strip())
