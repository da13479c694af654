"""Key files: created 0600 without a window, refused when group/others can read them."""

from __future__ import annotations

import os
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, load_pem_private_key

from gateway.errors import KeyFileError
from gateway.keys import generate_key_file, kid_of, load_private_key, public_key_b64url
from protocols.envelope import b64url_decode, key_id, seal, verify_signature


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_new_key_file_is_0600_pem_and_round_trips(tmp_path):
    path = tmp_path / "gateway.key"
    old_umask = os.umask(0)  # even with a permissive umask the file must be 0600
    try:
        key = generate_key_file(path)
    finally:
        os.umask(old_umask)
    assert mode_of(path) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    loaded = load_private_key(path)
    assert public_key_b64url(loaded) == public_key_b64url(key)
    raw = b64url_decode(public_key_b64url(key))
    assert len(raw) == 32 and kid_of(key) == key_id(raw) == kid_of(key.public_key())
    envelope = seal(loaded, gateway="gw-1", seq=1, prev="0" * 64, result={"x": 1})
    verify_signature(envelope, raw)


def test_existing_key_is_not_overwritten_unless_asked(tmp_path):
    path = tmp_path / "gateway.key"
    first = generate_key_file(path)
    with pytest.raises(KeyFileError, match="already exists"):
        generate_key_file(path)
    assert public_key_b64url(load_private_key(path)) == public_key_b64url(first)
    second = generate_key_file(path, overwrite=True)
    assert mode_of(path) == 0o600
    assert public_key_b64url(load_private_key(path)) == public_key_b64url(second) != public_key_b64url(first)
    assert [p.name for p in tmp_path.iterdir()] == ["gateway.key"]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_key_readable_by_others_is_refused_with_the_fix(tmp_path, mode):
    path = tmp_path / "gateway.key"
    generate_key_file(path)
    path.chmod(mode)
    with pytest.raises(KeyFileError) as caught:
        load_private_key(path)
    assert str(caught.value) == (
        f"{path}: key file mode is {mode:04o}, accessible by group/others; fix it with: chmod 600 {path}"
    )


def test_missing_and_garbage_key_files_are_named(tmp_path):
    with pytest.raises(KeyFileError, match=f"{tmp_path / 'none.key'}: key file not found"):
        load_private_key(tmp_path / "none.key")
    garbage = tmp_path / "garbage.key"
    garbage.write_text("not a key")
    garbage.chmod(0o600)
    with pytest.raises(KeyFileError, match="not an unencrypted PEM private key"):
        load_private_key(garbage)


def _pem(key: Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def test_signatures_are_byte_identical_to_cryptography(tmp_path):
    path = tmp_path / "gateway.key"
    key = generate_key_file(path)
    reference = load_pem_private_key(path.read_bytes(), password=None)  # the file reads in cryptography too
    assert isinstance(reference, Ed25519PrivateKey)
    assert _pem(reference) == path.read_bytes()  # the very bytes cryptography writes
    for message in (b"", b"x", bytes(range(256)) * 9):
        assert key.sign(message) == reference.sign(message)
    assert kid_of(key) == kid_of(reference) == kid_of(reference.public_key())
    result = {"id": "r-1", "verdict": "negative"}
    assert seal(key, gateway="gw-1", seq=1, prev="0" * 64, result=result) == seal(
        reference, gateway="gw-1", seq=1, prev="0" * 64, result=result)


def test_a_key_file_written_by_cryptography_loads(tmp_path):
    reference = Ed25519PrivateKey.generate()
    path = tmp_path / "gateway.key"
    path.write_bytes(_pem(reference))
    path.chmod(0o600)
    assert load_private_key(path).sign(b"m") == reference.sign(b"m")


def test_a_key_of_another_kind_is_named(tmp_path):
    path = tmp_path / "gateway.key"
    path.write_bytes(_pem(ec.generate_private_key(ec.SECP256R1())))
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match="key is ECPrivateKey, expected an Ed25519 private key"):
        load_private_key(path)
