"""The regulator console in chromium: its live part refreshes itself, so a gateway shown online goes 离线
once the (configurable) threshold has passed and the QC table follows new results, all without a reload;
charts and tables render."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

from playwright.sync_api import Page, expect

from protocols.wire.heartbeat import sign_document
from tests.lims.conftest import SigningGateway
from tests.lims.pages_seed import days_ago, qc_run, result, seed_day, seed_places

from .conftest import save_screenshot
from .lims_server import LiveLims, live_lims

OFFLINE_AFTER_S = 1.5
REFRESH_S = 0.3


def _heartbeat(lims: LiveLims, gateway: SigningGateway, *, skew_s: float = 0.0, backlog: int = 0) -> None:
    from protocols.envelope import key_id, public_key_bytes

    sent = datetime.now().astimezone() - timedelta(seconds=skew_s)
    document = sign_document({
        "gateway": gateway.gateway, "kid": key_id(public_key_bytes(gateway.key.public_key())),
        "sent_at": sent.isoformat(timespec="milliseconds"), "interval_s": 30.0,
        "status": {"instruments": [{"id": "ei-01", "state": "online", "last_result_at": None, "last_error": None},
                                   {"id": "gr-01", "state": "error", "last_result_at": None,
                                    "last_error": "SerialException: port closed"}],
                   "backlog": backlog, "last_seq": gateway.seq, "last_upload_at": None},
    }, gateway.key)
    response = lims.client.post(f"/api/v1/gateways/{gateway.gateway}/heartbeat", json=document)
    assert response.status_code == 200, response.text


def _checkpoint(lims: LiveLims) -> None:
    """Sign today's checkpoint, as the nightly ``python -m lims_api checkpoint`` would."""
    from zoneinfo import ZoneInfo

    from sqlalchemy.orm import Session

    from lims_api.audit.checkpoints import run_checkpoints
    from lims_api.audit.signing_key import load_or_create_key
    from lims_api.core.db import make_engine
    from lims_api.core.models import utc_now

    engine = make_engine(lims.settings.resolved_database_url())
    try:
        with Session(engine) as session:
            run_checkpoints(session, load_or_create_key(lims.settings.data_dir), ZoneInfo("Asia/Shanghai"), utc_now())
    finally:
        engine.dispose()


def _open_console(page: Page, lims: LiveLims) -> None:
    """Open the console as a regulator of yz and mark the document, so that a reload would show."""
    page.context.add_cookies([lims.login_cookie(lims.user("reg-yz", "regulator", district="yz"))])
    page.goto(f"{lims.url}/console")
    page.evaluate("window.kjSameDocument = true")


def test_console_shows_a_gateway_going_offline_without_reload(page: Page, tmp_path):
    with live_lims(tmp_path, heartbeat_offline_s=OFFLINE_AFTER_S, console_refresh_s=REFRESH_S) as lims:
        a, _, _ = seed_places(lims)
        beat_at = time.time()  # the LIMS judges offline by its wall clock (received_at), so the test does too
        _heartbeat(lims, a)
        _open_console(page, lims)
        state = page.locator(f"#gw-{a.gateway} .gw-state")
        expect(state).to_have_text("在线")
        expect(page.locator("#sum-offline_count b")).to_have_text("1")  # market B's gateway never sent one
        expect(page.locator("#live-text")).to_have_text("自动刷新中")
        expect(state).to_have_text("离线", timeout=(OFFLINE_AFTER_S + 10) * 1000)
        assert time.time() - beat_at >= OFFLINE_AFTER_S
        expect(page.locator(f"#gw-{a.gateway}")).to_have_attribute("data-state", "offline")
        expect(page.locator("#sum-offline_count b")).to_have_text("2")
        _heartbeat(lims, a, backlog=7)
        expect(state).to_have_text("在线")
        expect(page.locator(f"#gw-{a.gateway} td.num").first).to_have_text("7")
        assert page.evaluate("window.kjSameDocument") is True, "the page was reloaded"


def test_console_open_when_the_session_ends_goes_to_the_login_page(page: Page, tmp_path):
    with live_lims(tmp_path, console_refresh_s=REFRESH_S) as lims:
        seed_places(lims)
        _open_console(page, lims)
        expect(page.locator("#live-text")).to_have_text("自动刷新中")
        page.context.clear_cookies()  # the session is gone (signed out elsewhere, expired)
        expect(page).to_have_url(re.compile(r"/login"))
        expect(page.locator("#console-live")).to_have_count(0)


def test_console_qc_table_follows_the_results_without_reload(page: Page, tmp_path):
    with live_lims(tmp_path, console_refresh_s=REFRESH_S) as lims:
        a, _, _ = seed_places(lims)
        _open_console(page, lims)
        expect(page.locator("#h-qc + p.empty")).to_be_visible()
        lims.ingest(a.next(**qc_run(lot="L1")))
        row = page.locator(f'#qc-table tr[data-gateway="{a.gateway}"][data-instrument="ei-01"]')
        expect(row).to_have_attribute("data-qc", "due")
        expect(row.locator(".qc-state")).to_contain_text("质控缺失")
        expect(page.locator("#sum-qc_due b")).to_have_text("1")
        lims.ingest(a.next(**qc_run("negative_control")), a.next(**qc_run("positive_control", measured_lot="L1")))
        expect(row).to_have_attribute("data-qc", "done")
        expect(row.locator(".qc-state")).to_have_text("✓ 质控完成")
        expect(page.locator("#sum-qc_due b")).to_have_text("0")
        assert page.evaluate("window.kjSameDocument") is True, "the page was reloaded"


def test_console_screenshot(page: Page, tmp_path):
    with live_lims(tmp_path) as lims:
        a, b, school = seed_places(lims)
        seed_day(lims, a, b)
        for days, verdict, name, item in ((1, "positive", "韭菜", None), (2, "positive", "牛肉", "克伦特罗"),
                                          (5, "positive", "豇豆", None), (6, "negative", "白菜", None)):
            lims.ingest(b.next(**result(name, "C-02", verdict, tested_at=days_ago(days), item=item)))
        lims.ingest(a.next(**qc_run("negative_control")), a.next(**qc_run("positive_control")),  # ei-01: QC done
                    a.next(**qc_run("negative_control", instrument="gr-01")))  # gr-01: positive control missing
        lims.ingest(a.seal_at(a.seq + 3, "0" * 64, **result("西芹", "A-09", "negative")))  # a gap in the chain
        _heartbeat(lims, a, skew_s=2.4, backlog=3)
        _heartbeat(lims, b)
        _checkpoint(lims)
        page.context.add_cookies([lims.login_cookie(lims.user("reg-yz", "regulator", district="yz"))])
        page.goto(f"{lims.url}/console")
        expect(page.locator("#chart-by-day svg")).to_be_visible()
        expect(page.locator(f"#gw-{a.gateway} .gw-state")).to_have_text("在线")
        expect(page.locator("#checkpoints-table")).to_contain_text("有效")
        expect(page.locator('#qc-table tr[data-qc="due"]')).to_have_count(2)  # gr-01 and market B's ei-01
        save_screenshot(page, "lims-console.png")
