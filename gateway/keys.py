"""The gateway's Ed25519 signing key on disk.

File format: unencrypted PKCS#8 PEM (``-----BEGIN PRIVATE KEY-----``), readable
by ``openssl pkey``. The file is created with mode 0600 from the first byte
(``O_CREAT|O_EXCL``), and loading refuses a file that group or others may access.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from protocols.envelope import b64url_encode, key_id, public_key_bytes

from .errors import KeyFileError

KEY_FILE_MODE = 0o600


def generate_key_file(path: str | Path, *, overwrite: bool = False) -> Ed25519PrivateKey:
    """Create a new key at ``path`` (mode 0600); refuse an existing file unless ``overwrite``.

    With ``overwrite`` the new key is written to a fresh sibling file and renamed over
    the old one, so the path always holds a complete key.
    """
    path = Path(path)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    target = path.with_name(f".{path.name}.new") if overwrite else path
    if overwrite:
        target.unlink(missing_ok=True)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError:
        raise KeyFileError(f"{path}: key file already exists; refusing to overwrite it") from None
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot create key file: {exc}") from None
    try:
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    if overwrite:
        os.replace(target, path)
    return key


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """Read the key at ``path``; refuse it if group/others have any access to the file."""
    path = Path(path)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        pem = path.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(f"{path}: key file not found (create one with `kuaijian gateway init`)") from None
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read key file: {exc}") from None
    if mode & 0o077:
        raise KeyFileError(
            f"{path}: key file mode is {mode:04o}, accessible by group/others; fix it with: chmod 600 {path}"
        )
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{path}: not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: key is {type(key).__name__}, expected an Ed25519 private key")
    return key


def _public(key: Ed25519PrivateKey | Ed25519PublicKey) -> Ed25519PublicKey:
    return key.public_key() if isinstance(key, Ed25519PrivateKey) else key


def public_key_b64url(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """Raw 32-byte public key, base64url without padding (what the LIMS enrols)."""
    return b64url_encode(public_key_bytes(_public(key)))


def kid_of(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """Key id of ``key`` as it appears in envelopes' ``kid``."""
    return key_id(public_key_bytes(_public(key)))
