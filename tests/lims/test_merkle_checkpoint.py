"""Pure parts: RFC 6962 Merkle tree hash (reference vectors) and the signed checkpoint document."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from protocols import checkpoint as cp
from protocols.envelope import public_key_bytes
from protocols.merkle import EMPTY_ROOT, leaf_hash, merkle_root, node_hash

# Certificate Transparency's reference inputs and tree heads for sizes 0..8 (RFC 6962 §2.1).
CT_LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                         "606162636465666768696a6b6c6d6e6f")]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


@pytest.mark.parametrize("size", range(9))
def test_roots_match_rfc6962_reference(size: int) -> None:
    assert merkle_root(CT_LEAVES[:size]).hex() == CT_ROOTS[size]


def _spec_mth(data: list[bytes]) -> bytes:
    """RFC 6962's recursive definition, written out literally."""
    if not data:
        return hashlib.sha256(b"").digest()
    if len(data) == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < len(data):
        k *= 2
    return hashlib.sha256(b"\x01" + _spec_mth(data[:k]) + _spec_mth(data[k:])).digest()


@given(st.lists(st.binary(min_size=32, max_size=32), max_size=70))
def test_root_equals_the_literal_definition(leaves: list[bytes]) -> None:
    assert merkle_root(leaves) == _spec_mth(leaves)


def test_leaf_and_node_prefixes_differ() -> None:
    assert EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert leaf_hash(b"ab") != node_hash(b"a", b"b")


LEAVES = [cp.StoredLeaf("gw-a", 1, "11" * 32), cp.StoredLeaf("gw-a", 2, "22" * 32),
          cp.StoredLeaf("gw-a", 5, "55" * 32), cp.StoredLeaf("gw-b", 7, "77" * 32)]


def test_checkpoint_document_is_signed_and_names_its_ranges() -> None:
    doc = cp.build_checkpoint(date(2026, 11, 23), LEAVES, "ab" * 32, "2026-11-24T00:05:00.000+08:00", KEY)
    assert set(doc) == cp.MEMBERS
    assert doc["ranges"] == [["gw-a", 1, 2], ["gw-a", 5, 5], ["gw-b", 7, 7]]
    assert doc["count"] == 4 and doc["date"] == "2026-11-23"
    assert doc["merkle_root"] == merkle_root([bytes.fromhex(leaf.hash) for leaf in LEAVES]).hex()
    cp.check_checkpoint_shape(doc)
    cp.verify_checkpoint_signature(doc, public_key_bytes(KEY.public_key()))
    with pytest.raises(cp.CheckpointError, match="does not verify"):
        cp.verify_checkpoint_signature({**doc, "count": 3}, public_key_bytes(KEY.public_key()))
    other = Ed25519PrivateKey.generate()
    with pytest.raises(cp.CheckpointError, match="kid"):
        cp.verify_checkpoint_signature(doc, public_key_bytes(other.public_key()))


@pytest.mark.parametrize(("change", "message"), [
    ({"count": 5}, "count does not equal"), ({"date": "23/11/2026"}, "date"),
    ({"ranges": [["gw-a", 2, 1]]}, "ranges"), ({"merkle_root": "XY"}, "merkle_root"), ({"extra": 1}, "unknown"),
])
def test_malformed_checkpoint_is_named(change: dict, message: str) -> None:
    doc = cp.build_checkpoint(date(2026, 11, 23), LEAVES, "ab" * 32, "2026-11-24T00:05:00.000+08:00", KEY)
    with pytest.raises(cp.CheckpointError, match=message):
        cp.check_checkpoint_shape({**doc, **change})
