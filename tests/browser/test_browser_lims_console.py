"""The regulator console in chromium: a gateway shown online after its heartbeat goes 离线 once the
(configurable) threshold has passed; charts and tables render."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from playwright.sync_api import Page, expect

from gateway.heartbeat import sign_heartbeat
from tests.lims.conftest import SigningGateway
from tests.lims.pages_seed import days_ago, result, seed_day, seed_places

from .conftest import save_screenshot
from .lims_server import LiveLims, live_lims

OFFLINE_AFTER_S = 1.5


def _heartbeat(lims: LiveLims, gateway: SigningGateway, *, skew_s: float = 0.0, backlog: int = 0) -> None:
    from protocols.envelope import key_id, public_key_bytes

    sent = datetime.now().astimezone() - timedelta(seconds=skew_s)
    document = sign_heartbeat({
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

    from lims_api.checkpoints import run_checkpoints
    from lims_api.db import make_engine
    from lims_api.models import utc_now
    from lims_api.signing_key import load_or_create_key

    engine = make_engine(lims.settings.resolved_database_url())
    try:
        with Session(engine) as session:
            run_checkpoints(session, load_or_create_key(lims.settings.data_dir), ZoneInfo("Asia/Shanghai"), utc_now())
    finally:
        engine.dispose()


def test_console_shows_a_gateway_going_offline(page: Page, tmp_path):
    with live_lims(tmp_path, heartbeat_offline_s=OFFLINE_AFTER_S) as lims:
        a, _, _ = seed_places(lims)
        page.context.add_cookies([lims.login_cookie(lims.user("reg-yz", "regulator", district="yz"))])
        _heartbeat(lims, a)
        beat_at = time.monotonic()
        page.goto(f"{lims.url}/console")
        state = page.locator(f"#gw-{a.gateway} .gw-state")
        expect(state).to_have_text("在线")
        deadline = beat_at + OFFLINE_AFTER_S + 5
        while state.inner_text() != "离线":  # time passes; each reload asks the server again
            assert time.monotonic() < deadline, "the console never showed the gateway offline"
            page.wait_for_timeout(250)
            page.reload()
        assert time.monotonic() - beat_at >= OFFLINE_AFTER_S
        expect(page.locator(f"#gw-{a.gateway}")).to_have_attribute("data-state", "offline")


def test_console_screenshot(page: Page, tmp_path):
    with live_lims(tmp_path) as lims:
        a, b, school = seed_places(lims)
        seed_day(lims, a, b)
        for days, verdict, name, item in ((1, "positive", "韭菜", None), (2, "positive", "牛肉", "克伦特罗"),
                                          (5, "positive", "豇豆", None), (6, "negative", "白菜", None)):
            lims.ingest(b.next(**result(name, "C-02", verdict, tested_at=days_ago(days), item=item)))
        lims.ingest(a.seal_at(a.seq + 3, "0" * 64, **result("西芹", "A-09", "negative")))  # a gap in the chain
        _heartbeat(lims, a, skew_s=2.4, backlog=3)
        _heartbeat(lims, b)
        _checkpoint(lims)
        page.context.add_cookies([lims.login_cookie(lims.user("reg-yz", "regulator", district="yz"))])
        page.goto(f"{lims.url}/console")
        expect(page.locator("#chart-by-day svg")).to_be_visible()
        expect(page.locator(f"#gw-{a.gateway} .gw-state")).to_have_text("在线")
        expect(page.locator("#checkpoints-table")).to_contain_text("有效")
        save_screenshot(page, "lims-console.png")
