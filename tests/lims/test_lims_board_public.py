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
    assert _rows(today) == [("positive", "小白菜", "A-12", "不合格", "已暂停销售"), ("negative", "猪肉", "B-03", "合格", "—"),
                            ("negative", "菠菜", "A-01", "合格", "—")]
    assert "另有 1 次无效检测（样品需重新检测）和 0 条未标记样品名称的结果，不列入公示。" in today  # 韭菜's invalid run
    recent = page.split('id="h-recent"')[1]
    assert "芹菜" not in recent and re.search(r"<th scope=\"row\" class=\"nowrap\">[\d-]+</th><td class=\"num\">1</td>",
                                             recent)  # three days ago: counted, one click away
    for secret in (*SECRETS.values(), "ei-01", "gr-01", "62.5", "土豆"):
        assert secret not in page, secret
    assert "@media print" not in page and '<link rel="stylesheet" href="/static/lims.css">' in page
    assert "（盖章）" in page and 'class="print-only signatures"' in page
    assert 'id="request-form"' in page and 'data-err-rate="提交过于频繁' in page


def _rows(html: str) -> list[tuple[str, ...]]:
    """(class, product, stall, verdict words, handling) of each notice table row."""
    pattern = (r'<tr class="(\w+)"><th scope="row"[^>]*>([^<]+)</th><td[^>]*>([^<]+)</td><td[^>]*>[^<]+</td>'
               r'<td[^>]*><span class="verdict[^"]*">([^<]+)</span></td><td[^>]*>([^<]+)</td>')
    return re.findall(pattern, html)


def test_handling_follows_the_case_and_unlabelled_results_are_counted_not_listed(lims: Lims) -> None:
    a, b, _ = seed_places(lims)
    seed_day(lims, a, b)
    manager = lims.user("manager-a", "manager", sites=(MARKET_A["id"],))
    (case,) = lims.client.get("/api/v1/cases", headers=manager).json()["cases"]
    for step in ({"action": "notify_vendor"}, {"action": "record_lab_result", "lab_outcome": "confirmed",
                                               "lab_report_ref": "R-1"}):
        assert lims.client.post(f"/api/v1/cases/{case['id']}/actions", json=step, headers=manager).status_code == 200
    unlabelled = result("x", "", "positive")
    unlabelled["sample"] = {"name": None, "stall": None}
    lims.ingest(a.next(**unlabelled))
    page = lims.client.get(f"/public/sites/{MARKET_A['id']}").text
    assert _rows(page)[0] == ("positive", "小白菜", "A-12", "不合格", "复检确认不合格，暂停销售")
    assert "和 1 条未标记样品名称的结果，不列入公示" in page and len(_rows(page)) == 3
    assert re.search(r'id="count-failed">1<', page)  # the unlabelled positive is not a published row
    english = lims.client.get(f"/public/sites/{MARKET_A['id']}?lang=en").text
    assert _rows(english)[0][3:] == ("Fail", "Confirmed by the lab, held")


def test_product_search_and_pages(lims: Lims) -> None:
    a, b, _ = seed_places(lims)
    seed_day(lims, a, b)
    found = lims.client.get(f"/public/sites/{MARKET_A['id']}", params={"q": "白菜"}).text
    assert [row[1] for row in _rows(found)] == ["小白菜"]
    by_item = lims.client.get(f"/public/sites/{MARKET_A['id']}", params={"q": "克伦特罗"}).text
    assert [row[1] for row in _rows(by_item)] == ["猪肉"]
    none = lims.client.get(f"/public/sites/{MARKET_A['id']}", params={"q": "100%_"}).text
    assert _rows(none) == [] and "没有找到与“100%_”相符的检测结果。" in none
    lims.ingest(*[a.next(**result(f"青菜{n:03d}", "Q-01", "negative")) for n in range(205)])
    first = lims.client.get(f"/public/sites/{MARKET_A['id']}").text
    assert len(_rows(first)) == 200 and "第 1–200 条，共 208 条" in first and 'rel="next"' in first
    second = lims.client.get(f"/public/sites/{MARKET_A['id']}", params={"page": 2}).text
    assert len(_rows(second)) == 8 and "第 201–208 条，共 208 条" in second and 'rel="prev"' in second
    assert not {r[1] for r in _rows(first)} & {r[1] for r in _rows(second)}


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
