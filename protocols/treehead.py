"""Signed tree heads of the LIMS's Merkle log, and witness co-signatures (pure).

The log holds every stored envelope's raw 32-byte hash, in reception order, as the
leaf data of an RFC 9162 tree. A tree head (JCS-signed without ``sig`` by the LIMS key)::

    {"v":1,"size":N,"root":"…64 hex…","created_at":"RFC 3339","kid":"…16 hex…","sig":"…"}

A witness (e.g. a regulator) that checked consistency with the last head it saw
co-signs the whole signed head: ``{"kid","sig"}`` with ``sig`` = Ed25519 over the JCS
bytes of the head, ``sig`` included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from . import envelope as env
from .errors import RemoteProtocolError

VERSION = 1
LIMS_GATEWAY = "lims"
"""keys.json ``gateway`` under which the LIMS publishes its signing key (checkpoints, tree heads)."""
MEMBERS = frozenset({"v", "size", "root", "created_at", "kid", "sig"})
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class TreeHeadError(RemoteProtocolError):
    """A tree head or co-signature is malformed or does not verify."""


def sign_document(unsigned: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """``unsigned`` plus ``sig``: Ed25519 over its JCS bytes (``kid`` must already be in it)."""
    return {**unsigned, "sig": env.b64url_encode(key.sign(env.canonical(unsigned)))}


def verify_ed25519(public_raw: bytes, sig: Any, message: bytes) -> bool:
    """Whether base64url ``sig`` is a valid Ed25519 signature of ``message``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(env.b64url_decode(sig), message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def build_tree_head(size: int, root: bytes, created_at: str, key: Ed25519PrivateKey) -> dict[str, Any]:
    """The signed head of the tree of ``size`` leaves with ``root``."""
    kid = env.key_id(env.public_key_bytes(key.public_key()))
    return sign_document({"v": VERSION, "size": size, "root": root.hex(), "created_at": created_at, "kid": kid}, key)


def check_tree_head_shape(doc: Any) -> None:
    """Raise ``TreeHeadError`` naming the first member that breaks the format."""
    if not isinstance(doc, dict):
        raise TreeHeadError("tree head is not a JSON object")
    missing, extra = MEMBERS - doc.keys(), doc.keys() - MEMBERS
    if missing or extra:
        raise TreeHeadError(f"tree head members missing {sorted(missing)} / unknown {sorted(extra)}")
    if type(doc["v"]) is not int or doc["v"] != VERSION:
        raise TreeHeadError(f"tree head v must be 1, got {doc['v']!r}")
    if type(doc["size"]) is not int or doc["size"] < 0:
        raise TreeHeadError("tree head size must be a non-negative integer")
    if not isinstance(doc["root"], str) or not _HEX64.match(doc["root"]):
        raise TreeHeadError("tree head root must be 64 lowercase hex characters")
    if not all(isinstance(doc[m], str) for m in ("created_at", "kid", "sig")):
        raise TreeHeadError("tree head created_at, kid and sig must be strings")


def verify_tree_head(doc: dict[str, Any], public_raw: bytes) -> None:
    """Raise ``TreeHeadError`` unless ``doc`` is well formed and signed by ``public_raw``."""
    check_tree_head_shape(doc)
    if env.key_id(public_raw) != doc["kid"]:
        raise TreeHeadError(f"tree head kid {doc['kid']} is not the LIMS key {env.key_id(public_raw)}")
    unsigned = {k: v for k, v in doc.items() if k != "sig"}
    if not verify_ed25519(public_raw, doc["sig"], env.canonical(unsigned)):
        raise TreeHeadError(f"signature of the tree head of size {doc['size']} does not verify")


def cosign(doc: dict[str, Any], witness: Ed25519PrivateKey) -> dict[str, str]:
    """A witness's co-signature of a signed tree head."""
    kid = env.key_id(env.public_key_bytes(witness.public_key()))
    return {"kid": kid, "sig": env.b64url_encode(witness.sign(env.canonical(doc)))}


def verify_cosignature(doc: dict[str, Any], cosignature: Any, witness_raw: bytes) -> None:
    """Raise ``TreeHeadError`` unless ``cosignature`` is ``witness_raw``'s signature of the head."""
    if not isinstance(cosignature, dict) or set(cosignature) != {"kid", "sig"}:
        raise TreeHeadError("a co-signature is an object with exactly kid and sig")
    if cosignature["kid"] != env.key_id(witness_raw):
        raise TreeHeadError(f"co-signature kid {cosignature['kid']!r} is not the witness key")
    if not verify_ed25519(witness_raw, cosignature["sig"], env.canonical(doc)):
        raise TreeHeadError(f"witness {cosignature['kid']} co-signature of tree size {doc.get('size')} does not verify")


def parse_json_line(line: bytes, check: Callable[[Any], None], error: type[RemoteProtocolError]) -> dict[str, Any]:
    """One JSONL line as a document that passes ``check``; ``error`` says why not."""
    try:
        doc = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"not valid JSON ({exc})") from exc
    check(doc)
    return doc


def parse_tree_head_line(line: bytes) -> dict[str, Any]:
    """One line of treeheads.jsonl as a well-formed tree head; ``TreeHeadError`` says why not."""
    return parse_json_line(line, check_tree_head_shape, TreeHeadError)
