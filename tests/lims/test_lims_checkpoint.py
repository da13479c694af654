"""Signed daily checkpoints end to end: CLI, export with checkpoints.jsonl, offline verification, tampering."""

from __future__ import annotations

import json
import stat
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kuaijian.audit import verify_path
from lims_api import export_bundle
from lims_api.__main__ import main
from lims_api.audit.signing_key import KEY_FILE
from lims_api.ingest.models import StoredEnvelope

from .conftest import delete_envelope

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway

ZONE = ZoneInfo("Asia/Shanghai")


def _stored_day(lims: Lims) -> str:
    """The LIMS-local day of the first stored envelope (the day a checkpoint run just after seeding covers)."""
    with Session(lims.engine) as session:
        first = session.scalar(select(func.min(StoredEnvelope.stored_at)))
    assert isinstance(first, datetime)
    return first.astimezone(ZONE).date().isoformat()


def _checkpoint(lims: Lims, data_dir: Path, capsys: pytest.CaptureFixture, *extra: str) -> tuple[int, str]:
    code = main(["checkpoint", "--db", lims.url, "--data-dir", str(data_dir), *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _seed(lims: Lims, gateway: SigningGateway, make_gateway: type[SigningGateway], count: int = 4) -> None:
    other = make_gateway(gateway="gw-aa-other")
    lims.enrol(gateway)
    lims.enrol(other)
    lims.ingest(*[gateway.next(verdict="negative") for _ in range(count)], other.next(verdict="negative"))


def test_export_with_checkpoints_verifies_then_a_deleted_row_names_the_day(
    lims: Lims, gateway: SigningGateway, make_gateway: type[SigningGateway], tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    _seed(lims, gateway, make_gateway)
    day = _stored_day(lims)
    code, out = _checkpoint(lims, tmp_path / "data", capsys)
    assert code == 0 and f"{day} created: 5 envelope(s)" in out
    key_file = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    export_bundle(lims.engine, tmp_path / "good", None, None, None)
    (doc,) = [json.loads(line) for line in (tmp_path / "good" / "checkpoints.jsonl").read_text().splitlines()]
    assert doc["date"] == day and doc["count"] == 5
    assert doc["ranges"] == [["gw-aa-other", 1, 1], [gateway.gateway, 1, 4]]
    lims_keys = [k for k in json.loads((tmp_path / "good" / "keys.json").read_text()) if k["gateway"] == "lims"]
    assert [k["kid"] for k in lims_keys] == [doc["kid"]]
    report = verify_path(tmp_path / "good")
    assert report.ok, report.faults

    with lims.engine.begin() as conn:  # the last seq: no gap shows, only the checkpoint can tell
        delete_envelope(conn, f"gateway_id = '{gateway.gateway}' AND seq = 4")
    export_bundle(lims.engine, tmp_path / "bad", None, None, None)
    faults = verify_path(tmp_path / "bad").faults
    assert [f.kind for f in faults] == ["checkpoint"]
    assert f"day {day}" in faults[0].where and "seq 4" in faults[0].message


def test_altered_checkpoint_or_missing_lims_key_fails(
    lims: Lims, gateway: SigningGateway, make_gateway: type[SigningGateway], tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    _seed(lims, gateway, make_gateway)
    assert _checkpoint(lims, tmp_path / "data", capsys)[0] == 0
    export_bundle(lims.engine, tmp_path / "b", None, None, None)
    path = tmp_path / "b" / "checkpoints.jsonl"
    doc = json.loads(path.read_text())
    path.write_text(json.dumps({**doc, "merkle_root": "00" * 32}) + "\n")
    (fault,) = verify_path(tmp_path / "b").faults
    assert fault.kind == "checkpoint" and "signature" in fault.message
    path.write_text(json.dumps(doc) + "\n")
    keys = json.loads((tmp_path / "b" / "keys.json").read_text())
    (tmp_path / "b" / "keys.json").write_text(json.dumps([k for k in keys if k["gateway"] != "lims"]))
    fault, log_fault = verify_path(tmp_path / "b").faults  # the same key also signed the log's tree head
    assert fault.kind == "checkpoint" and "not in keys.json" in fault.message
    assert log_fault.kind == "log" and "not in keys.json" in log_fault.message


def test_refresh_detects_a_row_deleted_after_the_checkpoint(
    lims: Lims, gateway: SigningGateway, make_gateway: type[SigningGateway], tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    _seed(lims, gateway, make_gateway)
    day = _stored_day(lims)
    assert _checkpoint(lims, tmp_path / "data", capsys)[0] == 0
    lims.ingest(gateway.next(verdict="negative"))  # stored later today: the refresh adds it
    code, out = _checkpoint(lims, tmp_path / "data", capsys, "--date", day)
    assert code == 0 and "refreshed: 6 envelope(s)" in out
    with lims.engine.begin() as conn:
        delete_envelope(conn, f"gateway_id = '{gateway.gateway}' AND seq = 2")
    code, out = _checkpoint(lims, tmp_path / "data", capsys, "--date", day)
    assert code == 2 and f"day {day}" in out and "no longer match" in out
    assert lims.scalar("SELECT count(*) FROM audit_log WHERE action = 'checkpoint.mismatch'") == 1


def test_filtered_export_carries_only_checkpoints_it_fully_holds(
    lims: Lims, gateway: SigningGateway, make_gateway: type[SigningGateway], tmp_path: Path,
    capsys: pytest.CaptureFixture,
) -> None:
    school = make_gateway(gateway="gw-school", site={"id": "yz-school-03", "kind": "school", "name": "某小学"})
    lims.enrol(gateway)
    lims.enrol(school)
    lims.ingest(gateway.next(verdict="negative"), school.next(verdict="negative"))
    assert _checkpoint(lims, tmp_path / "data", capsys)[0] == 0
    export_bundle(lims.engine, tmp_path / "market", None, None, gateway.site["id"])
    assert not (tmp_path / "market" / "checkpoints.jsonl").exists()  # the day also holds the school's envelope
    assert verify_path(tmp_path / "market").ok
    export_bundle(lims.engine, tmp_path / "all", None, None, None)
    assert (tmp_path / "all" / "checkpoints.jsonl").exists() and verify_path(tmp_path / "all").ok
