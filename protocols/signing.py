"""What signing code needs of an Ed25519 key, as structural types.

cryptography's ``Ed25519PrivateKey``/``Ed25519PublicKey`` fit them, and so does the gateway's
PyNaCl-backed key (``gateway.keys``), so signing never has to import cryptography. Ed25519 is
deterministic: every implementation gives the same 64 signature bytes for one key and message.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class PublicKey(Protocol):
    """An Ed25519 public key."""

    def public_bytes_raw(self) -> bytes:
        """The raw 32-byte key."""
        ...


class Signer(Protocol):
    """An Ed25519 private key."""

    def sign(self, data: bytes, /) -> bytes:
        """The 64-byte signature of ``data``."""
        ...

    def public_key(self) -> PublicKey:
        """The public half."""
        ...
