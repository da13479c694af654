"""Receipts: everything needed to check one published result offline (pure).

A receipt (``kuaijian-receipt/1``) is one JSON object::

    {"format":"kuaijian-receipt/1",
     "envelope":"<the envelope's JCS text, exactly as signed and stored>",
     "gateway_key":{"gateway","kid","public_key","valid_from","revoked_at"},
     "inclusion":{"index":i,"size":n,"path":["…64 hex…", …]},
     "tree_head":{…signed tree head of size n…},
     "lims_key":{"kid","public_key"},
     "cosignatures":[{"kid","sig"}, …]}          (optional, witnesses)

``verify_receipt`` runs every check it can and reports each one, so a reader sees
what was checked and, on failure, which part failed and why.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import envelope as env
from . import treehead as th
from .errors import EnvelopeError
from .merkle import leaf_hash
from .merkle_proof import ProofError, verify_inclusion

FORMAT = "kuaijian-receipt/1"
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Check:
    """One verification step: its name, whether it held, and what was found."""

    name: str
    ok: bool
    detail: str


@dataclass
class ReceiptReport:
    """All checks run over a receipt, and the envelope they concern (when it parsed)."""

    checks: list[Check] = field(default_factory=list)
    envelope: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(name, ok, detail))
        return ok


def build_receipt(
    envelope_text: str,
    gateway_key: Mapping[str, Any],
    index: int,
    path: Sequence[bytes],
    tree_head: Mapping[str, Any],
    lims_key: Mapping[str, Any],
    cosignatures: Sequence[Mapping[str, str]] = (),
) -> dict[str, Any]:
    """Assemble a receipt for the envelope at log ``index`` under ``tree_head``."""
    receipt: dict[str, Any] = {
        "format": FORMAT,
        "envelope": envelope_text,
        "gateway_key": dict(gateway_key),
        "inclusion": {"index": index, "size": tree_head["size"], "path": [p.hex() for p in path]},
        "tree_head": dict(tree_head),
        "lims_key": {"kid": lims_key["kid"], "public_key": lims_key["public_key"]},
    }
    if cosignatures:
        receipt["cosignatures"] = [dict(c) for c in cosignatures]
    return receipt


def _public(entry: Any) -> bytes:
    raw = env.b64url_decode(entry["public_key"])
    if len(raw) != 32 or env.key_id(raw) != entry["kid"]:
        raise ValueError(f"kid {entry['kid']!r} is not the SHA-256 prefix of its 32-byte public key")
    return raw


def _check_envelope(receipt: dict[str, Any], report: ReceiptReport) -> bytes | None:
    text = receipt.get("envelope")
    if not isinstance(text, str):
        report.add("envelope", False, "the receipt holds no envelope text")
        return None
    try:
        envelope = json.loads(text)
        env.check_shape(envelope)
        canonical = env.canonical(envelope)
    except (json.JSONDecodeError, EnvelopeError) as exc:
        report.add("envelope", False, f"the envelope is not a valid signed envelope: {exc}")
        return None
    report.envelope = envelope
    if canonical != text.encode("utf-8"):
        report.add("envelope", False, "the envelope text is not in its canonical (JCS) form, so not as signed")
        return None
    digest = hashlib.sha256(canonical).digest()
    report.add("envelope", True, f"gateway {envelope['gateway']} seq {envelope['seq']}, hash {digest.hex()}")
    return digest


def _check_signature(receipt: dict[str, Any], report: ReceiptReport) -> None:
    envelope = report.envelope
    key: Any = receipt.get("gateway_key")  # any JSON value: the try below names what is wrong
    assert envelope is not None
    try:
        public = _public(key)
        if key["gateway"] != envelope["gateway"] or key["kid"] != envelope["kid"]:
            raise ValueError(f"the key is gateway {key['gateway']} kid {key['kid']}, "
                             f"the envelope names gateway {envelope['gateway']} kid {envelope['kid']}")
        env.verify_signature(envelope, public)
    except (KeyError, TypeError, ValueError, EnvelopeError) as exc:
        report.add("gateway_signature", False, f"instrument result signature: {exc}")
        return
    report.add("gateway_signature", True, f"signed by gateway {key['gateway']} key {key['kid']}")


def _check_inclusion(receipt: dict[str, Any], digest: bytes, report: ReceiptReport) -> None:
    proof: Any = receipt.get("inclusion")  # any JSON values: the try below names what is wrong
    head: Any = receipt.get("tree_head")
    try:
        index, size, hexes = proof["index"], proof["size"], proof["path"]
        if type(index) is not int or type(size) is not int or not all(_HEX64.match(h) for h in hexes):
            raise ValueError("index and size must be integers and path 64-hex strings")
        if size != head["size"]:
            raise ProofError(f"the proof is for tree size {size}, the tree head is size {head['size']}")
        verify_inclusion(leaf_hash(digest), index, size, [bytes.fromhex(h) for h in hexes],
                         bytes.fromhex(head["root"]))
    except (KeyError, TypeError, ValueError, ProofError) as exc:
        report.add("inclusion", False, f"the result is not proven to be in the log: {exc}")
        return
    report.add("inclusion", True, f"entry {index} of the log of {size}, root {head['root']}")


def _check_tree_head(receipt: dict[str, Any], lims_kid: str | None, report: ReceiptReport) -> None:
    head, key = receipt.get("tree_head"), receipt.get("lims_key")
    try:
        th.verify_tree_head(head, _public(key))  # type: ignore[arg-type]
        if lims_kid is not None and key["kid"] != lims_kid:  # type: ignore[index]
            raise th.TreeHeadError(f"signed by LIMS key {key['kid']}, not the expected {lims_kid}")  # type: ignore[index]
    except (KeyError, TypeError, ValueError, th.TreeHeadError) as exc:
        report.add("tree_head_signature", False, f"log checkpoint: {exc}")
        return
    report.add("tree_head_signature", True, f"tree head of size {head['size']} signed by LIMS key {head['kid']} "  # type: ignore[index]
               f"at {head['created_at']}")  # type: ignore[index]


def _check_witnesses(receipt: dict[str, Any], witnesses: Mapping[str, bytes], report: ReceiptReport) -> None:
    head = receipt.get("tree_head")
    signed = [c for c in receipt.get("cosignatures") or [] if isinstance(c, dict) and c.get("kid") in witnesses]
    if not signed:
        report.add("witness", False, f"no co-signature by a trusted witness ({', '.join(sorted(witnesses))})")
        return
    for cosignature in signed:
        try:
            th.verify_cosignature(head, cosignature, witnesses[cosignature["kid"]])  # type: ignore[arg-type]
        except th.TreeHeadError as exc:
            report.add("witness", False, str(exc))
            return
    report.add("witness", True, f"co-signed by witness {', '.join(c['kid'] for c in signed)}")


def verify_receipt(
    receipt: Any, lims_kid: str | None = None, witnesses: Mapping[str, bytes] | None = None
) -> ReceiptReport:
    """Check a receipt: envelope as signed, gateway signature, inclusion, tree head signature (and witnesses)."""
    report = ReceiptReport()
    if not isinstance(receipt, dict) or receipt.get("format") != FORMAT:
        report.add("format", False, f"not a {FORMAT} receipt")
        return report
    digest = _check_envelope(receipt, report)
    if digest is not None:
        _check_signature(receipt, report)
        _check_inclusion(receipt, digest, report)
    _check_tree_head(receipt, lims_kid, report)
    if witnesses:
        _check_witnesses(receipt, witnesses, report)
    return report
