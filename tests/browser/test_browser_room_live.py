"""The room page in chromium against the real daemon and the simulated enzyme analyzer (2 channels, 2 s)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from .room_gateway import room_gateway

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = sync_api.expect
if TYPE_CHECKING:
    from playwright.sync_api import Page

BARCODE = "6901234567892"


def mark_document(page: Page) -> None:
    """Tag the current document; a reload or navigation would lose the tag."""
    page.evaluate("window.__sameDocument = true")


def same_document(page: Page) -> bool:
    return bool(page.evaluate("window.__sameDocument === true"))


def test_scanned_label_binds_the_next_channel_1_result_live(page: Page, tmp_path):
    with room_gateway(tmp_path, channels=2, interval_s=2.0) as gateway:
        page.goto(gateway.url)
        mark_document(page)
        expect(page.get_by_role("heading", level=1)).to_contain_text("七星岗农贸市场")
        expect(page.locator("#instrument-ei-01 .state")).to_have_text("在线")
        unlabelled = page.locator("tr.result.is-unlabelled").first
        expect(unlabelled).to_be_visible()  # arrives over the event stream: no reload
        expect(unlabelled).to_contain_text("未标记")
        assert same_document(page)

        page.get_by_label("通道").select_option("1")
        barcode = page.get_by_label("追溯码 / 条码")
        barcode.click()
        page.keyboard.type(BARCODE, delay=5)  # a USB scanner types like a keyboard ...
        page.keyboard.press("Enter")  # ... and ends with Enter
        expect(page.get_by_label("样品名称")).to_be_focused()
        expect(page.get_by_role("status").filter(has_text=f"已扫码：{BARCODE}")).to_be_visible()
        assert same_document(page), "Enter from the scanner must not submit the half-filled form"
        assert page.locator(".queued-label").count() == 0

        page.get_by_label("样品名称").fill("菠菜")
        page.get_by_label("类别").select_option(label="蔬菜")
        page.get_by_label("摊位").fill("A-12")
        page.get_by_label("供货商").fill("渝北蔬菜合作社")
        page.get_by_label("产地").fill("重庆璧山")
        page.get_by_label("检测人（工号）").fill("tech-li")
        page.get_by_label("试剂批号").fill("EI-2411")
        page.get_by_label("试剂有效期").fill("2099-12-31")
        page.get_by_role("button", name="加入队列").click()
        expect(page.get_by_text("已加入队列：菠菜 → ei-01 · 通道 1")).to_be_visible()
        mark_document(page)

        labelled = page.locator("tr.result", has=page.locator(".sample-name", has_text="菠菜"))
        expect(labelled).to_be_visible()
        assert same_document(page), "the result must appear without a reload"
        expect(labelled).to_contain_text("通道 1")
        expect(labelled).to_contain_text("tech-li")
        expect(labelled).to_contain_text(BARCODE)
        expect(labelled).not_to_have_class(re.compile("is-unlabelled"))
        expect(page.locator(".queued-label")).to_have_count(0)  # bound: no longer waiting

        seq = int(labelled.get_attribute("data-seq") or 0)
        neighbour = page.locator(f"#r{seq + 1}")  # channel 2 of the same run, which nobody labelled
        expect(neighbour).to_contain_text("通道 2")
        expect(neighbour).to_have_class(re.compile("is-unlabelled"))
        assert page.locator("tr.result", has=page.locator(".sample-name", has_text="菠菜")).count() == 1


def test_english_switch_and_a_half_form_without_javascript_help(page: Page, tmp_path):
    with room_gateway(tmp_path, channels=2, interval_s=5.0) as gateway:
        page.goto(gateway.url)
        page.get_by_role("link", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", name="Label the next sample")).to_be_visible()
        page.get_by_role("button", name="Queue label").click()  # nothing filled in
        expect(page.get_by_role("alert")).to_contain_text("Please correct the marked fields")
        expect(page.get_by_label("Sample name")).to_have_attribute("aria-invalid", "true")
        page.get_by_role("link", name="中文").click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
