"""The console's QC of the day (negative and positive controls per instrument and kit lot) and its live
fragment ``/console/health``: signed envelopes through the real ingest, then the data, the page, the fragment."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.orm import Session

from lims_api import LimsSettings, create_app
from lims_api.pages.console_qc import InstrumentQc, qc_today

from .conftest import Lims, SigningGateway
from .pages_seed import MARKET_A, MARKET_B, ZONE, days_ago, local_now, qc_run, seed_places
from .test_lims_console_page import _received_ago
from .test_lims_heartbeat_api import beat, post


def _run(gw: SigningGateway, instrument: str, control: str = "sample", **kit: Any) -> dict[str, Any]:
    """One signed run of ``instrument`` today (30 minutes ago unless ``tested_at`` is given)."""
    return gw.next(**qc_run(control, instrument=instrument, **{"tested_at": local_now(30), **kit}))


def _ingest(lims: Lims, *envelopes: dict[str, Any]) -> None:
    assert {r["status"] for r in lims.ingest(*envelopes)} == {"stored"}


def _seeded(lims: Lims) -> tuple[tuple[SigningGateway, ...], dict[str, dict[str, str]], str]:
    """Market A: ei-01 done, gr-01 due for lot G7, ei-02 due (positive control only yesterday), as-01 controls
    only; market B: a sample without controls; the school (other district): the same. Also returns when
    ei-01's last negative control was tested."""
    a, b, school = seed_places(lims)
    last_negative = local_now(40)
    _ingest(lims,
            _run(a, "ei-01", lot="L1", tested_at=local_now(50)), _run(a, "ei-01", lot="L1", tested_at=local_now(45)),
            _run(a, "ei-01", "negative_control", tested_at=local_now(60)),
            _run(a, "ei-01", "negative_control", tested_at=last_negative),
            _run(a, "ei-01", "positive_control", tested_at=local_now(39)),
            _run(a, "gr-01", measured_lot="G7"), _run(a, "gr-01", "negative_control", measured_lot="G7"),
            _run(a, "gr-01", "positive_control", measured_lot="G6"),
            _run(a, "ei-02"), _run(a, "ei-02", "negative_control"),
            _run(a, "ei-02", "positive_control", tested_at=days_ago(1)),
            _run(a, "as-01", "negative_control"), _run(a, "as-01", "positive_control"), _run(a, "as-01", "blank"))
    _ingest(lims, _run(b, "ei-01"))
    _ingest(lims, _run(school, "ei-01"))
    users = {"regulator": lims.user("reg-yz", "regulator", district="yz"),
             "manager": lims.user("manager-a", "manager", sites=(MARKET_A["id"],))}
    return (a, b, school), users, last_negative


def _by_instrument(lines: list[InstrumentQc]) -> dict[tuple[str, str], InstrumentQc]:
    return {(line.gateway_id, line.instrument_id): line for line in lines}


def test_qc_of_the_day_per_instrument_and_kit_lot(lims: Lims) -> None:
    (a, b, _), _, last_negative = _seeded(lims)
    today = datetime.now(ZONE).date()
    with Session(lims.engine) as session:
        lines = _by_instrument(qc_today(session, [MARKET_A["id"], MARKET_B["id"]], today))
    assert sorted(lines) == [(a.gateway, "as-01"), (a.gateway, "ei-01"), (a.gateway, "ei-02"), (a.gateway, "gr-01"),
                             (b.gateway, "ei-01")]
    done = lines[(a.gateway, "ei-01")]
    assert (done.state, done.samples, done.lots, done.missing) == ("done", 2, ["L1"], [])
    assert done.last_control_at["negative_control"] == datetime.fromisoformat(last_negative)
    assert lines[(a.gateway, "gr-01")].missing == [("positive_control", "G7")]
    assert lines[(a.gateway, "gr-01")].lots == ["G7"]
    assert lines[(a.gateway, "ei-02")].missing == [("positive_control", None)]
    assert "positive_control" not in lines[(a.gateway, "ei-02")].last_control_at  # yesterday's does not count
    only_controls = lines[(a.gateway, "as-01")]
    assert (only_controls.state, only_controls.samples, only_controls.missing) == ("no_samples", 0, [])
    assert lines[(b.gateway, "ei-01")].missing == [("negative_control", None), ("positive_control", None)]
    assert {line.state for line in lines.values()} == {"done", "due", "no_samples"}


def _qc_row(page: str, gateway: str, instrument: str) -> str:
    match = re.search(rf'<tr data-gateway="{gateway}" data-instrument="{instrument}"[^>]*>(.*?)</tr>', page, re.S)
    assert match, (gateway, instrument)
    return match.group(0)


