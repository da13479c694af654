"""Key files: created 0600 without a window, refused when group/others can read them."""

from __future__ import annotations

import os
import stat

import pytest

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
