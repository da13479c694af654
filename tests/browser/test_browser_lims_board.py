"""The market board in chromium: a result posted to ingest appears without reload within 2 s; another
market's board stays closed."""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect

from tests.lims.pages_seed import MARKET_A, MARKET_B, result, seed_day, seed_places

from .conftest import save_screenshot
from .lims_server import live_lims


def test_new_result_appears_on_the_board_within_2_s_without_reload(page: Page, tmp_path):
    with live_lims(tmp_path) as lims:
        a, b, _ = seed_places(lims)
        seed_day(lims, a, b)
        page.context.add_cookies([lims.login_cookie(lims.user("manager-a", "manager", sites=(MARKET_A["id"],)))])
        page.goto(f"{lims.url}/board/{MARKET_A['id']}")
        expect(page.get_by_role("heading", level=1)).to_contain_text(MARKET_A["name"])
        expect(page.locator("#live-text")).to_have_text("实时更新中")  # the event stream is open
        page.evaluate("window.__sameDocument = true")
        envelope = a.next(**result("空心菜", "D-08", "positive", value=71.2))
        started = time.monotonic()
        lims.ingest(envelope)
        row = page.locator("#positives-table tr.result", has_text="空心菜")
        row.wait_for(state="attached", timeout=2_000)
        elapsed = time.monotonic() - started
        print(f"\ningest POST → board row in the DOM: {elapsed * 1000:.0f} ms")
        assert elapsed < 2.0
        assert page.evaluate("window.__sameDocument === true"), "the board must update without a reload"
        expect(row).to_contain_text("暂停销售")
        expect(page.locator("#count-positive")).to_have_text("2")
        expect(page.locator("#results-table tr.result").first).to_contain_text("空心菜")
        page.goto("about:blank")  # close the event stream before the server stops


def test_manager_cannot_open_another_markets_board(page: Page, tmp_path):
    with live_lims(tmp_path) as lims:
        a, b, _ = seed_places(lims)
        seed_day(lims, a, b)
        page.context.add_cookies([lims.login_cookie(lims.user("manager-a", "manager", sites=(MARKET_A["id"],)))])
        response = page.goto(f"{lims.url}/board/{MARKET_B['id']}")
        assert response is not None and response.status == 404
        text = page.locator("body").inner_text()
        assert "未找到" in text
        assert MARKET_B["name"] not in text and "土豆" not in text
        assert page.goto(f"{lims.url}/board/{MARKET_B['id']}/live").status == 404


def test_board_screenshot(page: Page, tmp_path):
    with live_lims(tmp_path) as lims:
        a, b, _ = seed_places(lims)
        seed_day(lims, a, b)
        lims.ingest(a.next(**result("豇豆", "A-15", "negative")), a.next(**result("牛肉", "B-01", "negative",
                    item="莱克多巴胺", instrument="gr-01", value=1.1)))
        page.context.add_cookies([lims.login_cookie(lims.user("manager-a", "manager", sites=(MARKET_A["id"],)))])
        page.goto(f"{lims.url}/board/{MARKET_A['id']}")
        expect(page.locator("#live-text")).to_have_text("实时更新中")
        lims.ingest(a.next(**result("空心菜", "D-08", "positive", value=71.2)))
        expect(page.locator("#positives-table tr.result")).to_have_count(2)
        save_screenshot(page, "lims-board.png")
        page.goto("about:blank")
