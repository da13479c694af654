"""A manager acts on a positive in chromium: notify from the board, then the case page's steps and their errors."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.lims.pages_seed import MARKET_A, seed_day, seed_places

from .conftest import save_screenshot
from .lims_server import live_lims


def test_manager_notifies_from_the_board_and_records_the_lab_result(page: Page, tmp_path):
    with live_lims(tmp_path) as lims:
        a, b, _ = seed_places(lims)
        seed_day(lims, a, b)
        page.context.add_cookies([lims.login_cookie(lims.user("manager-a", "manager", sites=(MARKET_A["id"],)))])
        page.goto(f"{lims.url}/board/{MARKET_A['id']}")
        row = page.locator("#positives-table tr.result", has_text="小白菜")
        expect(row).to_contain_text("未通知摊主")
        row.get_by_role("button", name="通知摊主").click()
        page.wait_for_url(f"{lims.url}/board/{MARKET_A['id']}")
        row = page.locator("#positives-table tr.result", has_text="小白菜")
        expect(row.locator(".window-left")).to_contain_text("剩余（时:分） 3:5")
        expect(row.get_by_role("button", name="通知摊主")).to_have_count(0)
        row.get_by_role("link", name="处理 →").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("小白菜")
        expect(page.locator("#case-stall")).to_have_text("A-12")
        expect(page.locator("#case-window")).to_contain_text("复检申请截止")
        dispose = page.locator("form.step-dispose")
        expect(dispose).to_have_count(0)  # inside the window without a lab result: not offered
        form = page.locator("form.step-record_lab_result")
        form.get_by_label("实验室结论").select_option("not_confirmed")
        form.get_by_label("检验报告编号").fill("CQ-LAB-0999")
        form.get_by_role("button", name="录入复检结果").click()
        expect(page.locator("#case-done")).to_have_text("已记录：录入复检结果")
        expect(page.locator("#case-state")).to_contain_text("已出实验室结果")
        dispose = page.locator("form.step-dispose")
        expect(dispose.get_by_label("处置方式").locator("option")).to_have_text(["", "解除暂停，恢复销售"])
        save_screenshot(page, "lims-case.png")
        dispose.get_by_label("处置方式").select_option("released")
        dispose.get_by_role("button", name="处置").click()
        expect(page.locator("#case-state")).to_contain_text("已处置")
        expect(page.locator("#case-history tbody tr")).to_have_count(4)


def test_a_refused_step_says_why_in_chinese(page: Page, tmp_path):
    with live_lims(tmp_path) as lims:
        a, b, _ = seed_places(lims)
        seed_day(lims, a, b)
        manager = lims.user("manager-a", "manager", sites=(MARKET_A["id"],))
        page.context.add_cookies([lims.login_cookie(manager)])
        page.goto(f"{lims.url}/board/{MARKET_A['id']}")
        page.locator("#positives-table").get_by_role("link", name="处理 →").click()
        form = page.locator("form.step-notify_vendor")
        form.get_by_label("通知时间（留空为现在）").evaluate("el => { el.type = 'text'; el.value = '昨天下午'; }")
        form.get_by_role("button", name="通知摊主").click()
        alert = page.get_by_role("alert")
        expect(alert).to_have_text("“通知时间（留空为现在）”填写有误：请按 年-月-日 时:分 填写")
        expect(page.locator("#window-left")).to_contain_text("未通知摊主")
