"""The public notice (公示): anyone sees today and the last 7 days of a market, published fields only,
with a print layout and the 你点我检 form."""

from __future__ import annotations

import re

from .conftest import Lims
from .pages_seed import MARKET_A, SECRETS, result, seed_day, seed_places


def test_public_notice_shows_published_fields_only(lims: Lims) -> None:
    a, b, _ = seed_places(lims)
    seed_day(lims, a, b)
    response = lims.client.get(f"/public/sites/{MARKET_A['id']}")
    assert response.status_code == 200
    page = response.text
    assert f"{MARKET_A['name']} 快检结果公示" in page
    today = page.split('id="h-recent"')[0]
    assert re.findall(r'<tr class="(\w+)"><th scope="row">([^<]+)</th><td>([^<]+)</td>', today) == [
        ("positive", "小白菜", "A-12"), ("negative", "猪肉", "B-03"), ("invalid", "韭菜", "A-07"),
        ("negative", "菠菜", "A-01")]
    assert "芹菜" in page.split('id="h-recent"')[1]  # three days ago, in the recent days
    for secret in (*SECRETS.values(), "ei-01", "gr-01", "62.5", "土豆"):
        assert secret not in page, secret
    assert "@media print" not in page and '<link rel="stylesheet" href="/static/lims.css">' in page
    assert "（盖章）" in page and 'class="print-only signatures"' in page
    assert 'id="request-form"' in page and 'data-err-rate="提交过于频繁' in page


def test_public_notice_in_english_and_unknown_market(lims: Lims) -> None:
    a, b, _ = seed_places(lims)
    seed_day(lims, a, b)
    page = lims.client.get(f"/public/sites/{MARKET_A['id']}?lang=en").text
    assert "Rapid test results (public notice)" in page and "Last 7 days" in page and "小白菜" in page
    missing = lims.client.get("/public/sites/no-such-market")
    assert missing.status_code == 404 and "Not found" in missing.text  # the cookie kept English


def test_print_stylesheet_has_an_a4_page_and_hides_the_form(lims: Lims) -> None:
    css = lims.client.get("/static/lims.css").text
    printing = css[css.index("@media print"):]
    assert "size: A4" in printing and "form" in printing and ".print-only { display: block; }" in printing


def test_qc_control_runs_are_not_published(lims: Lims) -> None:
    a, b, _ = seed_places(lims)
    seed_day(lims, a, b)
    control = result("阴性对照", "QC", "negative")
    control["qc"] = {"control": "negative_control", "flags": []}
    lims.ingest(a.next(**control))
    page = lims.client.get(f"/public/sites/{MARKET_A['id']}").text
    api = lims.client.get("/api/v1/public/results", params={"site": MARKET_A["id"]}).json()["results"]
    staff = lims.client.get("/api/v1/results", params={"site": MARKET_A["id"]}, headers=lims.auth).json()["results"]
    assert "阴性对照" not in page
    assert "阴性对照" not in {row["product"] for row in api} and len(api) == 4
    assert "阴性对照" in {item["result"]["sample"]["name"] for item in staff}
    assert lims.scalar("SELECT qc_control FROM envelopes WHERE sample_name = '阴性对照'") == "negative_control"
