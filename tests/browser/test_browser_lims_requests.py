"""你点我检 in chromium: a resident proposes a product and follows it; staff assign and answer it on the queue page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.lims.pages_seed import MARKET_A, result, seed_places

from .lims_server import live_lims


def test_resident_follows_a_request_staff_answer_on_the_queue(page: Page, tmp_path):
    with live_lims(tmp_path) as lims:
        a, _, _ = seed_places(lims)
        page.goto(f"{lims.url}/public/sites/{MARKET_A['id']}")
        page.get_by_label("产品名称").fill("韭菜")
        page.get_by_role("button", name="提交建议").click()
        follow = page.locator("#req-follow")
        expect(follow).to_have_text("查询办理进度")
        status_url = follow.get_attribute("href")
        follow.click()
        expect(page.locator("#status-state")).to_have_text("待分派")
        expect(page.locator("#status-pending")).to_be_visible()

        staff = page.context.browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
        desk = staff.new_page()
        staff.add_cookies([lims.login_cookie(lims.user("manager-a", "manager", sites=(MARKET_A["id"],)))])
        desk.goto(f"{lims.url}/requests")
        row = desk.locator("#requests-table tr.request", has_text="韭菜")
        row.get_by_role("button", name="分派检测").click()
        expect(desk.locator("#request-done")).to_have_text("已分派。")
        lims.ingest(a.next(**result("菠菜", "A-01", "negative")), a.next(**result("韭菜", "A-07", "negative")))
        desk.reload()
        row = desk.locator("#requests-table tr.request", has_text="韭菜")
        expect(row.get_by_role("radio")).to_have_count(1)  # only the 韭菜 result is offered
        row.get_by_role("button", name="用结果答复").click()
        expect(desk.locator("#request-done")).to_have_text("已用检测结果答复。")
        staff.close()

        page.goto(f"{lims.url}{status_url}")
        expect(page.locator("#status-state")).to_have_text("已出结果")
        expect(page.locator("#status-answer")).to_contain_text("合格")
        expect(page.locator("#status-answer")).to_contain_text("A-07")
