"""Signed result envelope (wire contract v1 §1): JCS + Ed25519 + SHA-256.

Pure functions over dicts and bytes; key loading and storage belong to callers.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from . import jcs
from .errors import EnvelopeError

VERSION = 1
GENESIS_PREV = "0" * 64
MEMBERS = frozenset({"v", "gateway", "kid", "seq", "prev", "result", "sig"})
GATEWAY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_HEX16 = re.compile(r"^[0-9a-f]{16}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def b64url_encode(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Inverse of :func:`b64url_encode`; raises ``ValueError`` on bad input."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical(obj: Any) -> bytes:
    """RFC 8785 (JCS) canonical UTF-8 bytes of a JSON value."""
    try:
        return jcs.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise EnvelopeError("not_canonicalizable", str(exc)) from exc


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    """Raw 32-byte form of an Ed25519 public key."""
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public_raw: bytes) -> str:
    """``kid``: first 16 lowercase hex chars of SHA-256(raw public key)."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def signing_bytes(envelope: dict[str, Any]) -> bytes:
    """JCS serialization of the envelope without ``sig``."""
    return canonical({k: v for k, v in envelope.items() if k != "sig"})


def envelope_hash(envelope: dict[str, Any]) -> str:
    """Lowercase hex SHA-256 of the JCS serialization of the whole envelope."""
    return hashlib.sha256(canonical(envelope)).hexdigest()


_SIGNED_TAIL = b',"v":1}'


def canonical_forms(envelope: dict[str, Any]) -> tuple[bytes, str]:
    """(signing bytes, envelope hash) from one JCS pass; ``envelope`` must have passed :func:`check_shape`.

    Members sort as gateway, kid, prev, result, seq, sig, v, and ``v`` is 1, so the whole
    envelope's JCS is the signing bytes with ``,"sig":<sig>`` spliced in before ``,"v":1}``.
    """
    unsigned = signing_bytes(envelope)
    whole = unsigned[: -len(_SIGNED_TAIL)] + b',"sig":' + canonical(envelope["sig"]) + _SIGNED_TAIL
    return unsigned, hashlib.sha256(whole).hexdigest()


def seal(
    private_key: Ed25519PrivateKey,
    *,
    gateway: str,
    seq: int,
    prev: str,
    result: dict[str, Any],
) -> dict[str, Any]:
    """Build and sign an envelope for ``result`` at position ``seq`` of the chain."""
    kid = key_id(public_key_bytes(private_key.public_key()))
    unsigned = {"v": VERSION, "gateway": gateway, "kid": kid, "seq": seq, "prev": prev, "result": result}
    return {**unsigned, "sig": b64url_encode(private_key.sign(signing_bytes(unsigned)))}


def check_shape(envelope: Any) -> None:
    """Raise ``EnvelopeError`` naming the first member that breaks §1's schema."""
    if not isinstance(envelope, dict):
        raise EnvelopeError("schema", "envelope is not a JSON object")
    missing = MEMBERS - envelope.keys()
    extra = envelope.keys() - MEMBERS
    if missing:
        raise EnvelopeError("schema", f"missing member(s): {', '.join(sorted(missing))}")
    if extra:
        raise EnvelopeError("schema", f"unknown member(s): {', '.join(sorted(extra))}")
    if envelope["v"] != VERSION or type(envelope["v"]) is not int:
        raise EnvelopeError("schema", f"v must be the integer 1, got {envelope['v']!r}")
    if not isinstance(envelope["gateway"], str) or not GATEWAY_ID.match(envelope["gateway"]):
        raise EnvelopeError("schema", f"gateway id {envelope['gateway']!r} does not match {GATEWAY_ID.pattern}")
    if not isinstance(envelope["kid"], str) or not _HEX16.match(envelope["kid"]):
        raise EnvelopeError("schema", "kid must be 16 lowercase hex characters")
    seq = envelope["seq"]
    if type(seq) is not int or seq < 1:
        raise EnvelopeError("schema", f"seq must be an integer >= 1, got {seq!r}")
    if not isinstance(envelope["prev"], str) or not _HEX64.match(envelope["prev"]):
        raise EnvelopeError("schema", "prev must be 64 lowercase hex characters")
    if seq == 1 and envelope["prev"] != GENESIS_PREV:
        raise EnvelopeError("schema", "prev must be 64 zeros when seq is 1")
    if not isinstance(envelope["result"], dict):
        raise EnvelopeError("schema", "result must be a JSON object")
    if not isinstance(envelope["sig"], str):
        raise EnvelopeError("schema", "sig must be a base64url string")


def verify_signature(envelope: dict[str, Any], public_raw: bytes) -> None:
    """Raise ``EnvelopeError('bad_signature')`` unless ``sig`` verifies under the key."""
    if key_id(public_raw) != envelope.get("kid"):
        raise EnvelopeError("unknown_kid", "kid does not match the public key")
    try:
        public_key = Ed25519PublicKey.from_public_bytes(public_raw)
    except ValueError as exc:
        raise EnvelopeError("bad_signature", f"signature of seq {envelope.get('seq')} does not verify") from exc
    verify_signed_bytes(envelope, signing_bytes(envelope), public_key)


def verify_signed_bytes(envelope: dict[str, Any], signing: bytes, public_key: Ed25519PublicKey) -> None:
    """Like :func:`verify_signature` for a caller that already holds the signing bytes and the key object."""
    try:
        signature = b64url_decode(envelope["sig"])
        if b64url_encode(signature) != envelope["sig"]:
            raise ValueError("sig is not canonical base64url")
        public_key.verify(signature, signing)
    except (InvalidSignature, ValueError) as exc:
        raise EnvelopeError("bad_signature", f"signature of seq {envelope.get('seq')} does not verify") from exc
