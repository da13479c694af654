"""Streaming verification: a process pool gives the very report of one process, a .tar.gz is read in place,
and off a terminal the CLI prints a plain summary line."""

from __future__ import annotations

import json
import os
import tarfile

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from kuaijian.audit import verify_path
from kuaijian.cli import app

from .bundle_factory import chain, key_entry, write_bundle

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
KEYS = [key_entry("gw-a", KEY), key_entry("gw-b", OTHER)]


@pytest.fixture(scope="module")
def envelopes():
    return chain(KEY, "gw-a", 2500) + chain(OTHER, "gw-b", 1500)


def test_pool_report_equals_single_process(envelopes, tmp_path):
    bundle = write_bundle(tmp_path / "b", envelopes, KEYS)
    single, pooled = verify_path(bundle, jobs=1), verify_path(bundle, jobs=2)
    assert single.ok, single.faults
    assert (pooled.envelopes, pooled.gateways, pooled.faults) == (4000, {"gw-a": 2500, "gw-b": 1500}, [])


def test_pool_reports_the_same_faults_in_the_same_order(envelopes, tmp_path):
    tampered = [dict(e) for e in envelopes]
    tampered[10] = {**tampered[10], "result": {**tampered[10]["result"], "verdict": "negative"}}
    del tampered[2100]
    tampered.insert(3000, tampered[2999])
    bundle = write_bundle(tmp_path / "t", tampered, KEYS)
    text = (bundle / "envelopes.jsonl").read_bytes().split(b"\n")
    text[3500] = b"{not json"
    (bundle / "envelopes.jsonl").write_bytes(b"\n".join(text))
    single, pooled = verify_path(bundle, jobs=1), verify_path(bundle, jobs=2)
    assert {f.kind for f in single.faults} == {"bad_signature", "seq_gap", "broken_prev", "fork", "invalid_json"}
    assert pooled.faults == single.faults
    assert (pooled.envelopes, pooled.gateways) == (single.envelopes, single.gateways)


def test_tar_gz_is_verified_without_unpacking(envelopes, tmp_path, monkeypatch):
    bundle = write_bundle(tmp_path / "src" / "bundle", envelopes[:300], KEYS)
    shelf, scratch = tmp_path / "shelf", tmp_path / "scratch"
    shelf.mkdir(), scratch.mkdir()
    archive = shelf / "bundle.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(bundle, arcname="bundle")
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.chdir(scratch)
    report = verify_path(archive, jobs=2)
    assert report.ok and report.envelopes == 300, report.faults
    assert os.listdir(scratch) == [] and os.listdir(shelf) == ["bundle.tar.gz"]


def test_off_a_terminal_the_cli_prints_a_plain_summary(envelopes, tmp_path):
    bundle = write_bundle(tmp_path / "b", envelopes[:200], KEYS)
    result = CliRunner().invoke(app, ["audit", "verify", str(bundle), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("verified 200 envelope(s), ") and "envelopes/s, 2 job(s))" in lines[0]
    assert lines[1].startswith("OK 200 envelope(s) verified")
    assert "\x1b[" not in result.output and "━" not in result.output and len(lines) == 2


def test_manifest_count_fault_still_comes_first(envelopes, tmp_path):
    bundle = write_bundle(tmp_path / "b", envelopes[:5], [{"gateway": "gw-a"}], count=9)
    kinds = [f.kind for f in verify_path(bundle, jobs=1).faults]
    assert kinds[:2] == ["count_mismatch", "keys"] and set(kinds[2:]) == {"unknown_key"}
    assert json.loads((bundle / "manifest.json").read_text())["counts"]["envelopes"] == 9


def test_chain_hashes_keep_the_first_hash_of_each_seq_like_a_dict():
    from protocols.bundle_stream import ChainHashes

    order = [("a", 1), ("a", 2), ("a", 3), ("b", 5), ("a", 3), ("a", 2), ("a", 7), ("b", 6), ("a", 8), ("b", 4)]
    compact, plain = ChainHashes(), {}
    for number, key in enumerate(order):
        digest = f"{number:064x}"
        assert compact.setdefault(key, digest) == plain.setdefault(key, digest)
    assert dict(compact) == plain and len(compact) == len(plain)
    assert ("a", 4) not in compact and compact.get(("a", 4)) is None and ("c", 1) not in compact
