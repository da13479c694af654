"""The page's JCS (receipt.js) gives byte for byte what rfc8785 gives: on the demo's envelopes and tricky values."""

from __future__ import annotations

import json
from pathlib import Path

import rfc8785
from playwright.sync_api import Page

RECEIPT_JS = Path(__file__).parents[2] / "lims_api" / "pages" / "static" / "receipt.js"
DEMO = (Path(__file__).parents[1] / "data" / "demo-envelopes.jsonl").read_text("utf-8").splitlines()
TRICKY = [
    0, -0.0, 1, -1, 0.1, 0.2 + 0.1, 1e21, 1e20, 123456789012345680000.0, 1e-6, 1e-7, 5e-324, -5e-324,
    1.7976931348623157e308, 2.2250738585072014e-308, 9007199254740991, -9007199254740991, 4.35, 0.000001234,
    333333333.3333333, 1e23, 1.5e-10, 100.0, 295.15, -1.9, 49.999999999999996,
    "", "a\"b\\c", "\u0000\u0001\u001f\u007f", "\b\f\n\r\t", "\u2028\u2029", "中文 é 😀", "</script>",
    {"\ue000": 1, "\U0001f600": 2, "a": 3, "A": 4, "aa": 5, "ä": 6, "": 7},
    [None, True, False, [], {}, [{}]],
    {"z": {"b": [1, 2.5, "x"], "a": None}, "m": -0.0},
]


def _js_jcs(page: Page, values: list[str]) -> list[str]:
    return page.evaluate("texts => texts.map(t => window.kuaijianReceipt.jcs(JSON.parse(t)))", values)


def test_js_jcs_is_byte_identical_to_rfc8785(page: Page) -> None:
    page.set_content("<!doctype html><title>jcs</title>")
    page.add_script_tag(path=str(RECEIPT_JS))
    texts = DEMO + [json.dumps(value) for value in TRICKY]
    expected = [rfc8785.dumps(json.loads(text)).decode("utf-8") for text in texts]
    assert _js_jcs(page, texts) == expected
    assert DEMO == expected[:len(DEMO)]  # the gateway stores envelopes in JCS form already


def test_js_jcs_refuses_what_json_cannot_carry(page: Page) -> None:
    page.set_content("<!doctype html><title>jcs</title>")
    page.add_script_tag(path=str(RECEIPT_JS))
    errors = page.evaluate("""() => [NaN, Infinity, "\\ud800x"].map(v => {
        try { window.kuaijianReceipt.jcs(v); return "accepted"; } catch (e) { return e.message; } })""")
    assert errors == ["JCS: NaN is not a JSON number", "JCS: Infinity is not a JSON number",
                      "JCS: string holds a lone surrogate"]
