"""Regulator console: the district's sites with gateway health from heartbeats, chain status, cases,
checkpoints with their signature check, inline SVG charts, and the audit-bundle download."""

from __future__ import annotations

import io
import re
import tarfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from lims_api import create_app
from lims_api.audit.checkpoints import run_checkpoints
from lims_api.audit.signing_key import load_or_create_key
from lims_api.core.models import utc_now
from lims_api.core.settings import LimsSettings
from protocols.bundle import verify_bundle

from .conftest import Lims
from .pages_seed import MARKET_A, MARKET_B, SCHOOL_JB, ZONE, result, seed_day, seed_places
from .test_lims_heartbeat_api import beat, post


def _seeded(lims: Lims) -> tuple[Any, dict[str, dict[str, str]]]:
    gateways = seed_places(lims)
    seed_day(lims, gateways[0], gateways[1])
    users = {"regulator_yz": lims.user("reg-yz", "regulator", district="yz"),
             "manager_a": lims.user("manager-a", "manager", sites=(MARKET_A["id"],))}
    return gateways, users


def _row(page: str, row_id: str) -> str:
    match = re.search(rf'<tr id="{row_id}"[^>]*>(.*?)</tr>', page, re.S)
    assert match, row_id
    return match.group(0)


def test_console_shows_the_district_with_gateway_health(lims: Lims) -> None:
    (a, b, school), users = _seeded(lims)
    assert post(lims, a.gateway, beat(a)).status_code == 200
    old = datetime.now().astimezone() - timedelta(minutes=10)
    assert post(lims, b.gateway, beat(b, sent_at=old)).status_code == 200
    _received_ago(lims, b.gateway, timedelta(minutes=10))
    page = lims.client.get("/console", headers=users["regulator_yz"]).text
    assert MARKET_A["name"] in page and MARKET_B["name"] in page and SCHOOL_JB["name"] not in page
    assert 'data-state="online"' in _row(page, f"gw-{a.gateway}") and "在线" in _row(page, f"gw-{a.gateway}")
    assert "离线" in _row(page, f"gw-{b.gateway}")
    assert "ei-01" in _row(page, f"gw-{a.gateway}")
    assert re.search(r'id="sum-online"><span>在线网关</span><b>1</b>', page)
    assert re.search(r'id="sum-offline_count"><span>离线网关</span><b>1</b>', page)
    assert re.search(r'id="sum-positives_today"[^>]*><span>今日阳性</span><b>1</b>', page)


def test_console_marks_overdue_and_soon_due_calibration(lims: Lims) -> None:
    (a, _, _), users = _seeded(lims)
    today = datetime.now(ZONE).date()
    dues = {"ei-01": today - timedelta(days=1), "gr-01": today + timedelta(days=10),
            "aq-01": today + timedelta(days=100), "ei-02": None}
    instruments = [{"id": name, "state": "online", "last_result_at": None, "last_error": None,
                    "calibration_due": None if due is None else due.isoformat()} for name, due in dues.items()]
    status = {"instruments": instruments, "backlog": 0, "last_seq": a.seq, "last_upload_at": None}
    assert post(lims, a.gateway, beat(a, status=status)).status_code == 200
    row = _row(lims.client.get("/console/health", headers=users["regulator_yz"]).text, f"gw-{a.gateway}")
    cells = {name: _instrument(row, name) for name in dues}
    assert 'data-calibration="overdue"' in cells["ei-01"] and "⚠ </span>校准已过期" in cells["ei-01"]
    assert f"校准有效期至 <time datetime=\"{dues['ei-01']}\">{dues['ei-01']}</time>" in cells["ei-01"]
    assert 'data-calibration="due_soon"' in cells["gr-01"] and "即将到期" in cells["gr-01"]
    assert "校准已过期" not in cells["gr-01"]
    assert 'data-calibration="ok"' in cells["aq-01"] and str(dues["aq-01"]) in cells["aq-01"]
    assert "即将到期" not in cells["aq-01"] and "校准已过期" not in cells["aq-01"]
    assert "校准" not in cells["ei-02"]  # not configured at the gateway
    english = lims.client.get("/console/health?lang=en", headers=users["regulator_yz"]).text
    assert "Calibration overdue" in _instrument(_row(english, f"gw-{a.gateway}"), "ei-01")


def _instrument(row: str, name: str) -> str:
    match = re.search(rf'<div class="instrument" data-instrument="{name}".*?</div>(?:</div>)?', row, re.S)
    assert match, name
    return match.group(0)


