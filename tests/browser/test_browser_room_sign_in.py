"""Technician sign-in at the room page in chromium: badge, PIN, sign-out and idle sign-out, against the real
daemon (roster fetched from a live LIMS) and the simulated enzyme analyzer."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from gateway.technicians import NOT_SIGNED_IN_FLAG
from protocols.privacy import personal_data_findings
from tests.lims.conftest import SigningGateway

from .lims_server import live_lims
from .room_gateway import room_gateway

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = sync_api.expect
if TYPE_CHECKING:
    from playwright.sync_api import Page

SITE = {"id": "yz-market-07", "kind": "market", "name": "七星岗农贸市场"}
BADGE, PIN, IDLE_S = "YZ-T-0042", "246810", 8


def _results(outbox: Path) -> list[dict[str, Any]]:
    db = sqlite3.connect(f"{outbox.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return [json.loads(text) for (text,) in db.execute("SELECT envelope FROM envelopes ORDER BY seq")]
    finally:
        db.close()


def _next_result(outbox: Path, after: int, timeout: float = 15.0) -> dict[str, Any]:
    """The first envelope with seq > ``after`` (the analyzer sends one per second)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        newer = [e for e in _results(outbox) if e["seq"] > after]
        if newer:
            return newer[0]
        time.sleep(0.1)
    raise AssertionError(f"no result after seq {after} within {timeout} s")


def _last_seq(outbox: Path) -> int:
    envelopes = _results(outbox)
    return envelopes[-1]["seq"] if envelopes else 0


def test_technician_signs_in_by_badge_and_pin_results_carry_only_the_id(page: Page, tmp_path):
    (tmp_path / "lims").mkdir()
    with live_lims(tmp_path / "lims") as lims:
        lims.place_site(SITE, None)
        lims.user("wang.tech", "technician", sites=(SITE["id"],))
        answer = lims.client.put("/api/v1/admin/users/wang.tech/room-sign-in", headers=lims.admin,
                                 json={"display_name": "王芳", "pin": PIN, "badge": BADGE})
        assert answer.status_code == 200, answer.text
        technician_id = answer.json()["technician_id"]

        def enrol(key) -> None:
            lims.enrol(SigningGateway(gateway="gw-room-01", site=dict(SITE), key=key))

        gw_dir = tmp_path / "gw"
        gw_dir.mkdir()
        with room_gateway(gw_dir, channels=1, interval_s=1.0, lims_url=lims.url, on_key=enrol,
                          room_page={"sign_out_idle_s": IDLE_S}) as gateway:
            roster = gateway.outbox.with_name("outbox.sqlite3.technicians.json")
            deadline = time.monotonic() + 15
            while not roster.exists():
                assert time.monotonic() < deadline, "the roster never reached the gateway"
                time.sleep(0.1)
            page.goto(gateway.url)
            expect(page.locator("#not-signed-in")).to_be_visible()
            before = _next_result(gateway.outbox, 0)
            assert NOT_SIGNED_IN_FLAG in before["result"]["qc"]["flags"] and before["result"]["operator"] == "tech-001"

            page.get_by_label("工牌（扫码）").click()
            page.keyboard.type(BADGE, delay=5)  # the scanner types the badge and ends with Enter
            page.keyboard.press("Enter")
            expect(page.locator("#signed-in-who")).to_contain_text("王芳")
            expect(page.locator("#signed-in-who")).to_contain_text(technician_id)
            signed = _next_result(gateway.outbox, _last_seq(gateway.outbox))
            assert signed["result"]["operator"] == technician_id
            assert NOT_SIGNED_IN_FLAG not in signed["result"]["qc"]["flags"]
            assert "王芳" not in json.dumps(signed, ensure_ascii=False) and personal_data_findings(signed) == []

            page.get_by_role("button", name="签退").click()
            expect(page.locator("#not-signed-in")).to_be_visible()
            after = _next_result(gateway.outbox, _last_seq(gateway.outbox))
            assert NOT_SIGNED_IN_FLAG in after["result"]["qc"]["flags"] and after["result"]["operator"] == "tech-001"
            expect(page.locator(f"#r{after['seq']}")).to_contain_text("未签到")  # the live row shows it

            page.get_by_label("检测人", exact=True).select_option(technician_id)
            page.get_by_label("PIN 码").fill("000000")
            page.get_by_role("button", name="签到").click()
            expect(page.locator("#sign-in-error")).to_be_visible()
            page.get_by_label("PIN 码").fill(PIN)
            page.get_by_role("button", name="签到").click()
            expect(page.locator("#signed-in-who")).to_contain_text("王芳")

            deadline = time.monotonic() + IDLE_S + 10  # no page action: signed out after IDLE_S
            while page.locator("#not-signed-in").count() == 0:
                assert time.monotonic() < deadline, "idle sign-out never happened"
                time.sleep(0.5)
                page.reload()
            idle = _next_result(gateway.outbox, _last_seq(gateway.outbox))
            assert NOT_SIGNED_IN_FLAG in idle["result"]["qc"]["flags"]
