"""Audit export bundle (contract §3): manifest, keys, envelopes byte-identical and ordered."""

from __future__ import annotations

import json
import tarfile
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from lims_api import export_bundle
from lims_api.__main__ import main
from lims_api.core.errors import ExportError
from protocols.envelope import b64url_decode, check_shape, verify_signature

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway

SCHOOL = {"id": "yz-school-03", "kind": "school", "name": "渝中区第三小学食堂"}


def _seed(lims: Lims, market: SigningGateway, school: SigningGateway) -> list[str]:
    """Store envelopes out of order across two gateways and days; return their lines as posted."""
    lims.enrol(market)
    lims.enrol(school)
    m1 = market.next(tested_at="2026-11-22T18:00:00+08:00")
    m2 = market.next(tested_at="2026-11-23T09:00:00+08:00")
    m3 = market.next(tested_at="2026-11-23T10:00:00+08:00", sample={"name": "空心菜 \"特价\""})
    s1 = school.next(tested_at="2026-11-23T11:00:00+08:00")
    lines = [market.line(e) for e in (m1, m2, m3)] + [school.line(s1)]
    lims.ingest(lines[3], lines[0], lines[2], lines[1])  # gap then filled; order of arrival scrambled
    return lines


def _read_bundle(directory: Path) -> tuple[dict, list[dict], bytes]:
    manifest = json.loads((directory / "manifest.json").read_text("utf-8"))
    keys = json.loads((directory / "keys.json").read_text("utf-8"))
    return manifest, keys, (directory / "envelopes.jsonl").read_bytes()


def test_bundle_holds_every_envelope_as_posted(
    lims: Lims, gateway: SigningGateway, make_gateway: type[SigningGateway], tmp_path: Path
) -> None:
    school = make_gateway(gateway="gw-yz-school-03", site=SCHOOL)
    lines = _seed(lims, gateway, school)
    count = export_bundle(lims.engine, tmp_path / "bundle", None, None, None)
    manifest, keys, envelopes = _read_bundle(tmp_path / "bundle")
    assert count == 4
    assert set(manifest) == {"format", "created_at", "range", "sites", "counts"}
    assert manifest["format"] == "kuaijian-bundle/1"
    assert datetime.fromisoformat(manifest["created_at"]).utcoffset() is not None
    assert manifest["range"] == {"from": None, "to": None}
    assert manifest["sites"] == ["yz-market-07", "yz-school-03"]
    assert manifest["counts"] == {"envelopes": 4}
    # ordered by gateway then seq; each line byte-identical to what was posted
    assert envelopes == "".join(line + "\n" for line in lines[:3] + lines[3:]).encode("utf-8")
    assert [(k["gateway"], k["public_key"], k["revoked_at"]) for k in keys] == [
        (gateway.gateway, gateway.public_key, None),
        (school.gateway, school.public_key, None),
    ]
    assert all(set(k) == {"gateway", "kid", "public_key", "valid_from", "revoked_at"} for k in keys)
    by_kid = {k["kid"]: b64url_decode(k["public_key"]) for k in keys}
    for line in envelopes.decode("utf-8").splitlines():  # a verifier can check them with the bundle alone
        envelope = json.loads(line)
        check_shape(envelope)
        verify_signature(envelope, by_kid[envelope["kid"]])


def test_bundle_range_and_site_filters(
    lims: Lims, gateway: SigningGateway, make_gateway: type[SigningGateway], tmp_path: Path
) -> None:
    lines = _seed(lims, gateway, make_gateway(gateway="gw-yz-school-03", site=SCHOOL))
    day = date(2026, 11, 23)
    assert export_bundle(lims.engine, tmp_path / "day", day, day, "yz-market-07") == 2
    manifest, keys, envelopes = _read_bundle(tmp_path / "day")
    assert manifest["range"] == {"from": "2026-11-23", "to": "2026-11-23"}
    assert manifest["sites"] == ["yz-market-07"]
    assert manifest["counts"] == {"envelopes": 2}
    assert envelopes.decode("utf-8").splitlines() == lines[1:3]
    assert [k["gateway"] for k in keys] == [gateway.gateway]
    assert export_bundle(lims.engine, tmp_path / "before", None, date(2026, 11, 22), None) == 1


def test_revoked_key_is_exported_with_its_revocation_time(
    lims: Lims, gateway: SigningGateway, tmp_path: Path
) -> None:
    kid = lims.enrol(gateway)["kid"]
    lims.ingest(gateway.next())
    lims.client.post(f"/api/v1/gateways/{gateway.gateway}/keys/{kid}/revoke", headers=lims.auth)
    export_bundle(lims.engine, tmp_path / "b", None, None, None)
    (key,) = json.loads((tmp_path / "b" / "keys.json").read_text("utf-8"))
    assert key["kid"] == kid and datetime.fromisoformat(key["revoked_at"]).utcoffset() is not None


def test_cli_export_tar(lims: Lims, gateway: SigningGateway, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    lims.enrol(gateway)
    sent = [gateway.next(), gateway.next()]
    lims.ingest(*sent)
    out = tmp_path / "audit-2026-11"
    code = main(["export", "--db", lims.url, "--out", str(out), "--from", "2026-11-01", "--to", "2026-11-30", "--tar"])
    assert code == 0 and "exported 2 envelope(s)" in capsys.readouterr().out
    assert not out.exists()
    with tarfile.open(tmp_path / "audit-2026-11.tar.gz") as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    manifest, _keys, envelopes = _read_bundle(tmp_path / "unpacked" / "audit-2026-11")
    assert manifest["counts"] == {"envelopes": 2}
    assert envelopes.decode("utf-8").splitlines() == [gateway.line(e) for e in sent]


def test_export_refuses_non_empty_directory_and_reversed_range(lims: Lims, tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "other.txt").write_text("x")
    with pytest.raises(ExportError, match="not empty"):
        export_bundle(lims.engine, tmp_path / "full", None, None, None)
    with pytest.raises(ExportError, match="after"):
        export_bundle(lims.engine, tmp_path / "x", date(2026, 12, 1), date(2026, 11, 1), None)
    assert main(["export", "--db", lims.url, "--out", str(tmp_path / "full")]) == 2