def _received_ago(lims: Lims, gateway: str, age: timedelta) -> None:
    """Make the stored heartbeat of ``gateway`` look ``age`` old."""
    with lims.engine.begin() as conn:
        conn.execute(text("UPDATE gateway_heartbeats SET received_at = :at WHERE gateway_id = :gw"),
                     {"at": datetime.now(UTC).replace(tzinfo=None) - age, "gw": gateway})


def test_offline_threshold_follows_settings_and_interval(lims: Lims, settings: LimsSettings) -> None:
    (a, _, _), users = _seeded(lims)
    post(lims, a.gateway, beat(a, interval_s=1.0))
    _received_ago(lims, a.gateway, timedelta(seconds=2))
    page = lims.client.get("/console", headers=users["regulator_yz"]).text
    assert 'data-state="online"' in _row(page, f"gw-{a.gateway}")  # within 3 × 1 s
    _received_ago(lims, a.gateway, timedelta(seconds=4))
    page = lims.client.get("/console", headers=users["regulator_yz"]).text
    assert 'data-state="offline"' in _row(page, f"gw-{a.gateway}")
    slow = settings.model_copy(update={"heartbeat_offline_s": 3600.0})
    with TestClient(create_app(slow)) as client:
        page = client.get("/console", headers=users["regulator_yz"]).text
    assert 'data-state="online"' in _row(page, f"gw-{a.gateway}")


def test_chain_cases_checkpoints_and_charts(lims: Lims, settings: LimsSettings) -> None:
    (a, _, _), users = _seeded(lims)
    lims.ingest(a.seal_at(a.seq + 3, "0" * 64, **result("跳号", "Z-9", "negative")))  # leaves a gap
    with Session(lims.engine) as session:
        run_checkpoints(session, load_or_create_key(settings.data_dir), ZONE, utc_now())
    page = lims.client.get("/console", headers=users["regulator_yz"]).text
    chain = page[page.index('id="chain-table"'):page.index('id="h-cases"')]
    assert f"{a.seq - 2}–{a.seq - 1}" in chain or f"{a.seq + 1}–{a.seq + 2}" in chain
    cases = page[page.index('id="cases-table"'):page.index('id="h-charts"')]
    assert "小白菜" in cases and "暂停销售" in cases
    checkpoints = page[page.index('id="checkpoints-table"'):page.index('id="h-export"')]
    assert "有效" in checkpoints and "无效" not in checkpoints
    assert page.count("<svg") == 3 and 'role="img"' in page and "有机磷和氨基甲酸酯类农药" in page
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/console.js" defer>']  # local, no CDN


def test_export_streams_a_bundle_that_verifies(lims: Lims) -> None:
    (a, _, _), users = _seeded(lims)
    local_today = datetime.now(ZONE).date()
    today, since = local_today.isoformat(), (local_today - timedelta(days=7)).isoformat()
    response = lims.client.get("/console/export", params={"from": since, "to": today, "site": MARKET_A["id"]},
                               headers=users["regulator_yz"])
    assert response.status_code == 200 and response.headers["content-type"] == "application/gzip"
    assert "attachment" in response.headers["content-disposition"]
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as tar:
        files = {m.name.split("/", 1)[1]: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    report = verify_bundle(files["manifest.json"], files["keys.json"], files["envelopes.jsonl"])
    assert report.ok, report
    assert files["envelopes.jsonl"].count(b"\n") == a.seq
    audit = lims.scalar("SELECT actor FROM audit_log WHERE action = 'console.export'")
    assert audit == "regulator:reg-yz"


@pytest.mark.parametrize(("who", "params", "status"), [
    ("regulator_yz", {"site": SCHOOL_JB["id"]}, 404),
    ("regulator_yz", {}, 422),
    ("manager_a", {"site": MARKET_A["id"]}, 403),
    (None, {"site": MARKET_A["id"]}, 401),
])
def test_export_and_console_are_scoped(lims: Lims, who: str | None, params: dict[str, str], status: int) -> None:
    _, users = _seeded(lims)
    headers = users[who] if who else {}
    response = lims.client.get("/console/export", params={"from": "2026-01-01", "to": "2026-01-02", **params},
                               headers=headers)
    assert response.status_code == status, response.text
    assert lims.client.get("/console", headers=users["manager_a"]).status_code == 403
    assert lims.client.get("/console", follow_redirects=False).status_code == 303
