"""The public notice in chromium: no operator names, supplier contacts or barcodes anywhere in the page;
the 你点我检 form shows validation errors and the rate limit in Chinese; the print layout."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.lims.pages_seed import MARKET_A, SECRETS, result, seed_day, seed_places

from .conftest import save_screenshot
from .lims_server import live_lims


def test_public_notice_shows_no_operator_supplier_or_barcode(page: Page, tmp_path):
    with live_lims(tmp_path) as lims:
        a, b, _ = seed_places(lims)
        seed_day(lims, a, b)
        page.goto(f"{lims.url}/public/sites/{MARKET_A['id']}")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"{MARKET_A['name']} 快检结果公示")
        text = page.locator("html").inner_text()
        html = page.content()
        assert "小白菜" in text and "A-12" in text and "不合格" in text and "已暂停销售" in text
        for secret in SECRETS.values():
            assert secret not in text and secret not in html, secret


def test_request_form_errors_and_rate_limit_in_chinese(page: Page, tmp_path):
    with live_lims(tmp_path) as lims:
        seed_places(lims)
        page.goto(f"{lims.url}/public/sites/{MARKET_A['id']}")
        submit = page.get_by_role("button", name="提交建议")
        submit.click()  # empty product: the API's 422 is shown on the field
        expect(page.locator("#req-product-error")).to_have_text("请填写要检测的产品名称（1–100 字）。")
        expect(page.get_by_label("产品名称")).to_have_attribute("aria-invalid", "true")
        for n in range(5):
            page.get_by_label("产品名称").fill(f"韭菜{n}")
            submit.click()
            expect(page.locator("#req-outcome")).to_contain_text(f"已提交，编号 #{n + 1}")
        page.get_by_label("产品名称").fill("韭菜6")
        submit.click()
        expect(page.locator("#req-outcome")).to_have_text("提交过于频繁：每小时最多 5 次，请稍后再试。")


def test_public_notice_screenshot_and_print_layout(page: Page, tmp_path):
    with live_lims(tmp_path) as lims:
        a, b, _ = seed_places(lims)
        seed_day(lims, a, b)
        lims.ingest(a.next(**result("豇豆", "A-15", "negative")),
                    a.next(**result("牛肉", "B-01", "negative", item="莱克多巴胺", instrument="gr-01", value=1.1)))
        page.goto(f"{lims.url}/public/sites/{MARKET_A['id']}")
        expect(page.locator("#request-form")).to_be_visible()
        save_screenshot(page, "lims-public-notice.png")
        page.emulate_media(media="print")
        expect(page.locator("#request-form")).to_be_hidden()
        expect(page.locator(".signatures")).to_be_visible()
        expect(page.locator("#h-recent")).to_be_hidden()
        save_screenshot(page, "lims-public-notice-print.png")
