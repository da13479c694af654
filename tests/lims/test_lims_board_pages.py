"""Market board pages through the app: today's results in scope, positives with their case, counts, filters,
language switch, and no way into another market's board."""

from __future__ import annotations

import re

from .conftest import Lims
from .pages_seed import MARKET_A, MARKET_B, qc_run, result, seed_day, seed_places


def _seeded(lims: Lims) -> dict[str, dict[str, str]]:
    a, b, _ = seed_places(lims)
    seed_day(lims, a, b)
    return {
        "manager_a": lims.user("manager-a", "manager", sites=(MARKET_A["id"],)),
        "regulator_yz": lims.user("reg-yz", "regulator", district="yz"),
        "regulator_jb": lims.user("reg-jb", "regulator", district="jb"),
        "technician_a": lims.user("tech-a", "technician", sites=(MARKET_A["id"],)),
    }


def _table(page: str, table_id: str) -> str:
    match = re.search(rf'<table id="{table_id}"[^>]*>(.*?)</table>', page, re.S)
    assert match, f"no table {table_id}"
    return match.group(1)


def test_board_shows_today_positives_first_with_case_and_counts(lims: Lims) -> None:
    users = _seeded(lims)
    response = lims.client.get(f"/board/{MARKET_A['id']}", headers=users["manager_a"])
    assert response.status_code == 200, response.text
    page = response.text
    assert MARKET_A["name"] in page and "今日快检看板" in page
    assert re.search(r'id="count-total">4<', page) and re.search(r'id="count-positive">1<', page)
    positives = _table(page, "positives-table")
    assert "小白菜" in positives and "暂停销售" in positives and "未通知摊主" in positives
    rows = re.findall(r'<tr class="result (\w+)" data-id="\d+">\s*<td[^>]*>[\d:]+</td><th scope="row"[^>]*>([^<]+)</th>',
                      _table(page, "results-table"))
    assert rows == [("negative", "猪肉"), ("invalid", "韭菜"), ("positive", "小白菜"), ("negative", "菠菜")]  # newest first
    assert "芹菜" not in page and "土豆-B市场" not in page  # another day, another market
    assert "克伦特罗" in page and 'value="gr-01"' in page  # item and instrument filters offered
    assert "https://" not in page and "<script src=\"/static/board.js\"" in page


def test_board_filters_narrow_the_table_not_the_counts(lims: Lims) -> None:
    users = _seeded(lims)
    page = lims.client.get(f"/board/{MARKET_A['id']}", params={"verdict": "negative", "instrument": "ei-01"},
                           headers=users["manager_a"]).text
    table = _table(page, "results-table")
    assert "菠菜" in table and "猪肉" not in table and "小白菜" not in table
    assert re.search(r'id="count-total">4<', page)
    assert '<option value="negative" selected>' in page


def test_case_deadline_shows_after_the_vendor_is_notified(lims: Lims) -> None:
    users = _seeded(lims)
    (case,) = lims.client.get("/api/v1/cases", headers=users["manager_a"]).json()["cases"]
    lims.client.post(f"/api/v1/cases/{case['id']}/actions", json={"action": "notify_vendor",
                     "notified_at": "2020-01-01T08:00:00+08:00"}, headers=users["manager_a"])
    live = lims.client.get(f"/board/{MARKET_A['id']}/live", headers=users["manager_a"]).text
    positives = _table(live, "positives-table")
    assert "01-01 12:00:00" in positives and "已逾期" in positives and 'class="result positive is-overdue"' in positives


def test_manager_cannot_open_another_market_and_learns_nothing(lims: Lims) -> None:
    users = _seeded(lims)
    for path in (f"/board/{MARKET_B['id']}", f"/board/{MARKET_B['id']}/live", f"/board/{MARKET_B['id']}/events",
                 "/board/no-such-market"):
        response = lims.client.get(path, headers=users["manager_a"])
        assert response.status_code == 404, path
        assert MARKET_B["name"] not in response.text and "土豆" not in response.text
    assert lims.client.get(f"/board/{MARKET_A['id']}", headers=users["regulator_jb"]).status_code == 404
    assert lims.client.get(f"/board/{MARKET_B['id']}", headers=users["regulator_yz"]).status_code == 200
    assert lims.client.get(f"/board/{MARKET_A['id']}", headers=users["technician_a"]).status_code == 200


def test_board_index_redirects_a_single_site_and_lists_several(lims: Lims) -> None:
    users = _seeded(lims)
    one = lims.client.get("/board", headers=users["manager_a"], follow_redirects=False)
    assert one.status_code == 303 and one.headers["location"] == f"/board/{MARKET_A['id']}"
    several = lims.client.get("/board", headers=users["regulator_yz"]).text
    assert MARKET_A["name"] in several and MARKET_B["name"] in several and "九龙坡" not in several


