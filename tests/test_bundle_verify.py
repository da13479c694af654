"""Offline bundle verification: each fault kind of contract §3 is found and named."""

from __future__ import annotations

import tarfile

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kuaijian.audit import verify_path
from kuaijian.cli import app
from protocols import envelope as env

from .bundle_factory import chain, key_entry, write_bundle

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))


@pytest.fixture
def good(tmp_path):
    envelopes = chain(KEY, "gw-a", 5) + chain(OTHER, "gw-b", 3)
    return write_bundle(tmp_path / "bundle", envelopes, [key_entry("gw-a", KEY), key_entry("gw-b", OTHER)])


def kinds(path):
    return sorted({f.kind for f in verify_path(path).faults})


def test_good_bundle_verifies(good):
    report = verify_path(good)
    assert report.ok, report.faults
    assert report.envelopes == 8
    assert report.gateways == {"gw-a": 5, "gw-b": 3}


def test_tar_gz_bundle_verifies(good, tmp_path):
    archive = tmp_path / "bundle.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(good, arcname="bundle")
    assert verify_path(archive).ok


def test_bad_signature_names_the_envelope(tmp_path):
    envelopes = chain(KEY, "gw-a", 3)
    envelopes[1]["result"]["verdict"] = "negative"
    faults = verify_path(write_bundle(tmp_path, envelopes, [key_entry("gw-a", KEY)])).faults
    assert [f.kind for f in faults if f.kind == "bad_signature"] == ["bad_signature"]
    assert "line 2 (gateway gw-a, seq 2)" in [f for f in faults if f.kind == "bad_signature"][0].where


def test_unknown_and_revoked_keys(tmp_path):
    assert kinds(write_bundle(tmp_path / "u", chain(KEY, "gw-a", 2), [key_entry("gw-a", OTHER)])) == ["unknown_key"]
    revoked = [key_entry("gw-a", KEY, revoked_at="2026-11-01T00:00:00+00:00")]
    assert kinds(write_bundle(tmp_path / "r", chain(KEY, "gw-a", 2), revoked)) == ["revoked_key"]
    later = [key_entry("gw-a", KEY, revoked_at="2026-12-01T00:00:00+00:00")]
    assert kinds(write_bundle(tmp_path / "l", chain(KEY, "gw-a", 2), later)) == []


def test_seq_gap_broken_prev_and_fork(tmp_path):
    envelopes = chain(KEY, "gw-a", 5)
    assert kinds(write_bundle(tmp_path / "gap", envelopes[:2] + envelopes[3:], [key_entry("gw-a", KEY)])) == ["seq_gap"]
    relinked = envelopes[:2] + [env.seal(KEY, gateway="gw-a", seq=3, prev="ab" * 32, result=envelopes[2]["result"])]
    assert kinds(write_bundle(tmp_path / "prev", relinked, [key_entry("gw-a", KEY)])) == ["broken_prev"]
    fork = env.seal(KEY, gateway="gw-a", seq=2, prev=envelopes[1]["prev"], result=envelopes[0]["result"])
    assert "fork" in kinds(write_bundle(tmp_path / "fork", envelopes[:2] + [fork], [key_entry("gw-a", KEY)]))


def test_full_export_whose_chain_starts_after_seq_1_fails_without_checkpoints(tmp_path):
    envelopes = chain(KEY, "gw-a", 5)
    path = write_bundle(tmp_path / "full", envelopes[2:], [key_entry("gw-a", KEY)])
    assert not (path / "checkpoints.jsonl").exists()
    faults = verify_path(path).faults
    assert [f.kind for f in faults] == ["seq_gap"]
    assert faults[0].message == ("seq 1..2 missing: the manifest's range has no start date, so gateway gw-a's "
                                 "chain must begin at seq 1")
    assert "line 1 (gateway gw-a, seq 3)" in faults[0].where


def test_date_limited_export_may_start_after_seq_1(tmp_path):
    envelopes = chain(KEY, "gw-a", 5)
    assert verify_path(write_bundle(tmp_path, envelopes[2:], [key_entry("gw-a", KEY)], range_from="2026-11-20")).ok


def test_key_and_json_faults_are_named_in_words(tmp_path):
    entry = key_entry("gw-a", KEY)
    del entry["public_key"]
    path = write_bundle(tmp_path, chain(KEY, "gw-a", 1), [entry, "not an object"])
    (path / "envelopes.jsonl").write_bytes((path / "envelopes.jsonl").read_bytes() + b"\xff\n{]\n")
    messages = [f.message for f in verify_path(path).faults]
    assert "member 'public_key' is missing or not a string" in messages
    assert "must be a JSON object with gateway, kid and public_key" in messages
    assert "not UTF-8 text (byte 0xff at offset 0)" in messages
    assert "not valid JSON (Expecting property name enclosed in double quotes at line 1 column 2)" in messages
    assert not any("Error(" in m for m in messages)


def test_invalid_json_and_count_mismatch(good):
    lines = (good / "envelopes.jsonl").read_bytes().split(b"\n")
    lines[3] = lines[3][:-5]
    (good / "envelopes.jsonl").write_bytes(b"\n".join(lines))
    faults = verify_path(good).faults
    assert "invalid_json" in {f.kind for f in faults}
    assert any(f.kind == "invalid_json" and "line 4" in f.where for f in faults)


def test_manifest_count_mismatch(tmp_path):
    path = write_bundle(tmp_path, chain(KEY, "gw-a", 3), [key_entry("gw-a", KEY)], count=4)
    faults = verify_path(path).faults
    assert [f.kind for f in faults] == ["count_mismatch"]
    assert "counts.envelopes is 4 but envelopes.jsonl holds 3" in faults[0].message


def test_cli_exit_codes_and_messages(good):
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify", str(good)])
    assert ok.exit_code == 0, ok.output
    assert "8 envelope(s) verified" in ok.output
    data = bytearray((good / "envelopes.jsonl").read_bytes())
    data[data.index(b'"stall":"A-12"') + 10] ^= 0x01
    (good / "envelopes.jsonl").write_bytes(bytes(data))
    bad = runner.invoke(app, ["audit", "verify", str(good)])
    assert bad.exit_code == 1
    assert "bad_signature" in bad.output and "gateway gw-a, seq 1" in bad.output
    missing = runner.invoke(app, ["audit", "verify", str(good / "nope")])
    assert missing.exit_code == 2 and "no such bundle" in missing.output


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_any_flipped_bit_in_envelopes_fails(good, position, bit):
    original = (good / "envelopes.jsonl").read_bytes()
    data = bytearray(original)
    index = position % len(data)
    if data[index] == 0x0A:  # flipping a line break only reshapes lines; skip those positions
        return
    data[index] ^= 1 << bit
    try:
        (good / "envelopes.jsonl").write_bytes(bytes(data))
        assert not verify_path(good).ok, f"flip at byte {index} bit {bit} went unnoticed"
    finally:
        (good / "envelopes.jsonl").write_bytes(original)
