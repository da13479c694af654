"""`kuaijian audit prove | verify-receipt | monitor` against a LIMS served over real HTTP and its bundles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from typer.testing import CliRunner

from kuaijian.audit import verify_path
from kuaijian.cli import app
from lims_api import export_bundle
from lims_api.__main__ import main
from lims_api.core.db import make_engine
from lims_api.audit.signing_key import KEY_FILE
from protocols.envelope import b64url_encode, key_id, public_key_bytes
from tests.browser.lims_server import LiveLims, live_lims
from tests.lims.conftest import SigningGateway

runner = CliRunner()


def _tree_head(lims: LiveLims) -> None:
    assert main(["tree-head", "--db", str(lims.settings.database_url),
                 "--data-dir", str(lims.settings.data_dir)]) == 0


def _seed(lims: LiveLims, count: int = 3) -> tuple[SigningGateway, list[str]]:
    gateway = SigningGateway()
    lims.enrol(gateway)
    envelopes = [gateway.next(verdict="negative") for _ in range(count)]
    lims.ingest(*envelopes)
    _tree_head(lims)
    return gateway, [e["result"]["id"] for e in envelopes]


def _export(lims: LiveLims, out: Path) -> Path:
    engine = make_engine(str(lims.settings.database_url))
    try:
        export_bundle(engine, out)
    finally:
        engine.dispose()
    return out


def test_prove_from_bundle_and_from_url_then_verify_offline(tmp_path: Path) -> None:
    with live_lims(tmp_path) as lims:
        _, ids = _seed(lims)
        bundle = _export(lims, tmp_path / "bundle")
        assert (bundle / "treehead.json").exists() and (bundle / "inclusion.jsonl").exists()
        assert verify_path(bundle).ok, verify_path(bundle).faults
        from_url = runner.invoke(app, ["audit", "prove", ids[1], "--url", lims.url, "--out", str(tmp_path / "u.json")])
        assert from_url.exit_code == 0, from_url.output
    shutil.copytree(bundle, tmp_path / "copy")
    offline = runner.invoke(app, ["audit", "prove", ids[1], "--bundle", str(tmp_path / "copy"),
                                  "--out", str(tmp_path / "b.json")])
    assert offline.exit_code == 0, offline.output
    assert json.loads((tmp_path / "b.json").read_text()) == json.loads((tmp_path / "u.json").read_text())
    checked = runner.invoke(app, ["audit", "verify-receipt", str(tmp_path / "b.json")])
    assert checked.exit_code == 0, checked.output
    for name in ("envelope", "gateway_signature", "inclusion", "tree_head_signature"):
        assert f"OK   {name}" in checked.output

    receipt = json.loads((tmp_path / "b.json").read_text())
    receipt["envelope"] = receipt["envelope"].replace('"negative"', '"positive"')
    (tmp_path / "bad.json").write_text(json.dumps(receipt))
    failed = runner.invoke(app, ["audit", "verify-receipt", str(tmp_path / "bad.json")])
    assert failed.exit_code == 1
    assert "FAIL gateway_signature" in failed.output and "FAIL inclusion" in failed.output
    missing = runner.invoke(app, ["audit", "prove", "no-such-id", "--bundle", str(bundle), "--out", "x.json"])
    assert missing.exit_code == 2 and "no envelope with result id" in missing.output


def test_monitor_accepts_growth_cosigns_and_exits_1_on_a_rewritten_log(tmp_path: Path) -> None:
    witness = Ed25519PrivateKey.generate()
    raw = public_key_bytes(witness.public_key())
    (tmp_path / "witness.pem").write_bytes(witness.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    state = tmp_path / "monitor.json"
    (tmp_path / "honest").mkdir()
    (tmp_path / "forked" / "data").mkdir(parents=True)
    watch = ["audit", "monitor", "--state", str(state), "--witness-key", str(tmp_path / "witness.pem")]
    with live_lims(tmp_path / "honest", witness_keys={key_id(raw): b64url_encode(raw)}) as lims:
        gateway, _ = _seed(lims)
        first = runner.invoke(app, [*watch[:2], lims.url, *watch[2:]])
        assert first.exit_code == 0 and "log size 3" in first.output, first.output
        lims.ingest(gateway.next(verdict="negative"), gateway.next(verdict="negative"))
        _tree_head(lims)
        grown = runner.invoke(app, [*watch[:2], lims.url, *watch[2:]])
        assert grown.exit_code == 0 and "1 new tree head(s); log size 5" in grown.output, grown.output
        heads = lims.client.get("/api/v1/log/tree-heads").json()["tree_heads"]
        assert [len(h["cosignatures"]) for h in heads] == [1, 1]
        shutil.copy(lims.settings.data_dir / KEY_FILE, tmp_path / "forked" / "data" / KEY_FILE)

    # The same LIMS key over another history: what a second audience (or a rewritten database) would be shown.
    with live_lims(tmp_path / "forked") as forked:
        forked.enrol(gateway := SigningGateway())
        forked.ingest(*[gateway.next(verdict="positive") for _ in range(6)])
        _tree_head(forked)
        split = runner.invoke(app, ["audit", "monitor", forked.url, "--state", str(state)])
    assert split.exit_code == 1, split.output
    assert "LOG INCONSISTENT" in split.output and "does not extend the head of size 5" in split.output
    assert json.loads(state.read_text())["tree_head"]["size"] == 5
