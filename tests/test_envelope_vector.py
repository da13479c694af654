"""The contract's test vector, reproduced byte for byte."""

import copy
import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocols import envelope as env
from protocols.errors import EnvelopeError
from protocols.result import TestResult

VECTOR = json.loads((Path(__file__).parent / "data" / "envelope-vector.json").read_text("utf-8"))


def test_signing_bytes_digest_matches_vector():
    assert hashlib.sha256(env.signing_bytes(VECTOR["envelope"])).hexdigest() == VECTOR["signing_bytes_sha256"]


def test_envelope_hash_matches_vector():
    assert env.envelope_hash(VECTOR["envelope"]) == VECTOR["envelope_hash"]


def test_signature_verifies_and_kid_derives_from_public_key():
    public_raw = env.b64url_decode(VECTOR["public_key_b64url"])
    assert env.key_id(public_raw) == VECTOR["kid"]
    env.check_shape(VECTOR["envelope"])
    env.verify_signature(VECTOR["envelope"], public_raw)


def test_seal_reproduces_the_vector_signature():
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(VECTOR["secret_key_hex"]))
    e = VECTOR["envelope"]
    sealed = env.seal(key, gateway=e["gateway"], seq=e["seq"], prev=e["prev"], result=e["result"])
    assert sealed == e  # Ed25519 is deterministic


def test_vector_result_is_a_valid_test_result():
    assert TestResult.from_wire(VECTOR["envelope"]["result"]).to_wire() == VECTOR["envelope"]["result"]


def test_tampered_result_fails_signature():
    tampered = copy.deepcopy(VECTOR["envelope"])
    tampered["result"]["measurement"]["value"] = 12.5
    with pytest.raises(EnvelopeError) as info:
        env.verify_signature(tampered, env.b64url_decode(VECTOR["public_key_b64url"]))
    assert info.value.code == "bad_signature"


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda e: e.pop("sig"), "missing member(s): sig"),
        (lambda e: e.update(extra=1), "unknown member(s): extra"),
        (lambda e: e.update(v=2), "v must be the integer 1"),
        (lambda e: e.update(gateway="GW_1"), "gateway id 'GW_1'"),
        (lambda e: e.update(seq=0), "seq must be an integer >= 1"),
        (lambda e: e.update(prev="ab" * 32), "prev must be 64 zeros"),
    ],
)
def test_schema_errors_name_the_member(mutate, fragment):
    e = copy.deepcopy(VECTOR["envelope"])
    mutate(e)
    with pytest.raises(EnvelopeError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        env.check_shape(e)
