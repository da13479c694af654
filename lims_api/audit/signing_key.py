"""The LIMS's own Ed25519 key (signs daily checkpoints): created once under ``data_dir``, mode 0600."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, load_pem_private_key
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from protocols.envelope import b64url_encode, key_id, public_key_bytes

from lims_api.core.errors import LimsError
from lims_api.core.models import utc_now

from .models import SigningKey

KEY_FILE = "lims-checkpoint-key.pem"


def derived_secret(key: Ed25519PrivateKey, purpose: str) -> bytes:
    """A 32-byte secret for ``purpose`` derived from the LIMS key (domain-separated; reveals nothing of it)."""
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return hashlib.sha256(f"kuaijian/{purpose}/v1\n".encode() + raw).digest()


def load_or_create_key(data_dir: Path) -> Ed25519PrivateKey:
    """Load ``data_dir/lims-checkpoint-key.pem``, creating it (0600) on first use.

    Safe when several worker processes start at once: the key is written to a private
    temporary file and hard-linked into place, so exactly one creation wins.
    """
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        scratch = data_dir / f".{KEY_FILE}.{os.getpid()}"
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(scratch, path)
        except FileExistsError:
            pass  # another process created it first; use theirs
        finally:
            scratch.unlink()
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise LimsError(f"{path} does not hold an Ed25519 private key")
    return key


def public_raw(key: Ed25519PrivateKey) -> bytes:
    """Raw 32-byte public key."""
    return public_key_bytes(key.public_key())


def register_key(session: Session, key: Ed25519PrivateKey) -> SigningKey:
    """Record the public half in ``lims_keys`` (so exports can publish it); idempotent."""
    raw = public_raw(key)
    kid = key_id(raw)
    row = session.get(SigningKey, kid)
    if row is None:
        row = SigningKey(kid=kid, public_key=b64url_encode(raw), created_at=utc_now())
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            row = session.get(SigningKey, kid)  # type: ignore[assignment]
    return row
