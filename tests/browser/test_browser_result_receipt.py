"""The public result page in chromium: the notice row's QR code leads to it, the receipt is verified in the
browser (WebCrypto), and a tampered record or receipt is shown as failing, naming the check."""

from __future__ import annotations

import io
import json
from pathlib import Path

import segno
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from lims_api.__main__ import main
from tests.lims.conftest import SITE, SigningGateway
from tests.lims.pages_seed import local_now

from .conftest import save_screenshot
from .lims_server import LiveLims, live_lims

CHECKS = ("envelope", "gateway_signature", "inclusion", "tree_head_signature")


def _seed(lims: LiveLims) -> list[dict]:
    gateway = SigningGateway()
    lims.enrol(gateway)
    envelopes = [gateway.next(verdict=verdict, tested_at=local_now(), operator="tech-007",
                              sample={"name": name, "stall": stall, "supplier": None, "barcode": None})
                 for name, stall, verdict in (("小白菜", "A-12", "negative"), ("豇豆", "A-15", "positive"))]
    lims.ingest(*envelopes)
    assert main(["tree-head", "--db", str(lims.settings.database_url), "--data-dir", str(lims.settings.data_dir)]) == 0
    return envelopes


def _states(page: Page) -> dict[str, str]:
    return {name: page.locator(f'[data-check="{name}"]').get_attribute("class") or "" for name in CHECKS}


def test_qr_code_leads_to_a_page_that_verifies_the_receipt_in_the_browser(page: Page, tmp_path: Path) -> None:
    with live_lims(tmp_path, tree_head_interval_min=0) as lims:
        first, _ = _seed(lims)
        result_id = first["result"]["id"]
        page.goto(f"{lims.url}/public/sites/{SITE['id']}")
        link = page.locator(f'td.qr a[href="/public/results/{result_id}"]')
        expect(link.locator("img")).to_be_visible()
        served = lims.client.get(f"/public/results/{result_id}/qr.svg")
        expected = io.BytesIO()
        segno.make(f"{lims.url}/public/results/{result_id}", error="m").save(
            expected, kind="svg", scale=3, border=2, xmldecl=False, svgns=True)
        assert served.headers["content-type"] == "image/svg+xml" and served.content == expected.getvalue()

        link.click()
        expect(page.locator("#result-check")).to_have_attribute("data-verified", "yes")
        expect(page.locator("#result-outcome")).to_have_text("核验通过：此结果自检测仪器签名后未被改动。")
        assert set(_states(page).values()) == {"check-ok"}
        expect(page.locator('[data-field="product"]')).to_have_text("小白菜")
        expect(page.locator('[data-field="verdict"]')).to_have_text("阴性")
        expect(page.locator('[data-check="inclusion"] .check-detail')).to_contain_text("entry 0 of the log of 2")
        receipt = lims.client.get(f"/api/v1/log/receipts/{result_id}").json()
        expect(page.locator("#lims-kid")).to_have_text(receipt["lims_key"]["kid"])
        save_screenshot(page, "lims-result-verified.png")

        engine = create_engine(str(lims.settings.database_url))
        with engine.begin() as conn:  # the stored record rewritten: negative -> positive
            conn.execute(text("UPDATE envelopes SET raw_text = REPLACE(raw_text, '\"negative\"', '\"positive\"') "
                              "WHERE result_id = :id"), {"id": result_id})
        engine.dispose()
        page.reload()
        expect(page.locator("#result-check")).to_have_attribute("data-verified", "no")
        expect(page.locator("#result-outcome")).to_have_text("核验失败：此结果或其证明已被改动，请勿信任。")
        assert _states(page) == {"envelope": "check-ok", "gateway_signature": "check-bad", "inclusion": "check-bad",
                                 "tree_head_signature": "check-ok"}
        expect(page.locator('[data-check="gateway_signature"] .check-detail')).to_contain_text("does not verify")
        save_screenshot(page, "lims-result-tampered.png")

        forged = {**receipt, "tree_head": {**receipt["tree_head"], "size": 3}}
        (tmp_path / "forged.json").write_text(json.dumps(forged))
        page.locator("#receipt-file").set_input_files(str(tmp_path / "forged.json"))
        expect(page.locator('[data-check="tree_head_signature"]')).to_have_class("check-bad")
        expect(page.locator('[data-check="tree_head_signature"] .check-detail')).to_contain_text("does not verify")
        (tmp_path / "good.json").write_text(json.dumps(receipt))
        page.locator("#receipt-file").set_input_files(str(tmp_path / "good.json"))
        expect(page.locator("#result-check")).to_have_attribute("data-verified", "yes")


def test_english_page_and_an_unknown_result(page: Page, tmp_path: Path) -> None:
    with live_lims(tmp_path, tree_head_interval_min=0) as lims:
        _, positive = _seed(lims)
        page.goto(f"{lims.url}/public/results/{positive['result']['id']}?lang=en")
        expect(page.locator("#result-outcome")).to_have_text(
            "Verified: this result is unchanged since the instrument's gateway signed it.")
        expect(page.locator('[data-field="verdict"]')).to_have_text("Positive")
        assert page.goto(f"{lims.url}/public/results/no-such-result").status == 404
