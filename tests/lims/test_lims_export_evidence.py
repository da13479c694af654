"""Bundles carry flags and evidence (flags.jsonl, evidence.jsonl, evidence/<sha256>.png); ``kuaijian audit
verify`` checks every image in the bundle or given beside it against the hash its signed result names."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from typer.testing import CliRunner

from firmware_sim.camera import png_image
from kuaijian.audit import verify_path
from kuaijian.cli import app
from lims_api import export_bundle
from tests.independent_verifier import verify as independent_verify

from .test_lims_evidence import named
from .test_lims_flags import TECHNICIAN, enzyme

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway


def _seed(lims: Lims, gateway: SigningGateway) -> tuple[bytes, bytes]:
    """Two results naming snapshots (only the first image uploaded), one flagged by the LIMS."""
    lims.enrol(gateway)
    lims.user(TECHNICIAN, "technician", sites=(gateway.site["id"],))
    uploaded, missing = png_image(11), png_image(12)
    lims.ingest(gateway.next(**enzyme(), **named(uploaded)),
                gateway.next(**enzyme(operator="nobody"), **named(missing)))
    answer = lims.client.put(f"/api/v1/evidence/{hashlib.sha256(uploaded).hexdigest()}", content=uploaded,
                             headers={"Content-Type": "image/png"})
    assert answer.status_code == 201, answer.text
    return uploaded, missing


def test_bundle_carries_flags_evidence_and_images_and_still_verifies(lims: Lims, gateway: SigningGateway,
                                                                      tmp_path: Path):
    uploaded, missing = _seed(lims, gateway)
    bundle = tmp_path / "bundle"
    export_bundle(lims.engine, bundle)
    flags = [json.loads(line) for line in (bundle / "flags.jsonl").read_text("utf-8").splitlines()]
    assert [(f["gateway"], f["seq"], f["source"], f["code"]) for f in flags] == [
        (gateway.gateway, 2, "lims", "operator_not_enrolled")]
    evidence = [json.loads(line) for line in (bundle / "evidence.jsonl").read_text("utf-8").splitlines()]
    sha_up, sha_missing = (hashlib.sha256(i).hexdigest() for i in (uploaded, missing))
    assert [(e["seq"], e["sha256"], e["file"]) for e in evidence] == [
        (1, sha_up, f"evidence/{sha_up}.png"), (2, sha_missing, None)]
    assert (bundle / "evidence" / f"{sha_up}.png").read_bytes() == uploaded
    report = verify_path(bundle)
    assert report.ok, report.faults
    assert report.images == 1
    assert independent_verify(bundle) == []  # the contract's own reading ignores the extra files

    given = tmp_path / f"{sha_missing}.png"  # the gateway's copy of the image that never reached the LIMS
    given.write_bytes(missing)
    outcome = CliRunner().invoke(app, ["audit", "verify", str(bundle), "--evidence", str(given)])
    assert outcome.exit_code == 0, outcome.output
    assert "2 evidence image(s) match their hashes" in outcome.output


def test_a_changed_or_foreign_image_and_a_false_evidence_line_fail_verification(lims: Lims,
                                                                                gateway: SigningGateway,
                                                                                tmp_path: Path):
    uploaded, _ = _seed(lims, gateway)
    bundle = tmp_path / "bundle"
    export_bundle(lims.engine, bundle)
    sha_up = hashlib.sha256(uploaded).hexdigest()
    tampered = tmp_path / "tampered"
    shutil.copytree(bundle, tampered)
    (tampered / "evidence" / f"{sha_up}.png").write_bytes(png_image(99))
    lines = (tampered / "evidence.jsonl").read_text("utf-8").splitlines()
    lines[1] = lines[1].replace('"seq": 2', '"seq": 1')  # claims seq 1 named the other image
    (tampered / "evidence.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    foreign = png_image(42)
    stranger = tmp_path / f"{hashlib.sha256(foreign).hexdigest()}.png"
    stranger.write_bytes(foreign)
    report = verify_path(tampered, [stranger])
    problems = sorted(str(f) for f in report.faults)
    assert len(problems) == 3, problems
    assert any(f"evidence/{sha_up}.png: content hashes to" in p for p in problems)
    assert any("evidence.jsonl line 2: " in p and "seq 1 does not name" in p for p in problems)
    assert any(str(stranger) in p and "no exported envelope names this image" in p for p in problems)
    outcome = CliRunner().invoke(app, ["audit", "verify", str(tampered)])
    assert outcome.exit_code == 1 and "FAIL evidence:" in outcome.output

    archive = tmp_path / "bundle-tar"
    export_bundle(lims.engine, archive, as_tar=True)
    tar_report = verify_path(archive.with_name("bundle-tar.tar.gz"))
    assert tar_report.ok and tar_report.images == 1
