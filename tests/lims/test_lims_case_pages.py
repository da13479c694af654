"""Case pages: the positive's product, stall and item, the 4-hour window, steps as form posts, errors in Chinese."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .conftest import Lims
from .pages_seed import MARKET_A, MARKET_B, seed_day, seed_places

ZONE = ZoneInfo("Asia/Shanghai")


def _setup(lims: Lims) -> tuple[dict[str, dict[str, str]], int]:
    a, b, _ = seed_places(lims)
    seed_day(lims, a, b)
    users = {
        "manager": lims.user("manager-a", "manager", sites=(MARKET_A["id"],)),
        "manager_b": lims.user("manager-b", "manager", sites=(MARKET_B["id"],)),
        "regulator": lims.user("reg-yz", "regulator", district="yz"),
        "technician": lims.user("tech-a", "technician", sites=(MARKET_A["id"],)),
    }
    (case,) = lims.client.get("/api/v1/cases", headers=users["manager"]).json()["cases"]
    return users, case["id"]


def _post(lims: Lims, case_id: int, who: dict[str, str], **form: str):
    return lims.client.post(f"/cases/{case_id}/actions", data=form, headers=who, follow_redirects=False)


def _alert(page: str) -> str:
    match = re.search(r'role="alert" id="case-error">([^<]+)<', page)
    assert match, "no error shown"
    return match.group(1)


def test_case_page_names_product_stall_item_and_offers_the_first_steps(lims: Lims) -> None:
    users, case_id = _setup(lims)
    page = lims.client.get(f"/cases/{case_id}", headers=users["manager"]).text
    assert re.search(r'id="case-product">小白菜<', page) and re.search(r'id="case-stall">A-12<', page)
    assert re.search(r'id="case-item">[^<]+<', page) and "暂停销售" in page and MARKET_A["name"] in page
    assert "未通知摊主（4小时复检期未开始）" in page
    for step in ("notify_vendor", "request_retest", "record_lab_result"):
        assert f'value="{step}"' in page
    assert 'value="dispose"' not in page and 'value="close"' not in page  # window not over; close is a regulator's


def test_board_offers_one_click_steps_and_links_the_case(lims: Lims) -> None:
    users, case_id = _setup(lims)
    live = lims.client.get(f"/board/{MARKET_A['id']}/live", headers=users["manager"]).text
    assert f'action="/cases/{case_id}/actions"' in live and 'value="notify_vendor"' in live
    assert f'href="/cases/{case_id}"' in live
    technician = lims.client.get(f"/board/{MARKET_A['id']}/live", headers=users["technician"]).text
    assert f'action="/cases/{case_id}/actions"' not in technician  # technicians see the case, take no step


def test_notify_from_the_board_starts_the_window_and_returns_to_the_board(lims: Lims) -> None:
    users, case_id = _setup(lims)
    back = f"/board/{MARKET_A['id']}"
    answer = _post(lims, case_id, users["manager"], action="notify_vendor", next=back)
    assert answer.status_code == 303 and answer.headers["location"] == back
    case = lims.client.get(f"/api/v1/cases/{case_id}", headers=users["manager"]).json()
    assert case["vendor_notified_at"] is not None and case["events"][-1]["actor"] == "manager:manager-a"
    live = lims.client.get(f"{back}/live", headers=users["manager"]).text
    assert re.search(r'class="window-left">（剩余（时:分） 3:5\d）', live)
    assert 'value="notify_vendor"' not in live and 'value="request_retest"' in live


def test_dispose_inside_the_window_is_refused_in_chinese(lims: Lims) -> None:
    users, case_id = _setup(lims)
    _post(lims, case_id, users["manager"], action="notify_vendor")
    answer = _post(lims, case_id, users["manager"], action="dispose", disposition="destroyed")
    assert answer.status_code == 409
    deadline = datetime.fromisoformat(
        lims.client.get(f"/api/v1/cases/{case_id}", headers=users["manager"]).json()["retest_deadline"])
    assert _alert(answer.text) == (f"摊主的 4 小时复检期尚未结束（{deadline.astimezone(ZONE):%m-%d %H:%M} 截止）；"
                                   "期满或录入复检结果后方可处置。")
    assert lims.client.get(f"/api/v1/cases/{case_id}", headers=users["manager"]).json()["state"] == "held"
    english = lims.client.post(f"/cases/{case_id}/actions?lang=en", data={"action": "dispose",
                               "disposition": "destroyed"}, headers=users["manager"])
    assert "window is not over" in _alert(english.text)


def test_full_path_from_notice_to_disposal_with_a_backdated_notification(lims: Lims) -> None:
    users, case_id = _setup(lims)
    five_hours_ago = (datetime.now(ZONE) - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M")
    assert _post(lims, case_id, users["manager"], action="notify_vendor", notified_at=five_hours_ago,
                 note="电话通知").status_code == 303
    page = lims.client.get(f"/cases/{case_id}", headers=users["manager"]).text
    assert "已逾期" in page and "复检期已过" in page and 'value="dispose"' in page
    assert _post(lims, case_id, users["manager"], action="request_retest").status_code == 303
    missing = _post(lims, case_id, users["manager"], action="record_lab_result", lab_outcome="confirmed")
    assert missing.status_code == 409 and _alert(missing.text) == "请选择实验室结论并填写检验报告编号。"
    assert _post(lims, case_id, users["manager"], action="record_lab_result", lab_outcome="confirmed",
                 lab_report_ref="CQ-LAB-0231").status_code == 303
    wrong = _post(lims, case_id, users["manager"], action="dispose", disposition="released")
    assert wrong.status_code == 409 and _alert(wrong.text) == "处置方式“解除暂停，恢复销售”与实验室结论不符，可选：监督销毁。"
    assert _post(lims, case_id, users["manager"], action="dispose", disposition="destroyed").status_code == 303
    history = lims.client.get(f"/cases/{case_id}?done=dispose", headers=users["manager"]).text
    rows = re.findall(r'<th scope="row">([^<]+)</th>', history.split('id="case-history"')[1])
    assert rows == ["阳性开案（暂停销售）", "通知摊主", "复检申请", "录入复检结果", "处置"]
    assert "超过复检期" in history and "确认阳性 · CQ-LAB-0231" in history and "监督销毁" in history
    assert "已记录：处置" in history
    refused = _post(lims, case_id, users["manager"], action="close")
    assert refused.status_code == 403 and _alert(refused.text) == "您的账号无权执行“结案”（需监管人员）。"
    assert _post(lims, case_id, users["regulator"], action="close").status_code == 303


def test_bad_fields_are_named(lims: Lims) -> None:
    users, case_id = _setup(lims)
    bad_time = _post(lims, case_id, users["manager"], action="notify_vendor", notified_at="昨天")
    assert bad_time.status_code == 422 and _alert(bad_time.text) == "“通知时间（留空为现在）”填写有误：请按 年-月-日 时:分 填写"
    bad_choice = _post(lims, case_id, users["manager"], action="record_lab_result", lab_outcome="maybe",
                       lab_report_ref="x")
    assert bad_choice.status_code == 422 and _alert(bad_choice.text) == "“实验室结论”填写有误：请从列表中选择"


def test_cases_outside_scope_are_not_found_and_untouched(lims: Lims) -> None:
    users, case_id = _setup(lims)
    for who in ("manager_b", "technician"):
        assert lims.client.get(f"/cases/{case_id}", headers=users[who]).status_code == 404
        assert _post(lims, case_id, users[who], action="notify_vendor").status_code == 404
    assert lims.client.get(f"/cases/{case_id}", follow_redirects=False).status_code == 303  # to the login form
    case = lims.client.get(f"/api/v1/cases/{case_id}", headers=users["manager"]).json()
    assert case["vendor_notified_at"] is None and len(case["events"]) == 1


def test_next_goes_back_only_to_this_site(lims: Lims) -> None:
    users, case_id = _setup(lims)
    answer = _post(lims, case_id, users["manager"], action="notify_vendor", next="//evil.example/")
    assert answer.status_code == 303 and answer.headers["location"] == f"/cases/{case_id}?done=notify_vendor"
