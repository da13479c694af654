"""The Merkle-log part of an audit bundle (optional files) and receipts made from a bundle (pure).

- ``treehead.json``: ``{"tree_head": {…signed tree head…}, "cosignatures": [{"kid","sig"}, …]}``,
  the newest head when the bundle was written.
- ``inclusion.jsonl``: one line per exported envelope in that head,
  ``{"gateway","seq","index","size","path":["…64 hex…", …]}``.

A bundle with these files lets anyone prove each of its results against the signed
log head without asking the LIMS (``receipt_from_bundle``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import treehead as th
from .merkle import leaf_hash
from .merkle_proof import ProofError, verify_inclusion
from .receipt import build_receipt
from .treehead import LIMS_GATEWAY

if TYPE_CHECKING:
    from .bundle import KeyRecord, Report

TREE_HEAD_FILE = "treehead.json"
INCLUSION_FILE = "inclusion.jsonl"


def _lines(data: bytes) -> list[bytes]:
    return [line for line in data.split(b"\n") if line.strip()]


class BundleLogError(ValueError):
    """The bundle cannot give a receipt for the result asked for; the message says why."""


def parse_inclusion_lines(data: bytes) -> dict[tuple[str, int], dict[str, Any]]:
    """inclusion.jsonl indexed by (gateway, seq); malformed lines raise ``BundleLogError`` naming the line."""
    proofs: dict[tuple[str, int], dict[str, Any]] = {}
    for number, line in enumerate(_lines(data), start=1):
        try:
            doc = json.loads(line)
            proofs[(doc["gateway"], doc["seq"])] = doc
        except (ValueError, KeyError, TypeError) as exc:
            raise BundleLogError(f"{INCLUSION_FILE} line {number}: not a proof line ({exc})") from exc
    return proofs


def _lims_record(head: dict[str, Any], keys: dict[tuple[str, str], KeyRecord]) -> KeyRecord:
    record = keys.get((LIMS_GATEWAY, head["kid"]))
    if record is None:
        raise BundleLogError(f"LIMS key {head['kid']} of the tree head is not in keys.json")
    return record


def verify_bundle_log(files: dict[str, bytes], keys: dict[tuple[str, str], KeyRecord],
                      hashes: Mapping[tuple[str, int], str], report: Report) -> None:
    """Check the signed head and every inclusion line against the bundle's envelopes (``log`` faults)."""
    try:
        head = json.loads(files[TREE_HEAD_FILE])["tree_head"]
        th.verify_tree_head(head, _lims_record(head, keys).public_raw)
        proofs = parse_inclusion_lines(files.get(INCLUSION_FILE, b""))
    except (ValueError, KeyError, TypeError, th.TreeHeadError) as exc:
        report.add("log", TREE_HEAD_FILE, str(exc))
        return
    for (gateway, seq), proof in proofs.items():
        digest = hashes.get((gateway, seq))
        where = f"{INCLUSION_FILE} (gateway {gateway}, seq {seq})"
        if digest is None:
            report.add("log", where, "proves an envelope the bundle does not hold")
            continue
        try:
            if proof["size"] != head["size"]:
                raise ProofError(f"proof for tree size {proof['size']}, the head is size {head['size']}")
            verify_inclusion(leaf_hash(bytes.fromhex(digest)), proof["index"], proof["size"],
                             [bytes.fromhex(p) for p in proof["path"]], bytes.fromhex(head["root"]))
        except (ProofError, KeyError, TypeError, ValueError) as exc:
            report.add("log", where, str(exc))


def receipt_from_bundle(files: dict[str, bytes], keys: dict[tuple[str, str], KeyRecord], result_id: str
                        ) -> dict[str, Any]:
    """The receipt of ``result_id`` from a bundle's envelopes, keys, tree head and inclusion proofs."""
    if TREE_HEAD_FILE not in files:
        raise BundleLogError(f"the bundle has no {TREE_HEAD_FILE} (written by a LIMS without a signed log head)")
    for line in _lines(files["envelopes.jsonl"]):
        envelope = json.loads(line)
        if envelope.get("result", {}).get("id") == result_id:
            break
    else:
        raise BundleLogError(f"no envelope with result id {result_id!r} in the bundle")
    signed = json.loads(files[TREE_HEAD_FILE])
    proof = parse_inclusion_lines(files.get(INCLUSION_FILE, b"")).get((envelope["gateway"], envelope["seq"]))
    if proof is None:
        raise BundleLogError(f"result {result_id!r} is not covered by the bundle's tree head")
    gateway_key = keys.get((envelope["gateway"], envelope["kid"]))
    if gateway_key is None:
        raise BundleLogError(f"gateway key {envelope['kid']} of result {result_id!r} is not in keys.json")
    lims = _lims_record(signed["tree_head"], keys)
    return build_receipt(
        line.decode("utf-8"), _key_entry(files, gateway_key), proof["index"], [bytes.fromhex(p) for p in proof["path"]],
        signed["tree_head"], _key_entry(files, lims), signed.get("cosignatures") or [],
    )


def _key_entry(files: dict[str, bytes], record: KeyRecord) -> dict[str, Any]:
    """The keys.json entry of ``record`` as written (times unchanged)."""
    for entry in json.loads(files["keys.json"]):
        if entry.get("gateway") == record.gateway and entry.get("kid") == record.kid:
            return {m: entry.get(m) for m in ("gateway", "kid", "public_key", "valid_from", "revoked_at")}
    raise BundleLogError(f"key {record.kid} is not in keys.json")
