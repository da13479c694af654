"""The room page with labelled, unlabelled and positive results; saved for docs/ by `make screenshots`."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest

from gateway.labels import SampleLabel

from .conftest import save_screenshot
from .room_gateway import room_gateway

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = sync_api.expect
if TYPE_CHECKING:
    from playwright.sync_api import Page

KIT = {"operator": "tech-li", "kit_lot": "EI-2411", "kit_expiry": date(2026, 12, 31)}
LABELS = [
    SampleLabel(instrument="ei-01", channel=1, name="菠菜", category="vegetable", stall="A-12",
                supplier="渝北蔬菜合作社", origin="重庆璧山", barcode="6901234567892", **KIT),
    SampleLabel(instrument="ei-01", channel=2, name="小白菜", category="vegetable", stall="A-07", origin="重庆江津",
                **KIT),
    SampleLabel(instrument="ei-01", channel=3, name="韭菜", category="vegetable", stall="B-03", origin="四川彭州",
                **KIT),
]


def test_browser_room_screenshot(page: Page, tmp_path):
    # seed 5: run 1 has positives on channels 2 and 3 (invalid rows: tests/gateway/test_gw_room_rows.py)
    with room_gateway(tmp_path, channels=4, interval_s=1.5, seed=5, runs=3, labels=LABELS) as gateway:
        page.goto(gateway.url)
        expect(page.locator("tr.result")).to_have_count(12, timeout=30_000)  # three runs of four channels
        positive = page.locator("tr.verdict-positive .verdict").first
        expect(positive).to_have_text("阳性")
        assert positive.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(179, 0, 27)"
        for name in ("菠菜", "小白菜", "韭菜"):
            expect(page.locator("tr.result .sample-name", has_text=name)).to_have_count(1)
        expect(page.locator("tr.result.is-unlabelled")).to_have_count(9)

        page.get_by_label("通道").select_option("4")
        page.get_by_label("追溯码 / 条码").fill("6923450657713")
        page.get_by_label("样品名称").fill("豇豆")
        page.get_by_label("类别").select_option(label="蔬菜")
        page.get_by_label("摊位").fill("C-15")
        page.get_by_label("产地").fill("海南三亚")
        page.get_by_role("button", name="加入队列").click()
        expect(page.get_by_text("已加入队列：豇豆")).to_be_visible()
        save_screenshot(page, "room-page.png")
