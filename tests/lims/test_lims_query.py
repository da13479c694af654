"""Read side: results query filters, chain status, the Chinese daily page, site list, health."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from protocols.envelope import envelope_hash

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway

DAY = "2026-11-23"
SCHOOL = {"id": "yz-school-03", "kind": "school", "name": "渝中区第三小学食堂"}


def _seed(lims: Lims, market: SigningGateway, school: SigningGateway) -> dict[str, dict]:
    lims.enrol(market)
    lims.enrol(school)
    envelopes = {
        "early_negative": market.next(verdict="negative", tested_at=f"{DAY}T08:00:00+08:00",
                                      sample={"name": "菠菜", "stall": "B-01"}, measurement={"value": 12.5}),
        "positive": market.next(verdict="positive", tested_at=f"{DAY}T09:15:04+08:00",
                                sample={"name": "小白菜", "stall": "A-12"}),
        "late_invalid": market.next(verdict="invalid", tested_at=f"{DAY}T10:30:00+08:00",
                                    sample={"name": "韭菜", "stall": "C-07"}, measurement={"value": None}),
        "next_day": market.next(verdict="positive", tested_at="2026-11-24T09:00:00+08:00",
                                sample={"name": "芹菜"}),
        "school": school.next(verdict="negative", tested_at=f"{DAY}T11:00:00+08:00", sample={"name": "土豆"}),
    }
    assert {r["status"] for r in lims.ingest(*envelopes.values())} == {"stored"}
    return envelopes


def test_results_filter_by_site_date_verdict_and_limit(
    lims: Lims, gateway: SigningGateway, make_gateway: type[SigningGateway]
) -> None:
    school = make_gateway(gateway="gw-yz-school-03", site=SCHOOL)
    sent = _seed(lims, gateway, school)

    def names(**params: str) -> list[str]:
        response = lims.client.get("/api/v1/results", params=params, headers=lims.auth)
        assert response.status_code == 200, response.text
        return [item["result"]["sample"]["name"] for item in response.json()["results"]]

    assert names(site="yz-market-07", date=DAY) == ["韭菜", "小白菜", "菠菜"]
    assert names(site="yz-market-07", verdict="positive") == ["芹菜", "小白菜"]
    assert names(date=DAY, verdict="negative") == ["土豆", "菠菜"]
    assert names(site="yz-school-03") == ["土豆"]
    assert names(limit="2") == ["芹菜", "土豆"]
    item = lims.client.get("/api/v1/results", params={"verdict": "invalid"}, headers=lims.auth).json()["results"][0]
    assert item["result"] == sent["late_invalid"]["result"]
    assert (item["gateway"], item["seq"], item["hash"]) == (gateway.gateway, 3, envelope_hash(sent["late_invalid"]))
    assert datetime.fromisoformat(item["stored_at"]).utcoffset() is not None


def test_results_reject_bad_filters(lims: Lims) -> None:
    for params in ({"verdict": "maybe"}, {"date": "23/11/2026"}, {"limit": "0"}):
        response = lims.client.get("/api/v1/results", params=params, headers=lims.auth)
        assert response.status_code == 422, params
        assert response.json()["detail"][0]["loc"][-1] in params


def test_chain_of_unknown_gateway_is_404(lims: Lims) -> None:
    assert lims.client.get("/api/v1/gateways/gw-nobody/chain", headers=lims.auth).status_code == 404


def test_chain_status_counts(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    assert lims.client.get(f"/api/v1/gateways/{gateway.gateway}/chain", headers=lims.auth).json() == {
        "gateway": gateway.gateway, "last_seq": 0, "count": 0, "gaps": [], "forks": 0,
    }
    lims.ingest(gateway.next(), gateway.next())
    status = lims.client.get(f"/api/v1/gateways/{gateway.gateway}/chain", headers=lims.auth).json()
    assert (status["last_seq"], status["count"]) == (2, 2)


def test_daily_page_in_chinese_positives_first(
    lims: Lims, gateway: SigningGateway, make_gateway: type[SigningGateway]
) -> None:
    _seed(lims, gateway, make_gateway(gateway="gw-yz-school-03", site=SCHOOL))
    response = lims.client.get("/sites/yz-market-07/today", params={"date": DAY}, headers=lims.auth)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "渝中区七星岗农贸市场" in page and DAY in page
    counts = dict(re.findall(r'<div class="count[^"]*">(\S+?)<b>(\d+)</b>', page))
    assert counts == {"总数": "3", "阳性": "1", "阴性": "1", "无效": "1"}
    rows = re.findall(r"<tr class=\"(\w+)\">\s*<td>([\d:]+)</td><td>([^<]+)</td>", page)
    assert rows == [("positive", "09:15:04", "小白菜"), ("invalid", "10:30:00", "韭菜"), ("negative", "08:00:00", "菠菜")]
    assert "阳性" in page and "阴性" in page and "无效" in page and "有机磷和氨基甲酸酯类农药" in page
    assert "62.5 %" in page and "ei-01 / 3" in page
    assert "土豆" not in page and "芹菜" not in page  # other site, other day
    assert "<link" not in page and "<script" not in page  # no external CSS/JS


def test_daily_page_escapes_sample_text(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    lims.ingest(gateway.next(sample={"name": "<script>alert(1)</script>"}))
    page = lims.client.get("/sites/yz-market-07/today", params={"date": DAY}, headers=lims.auth).text
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_daily_page_defaults_to_today_and_unknown_site_is_404(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    today = lims.client.get("/sites/yz-market-07/today", headers=lims.auth)
    assert today.status_code == 200 and "当日暂无检测结果" in today.text
    missing = lims.client.get("/sites/no-such-site/today", headers=lims.auth)
    assert missing.status_code == 404
    assert "no-such-site" in missing.text and "不存在" in missing.text


def test_site_list_links_to_public_and_staff_pages(lims: Lims, gateway: SigningGateway) -> None:
    assert "尚无检测点" in lims.client.get("/").text
    lims.enrol(gateway)
    page = lims.client.get("/").text
    assert 'href="/public/sites/yz-market-07"' in page and 'href="/sites/yz-market-07/today"' in page
    assert "渝中区七星岗农贸市场" in page


def test_healthz(lims: Lims) -> None:
    assert lims.client.get("/healthz").json() == {"status": "ok"}