def test_console_marks_qc_due_and_counts_it(lims: Lims) -> None:
    (a, b, school), users, _ = _seeded(lims)
    page = lims.client.get("/console", headers=users["regulator"]).text
    assert "无质控数据" not in page and school.gateway not in page
    due = _qc_row(page, a.gateway, "gr-01")
    assert 'data-qc="due"' in due and "⚠" in due and "质控缺失" in due and "缺阳性质控 (批号 <span class=\"mono\">G7" in due
    assert "缺阴性质控" in _qc_row(page, b.gateway, "ei-01") and "缺阳性质控" in _qc_row(page, b.gateway, "ei-01")
    done = _qc_row(page, a.gateway, "ei-01")
    assert 'data-qc="done"' in done and "质控完成" in done and "质控缺失" not in done and "L1" in done
    assert "今日未做" in _qc_row(page, a.gateway, "ei-02")
    assert "已做质控，暂无样品" in _qc_row(page, a.gateway, "as-01")
    assert re.search(r'id="sum-qc_due"><span>质控缺失</span><b>3</b>', page)
    # control runs are QC, not tests: five samples today, the positive controls are no positives and open no case
    assert re.search(r'id="sum-tests_today"[^>]*><span>今日检测</span><b>5</b>', page)
    assert re.search(r'id="sum-positives_today"[^>]*><span>今日阳性</span><b>0</b>', page)
    assert lims.scalar("SELECT count(*) FROM cases") == 0
    english = lims.client.get("/console", params={"lang": "en"}, headers=users["regulator"]).text
    assert "positive control missing (lot" in english and re.search(r'id="sum-qc_due"><span>QC due</span>', english)


def test_no_result_today_says_so(lims: Lims) -> None:
    seed_places(lims)
    page = lims.client.get("/console", headers={"Authorization": lims.auth["Authorization"]}).text
    assert "今日暂无检测或质控结果。" in page and 'id="qc-table"' not in page
    assert re.search(r'id="sum-qc_due"><span>质控缺失</span><b>0</b>', page)


def test_health_fragment_is_the_live_part_and_follows_the_heartbeats(lims: Lims) -> None:
    (a, _, school), users, _ = _seeded(lims)
    assert post(lims, a.gateway, beat(a)).status_code == 200
    response = lims.client.get("/console/health", headers=users["regulator"])
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    fragment = response.text
    assert fragment.lstrip().startswith('<div id="console-live">')
    assert "<html" not in fragment and "<script" not in fragment and school.gateway not in fragment
    assert 'id="health-table"' in fragment and 'id="qc-table"' in fragment and 'id="chain-table"' in fragment
    assert re.search(rf'<tr id="gw-{a.gateway}" data-state="online"', fragment)
    assert re.search(r'id="sum-offline_count"[^>]*><span>离线网关</span><b>1</b>', fragment)  # b: no heartbeat
    _received_ago(lims, a.gateway, timedelta(minutes=10))
    fragment = lims.client.get("/console/health", headers=users["regulator"]).text
    assert re.search(rf'<tr id="gw-{a.gateway}" data-state="offline"', fragment)
    assert re.search(r'id="sum-offline_count"[^>]*><span>离线网关</span><b>2</b>', fragment)
    admin = lims.client.get("/console/health", params={"district": "jb"}, headers=lims.auth).text
    assert school.gateway in admin and a.gateway not in admin


@pytest.mark.parametrize(("who", "status"), [(None, 401), ("manager", 403)])
def test_health_fragment_refuses_public_and_managers(lims: Lims, who: str | None, status: int) -> None:
    _, users, _ = _seeded(lims)
    response = lims.client.get("/console/health", headers=users[who] if who else {}, follow_redirects=False)
    assert response.status_code == status, response.text
    assert "console-live" not in response.text


def test_refresh_interval_comes_from_settings(lims: Lims, settings: LimsSettings,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    page = lims.client.get("/console", headers=lims.auth).text
    assert 'data-refresh-ms="10000"' in page and 'src="/static/console.js"' in page
    monkeypatch.setenv("KUAIJIAN_LIMS_CONSOLE_REFRESH_S", "2.5")
    with TestClient(create_app(LimsSettings(**settings.model_dump(exclude={"console_refresh_s"})))) as client:
        assert 'data-refresh-ms="2500"' in client.get("/console", headers=lims.auth).text
    monkeypatch.setenv("KUAIJIAN_LIMS_CONSOLE_REFRESH_S", "0")
    with pytest.raises(ValidationError, match="console_refresh_s"):
        LimsSettings()
    assert lims.client.get("/static/console.js").status_code == 200