def test_anonymous_is_sent_to_login(lims: Lims) -> None:
    _seeded(lims)
    response = lims.client.get(f"/board/{MARKET_A['id']}?verdict=positive", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/board/yz-market-07%3Fverdict%3Dpositive"
    assert lims.client.get(f"/board/{MARKET_A['id']}/events").status_code == 404


def test_english_switch_is_remembered_and_keeps_data_as_stored(lims: Lims) -> None:
    users = _seeded(lims)
    english = lims.client.get(f"/board/{MARKET_A['id']}?lang=en", headers=users["manager_a"])
    assert '<html lang="en">' in english.text and "Positives to act on" in english.text
    assert "小白菜" in english.text and "Held from sale" in english.text  # data is not translated
    assert english.cookies.get("kj_lang") == "en"
    again = lims.client.get(f"/board/{MARKET_A['id']}", headers=users["manager_a"]).text
    assert "Positives to act on" in again and 'href="/board/yz-market-07?lang=zh"' in again
    chinese = lims.client.get(f"/board/{MARKET_A['id']}?lang=zh", headers=users["manager_a"]).text
    assert '<html lang="zh-CN">' in chinese and "阳性结果（需处置）" in chinese


def test_static_files_are_served_by_the_app(lims: Lims) -> None:
    for name, kind in (("lims.css", "text/css"), ("board.js", "javascript"), ("notice.js", "javascript")):
        response = lims.client.get(f"/static/{name}")
        assert response.status_code == 200 and kind in response.headers["content-type"]
        assert "http://" not in response.text and "https://" not in response.text


def test_control_runs_are_listed_as_qc_never_counted_or_among_positives(lims: Lims) -> None:
    a, b, _ = seed_places(lims)
    seed_day(lims, a, b)
    lims.ingest(*[a.next(**qc_run(kind)) for kind in ("positive_control", "negative_control")])  # newest
    manager = lims.user("manager-a", "manager", sites=(MARKET_A["id"],))
    page = lims.client.get(f"/board/{MARKET_A['id']}", headers=manager).text
    assert re.search(r'id="count-total">4<', page) and re.search(r'id="count-positive">1<', page)
    assert "阳性对照" not in _table(page, "positives-table")  # a positive control opens nothing
    table = _table(page, "results-table")
    rows = re.findall(r'<tr class="result (\w+)" data-id="\d+"(?: data-control="(\w+)")?>', table)
    assert sorted(rows[:2]) == [("control", "negative_control"), ("control", "positive_control")]  # the newest
    assert [r for r in rows if r[0] == "positive"] == [("positive", "")]  # controls are not "positives"
    assert re.findall(r'<tr class="result (\w+)"', _table(page, "positives-table")) == ["positive"]
    assert "质控：阳性对照" in table and "质控：阴性对照" in table
    site_page = lims.client.get(f"/sites/{MARKET_A['id']}/today", headers=manager).text
    assert "总数<b>4</b>" in site_page and "阳性<b>1</b>" in site_page
    assert site_page.count('<tr class="control">') == 2 and "质控：阳性对照" in site_page


def test_board_shows_the_gateways_qc_flags_like_the_room_page(lims: Lims) -> None:
    a, b, _ = seed_places(lims)
    seed_day(lims, a, b)
    manager = lims.user("manager-a", "manager", sites=(MARKET_A["id"],))
    flagged = result("豆角", "A-20", "negative")
    flagged["qc"] = {"control": "sample", "flags": ["kit_expired", "calibration_overdue", "clock_skew:+400s"]}
    unlabelled = result("x", "", "positive")
    unlabelled.update(sample={"name": None, "stall": None}, qc={"control": "sample", "flags": ["unlabelled"]})
    lims.ingest(a.next(**flagged), a.next(**unlabelled))
    table = _table(lims.client.get(f"/board/{MARKET_A['id']}", headers=manager).text, "results-table")
    row = re.search(r'<th scope="row"[^>]*>豆角(.*?)</th>', table).group(1)
    assert re.findall(r'class="qc-flag flag-(\w+)">([^<]+)<', row) == [("kit_expired", "试剂过期"),
                                                                       ("calibration_overdue", "校准过期")]
    positives = _table(lims.client.get(f"/board/{MARKET_A['id']}/live", headers=manager).text, "positives-table")
    assert '<span class="qc-flag flag-unlabelled">未标记</span>' in positives


def test_board_table_pages_while_counts_cover_the_day(lims: Lims) -> None:
    a, b, _ = seed_places(lims)
    seed_day(lims, a, b)
    manager = lims.user("manager-a", "manager", sites=(MARKET_A["id"],))
    lims.ingest(*[a.next(**result(f"青菜{n:03d}", "Q-01", "negative")) for n in range(101)])
    first = lims.client.get(f"/board/{MARKET_A['id']}", headers=manager).text
    assert re.search(r'id="count-total">105<', first) and "第 1–100 条，共 105 条" in first
    assert len(re.findall(r'<tr class="result', _table(first, "results-table"))) == 100
    second = lims.client.get(f"/board/{MARKET_A['id']}/live", params={"page": 2, "verdict": "negative"},
                             headers=manager).text
    assert "第 101–103 条，共 103 条" in second and 'href="/board/yz-market-07?verdict=negative"' in second
