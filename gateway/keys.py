"""The gateway's Ed25519 signing key on disk, and in memory as a PyNaCl key.

File format: unencrypted PKCS#8 PEM (``-----BEGIN PRIVATE KEY-----``), readable
by ``openssl pkey``. The file is created with mode 0600 from the first byte
(``O_CREAT|O_EXCL``), and loading refuses a file that group or others may access.

The daemon signs with PyNaCl (libsodium): cryptography costs about 7 MB more resident memory
and is imported only to read a key file in another PKCS#8 layout than the one written here.
Signatures are the same bytes either way (Ed25519 is deterministic).
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from pathlib import Path

from nacl.signing import SigningKey

from protocols.envelope import b64url_encode, key_id, public_key_bytes
from protocols.signing import PublicKey, Signer

from .errors import KeyFileError

KEY_FILE_MODE = 0o600
_PEM_HEAD, _PEM_TAIL = b"-----BEGIN PRIVATE KEY-----", b"-----END PRIVATE KEY-----"
_PKCS8_ED25519 = bytes.fromhex("302e020100300506032b657004220420")
"""DER of PKCS#8 v1 for Ed25519 (RFC 8410) up to the 32-byte seed: what this module and OpenSSL write."""


class RawPublicKey:
    """An Ed25519 public key held as its 32 raw bytes."""

    def __init__(self, raw: bytes) -> None:
        self._raw = raw

    def public_bytes_raw(self) -> bytes:
        """The raw 32-byte key."""
        return self._raw


class GatewayKey:
    """The gateway's Ed25519 private key (a :class:`~protocols.signing.Signer`), signing with PyNaCl."""

    def __init__(self, seed: bytes) -> None:
        self._key = SigningKey(seed)

    def sign(self, data: bytes, /) -> bytes:
        """The 64-byte Ed25519 signature of ``data``."""
        return self._key.sign(data).signature

    def public_key(self) -> RawPublicKey:
        """The public half."""
        return RawPublicKey(bytes(self._key.verify_key))

    def private_pem(self) -> bytes:
        """The key as unencrypted PKCS#8 PEM, the key file's content."""
        body = base64.b64encode(_PKCS8_ED25519 + bytes(self._key)).decode("ascii")
        return b"%s\n%s\n%s\n" % (_PEM_HEAD, body.encode("ascii"), _PEM_TAIL)


def generate_key_file(path: str | Path, *, overwrite: bool = False) -> GatewayKey:
    """Create a new key at ``path`` (mode 0600); refuse an existing file unless ``overwrite``.

    With ``overwrite`` the new key is written to a fresh sibling file and renamed over
    the old one, so the path always holds a complete key.
    """
    path = Path(path)
    key = GatewayKey(os.urandom(32))
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
        os.write(fd, key.private_pem())
        os.fsync(fd)
    finally:
        os.close(fd)
    if overwrite:
        os.replace(target, path)
    return key


def load_private_key(path: str | Path) -> GatewayKey:
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
    return GatewayKey(_pkcs8_seed(pem) or _seed_by_cryptography(path, pem))


def _pkcs8_seed(pem: bytes) -> bytes | None:
    """The seed of a PEM in the PKCS#8 v1 Ed25519 layout; None for anything else."""
    lines = pem.strip().splitlines()
    if len(lines) < 3 or lines[0].strip() != _PEM_HEAD or lines[-1].strip() != _PEM_TAIL:
        return None
    try:
        der = base64.b64decode(b"".join(line.strip() for line in lines[1:-1]), validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(der) != len(_PKCS8_ED25519) + 32 or not der.startswith(_PKCS8_ED25519):
        return None
    return der[len(_PKCS8_ED25519):]


def _seed_by_cryptography(path: Path, pem: bytes) -> bytes:
    """The seed of any other PEM private key cryptography reads, if it is Ed25519 (else ``KeyFileError``)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{path}: not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: key is {type(key).__name__}, expected an Ed25519 private key")
    return key.private_bytes_raw()


def _public(key: Signer | PublicKey) -> PublicKey:
    return key if isinstance(key, PublicKey) else key.public_key()


def public_key_b64url(key: Signer | PublicKey) -> str:
    """Raw 32-byte public key, base64url without padding (what the LIMS enrols)."""
    return b64url_encode(public_key_bytes(_public(key)))


def kid_of(key: Signer | PublicKey) -> str:
    """Key id of ``key`` as it appears in envelopes' ``kid``."""
    return key_id(public_key_bytes(_public(key)))
