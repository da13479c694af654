"""你点我检 pages: the staff queue (assign, reject, close with a matching result) and the public status page."""

from __future__ import annotations

import re

from .conftest import Lims
from .pages_seed import MARKET_A, MARKET_B, SECRETS, result, seed_places


def _setup(lims: Lims):
    a, b, _ = seed_places(lims)
    users = {
        "manager": lims.user("manager-a", "manager", sites=(MARKET_A["id"],)),
        "manager_b": lims.user("manager-b", "manager", sites=(MARKET_B["id"],)),
        "technician": lims.user("tech-a", "technician", sites=(MARKET_A["id"],)),
    }
    number = lims.client.post("/api/v1/public/requests", json={"product": "韭菜", "site_id": MARKET_A["id"],
                                                               "note": "味道不对"}).json()["id"]
    return a, users, number


def _post(lims: Lims, path: str, who: dict[str, str], **form: str):
    return lims.client.post(path, data=form, headers=who, follow_redirects=False)


def _alert(page: str) -> str:
    match = re.search(r'role="alert" id="request-error">([^<]+)<', page)
    assert match, "no error shown"
    return match.group(1)


def test_manager_assigns_and_technician_closes_with_the_offered_result(lims: Lims) -> None:
    a, users, number = _setup(lims)
    queue = lims.client.get("/requests", headers=users["manager"]).text
    assert "韭菜" in queue and "味道不对" in queue and "待分派" in queue and f'action="/requests/{number}/triage"' in queue
    assert "韭菜" not in lims.client.get("/requests", headers=users["technician"]).text  # not queued yet
    assigned = _post(lims, f"/requests/{number}/triage", users["manager"], decision="assign", site_id=MARKET_A["id"])
    assert assigned.status_code == 303 and assigned.headers["location"] == "/requests?done=assign"
    chives, spinach = a.next(**result("韭菜", "A-07", "negative")), a.next(**result("菠菜", "A-01", "negative"))
    lims.ingest(chives, spinach)
    queue = lims.client.get("/requests", headers=users["technician"]).text
    assert f'value="{chives["result"]["id"]}" checked' in queue and spinach["result"]["id"] not in queue
    closed = _post(lims, f"/requests/{number}/close", users["technician"], result_id=chives["result"]["id"])
    assert closed.status_code == 303 and closed.headers["location"] == "/requests?done=close"
    assert lims.client.get(f"/api/v1/public/requests/{number}").json()["result_id"] == chives["result"]["id"]
    assert "韭菜" not in lims.client.get("/requests", headers=users["manager"]).text  # answered: off the open queue
    assert "已出结果" in lims.client.get("/requests?status=all", headers=users["manager"]).text


def test_an_unrelated_result_is_refused_with_a_clear_reason(lims: Lims) -> None:
    a, users, number = _setup(lims)
    _post(lims, f"/requests/{number}/triage", users["manager"], decision="assign", site_id=MARKET_A["id"])
    spinach = a.next(**result("菠菜", "A-01", "negative"))
    lims.ingest(spinach)
    rid = spinach["result"]["id"]
    refused = _post(lims, f"/requests/{number}/close", users["technician"], result_id_typed=rid)
    assert refused.status_code == 409 and _alert(refused.text) == f"结果 {rid} 检测的是“菠菜”，不是申请的“韭菜”。"
    unknown = _post(lims, f"/requests/{number}/close", users["technician"], result_id_typed="nope")
    assert _alert(unknown.text) == f"检测点 {MARKET_A['id']} 没有编号为 nope 的检测结果。"
    empty = _post(lims, f"/requests/{number}/close", users["technician"])
    assert empty.status_code == 422 and _alert(empty.text) == "请选择或输入一个结果编号。"
    assert lims.client.get(f"/api/v1/public/requests/{number}").json()["status"] == "assigned"


def test_reject_and_scope(lims: Lims) -> None:
    _, users, number = _setup(lims)
    assert _post(lims, f"/requests/{number}/triage", users["manager_b"], decision="reject").status_code == 404
    assert _post(lims, f"/requests/{number}/triage", users["technician"], decision="reject").status_code == 404
    assert _post(lims, f"/requests/{number}/triage", users["manager"], decision="reject").status_code == 303
    again = _post(lims, f"/requests/{number}/triage", users["manager"], decision="assign", site_id=MARKET_A["id"])
    assert again.status_code == 409 and _alert(again.text) == "该申请当前为“未受理”，不能执行此操作。"
    assert lims.client.get("/requests", follow_redirects=False).status_code == 303


def test_public_status_follows_the_request_to_its_result_without_personal_data(lims: Lims) -> None:
    a, users, number = _setup(lims)
    pending = lims.client.get(f"/public/requests/{number}").text
    assert "待分派" in pending and "尚未检测" in pending and "味道不对" not in pending
    _post(lims, f"/requests/{number}/triage", users["manager"], decision="assign", site_id=MARKET_A["id"])
    chives = a.next(**result("韭菜", "A-07", "positive", value=61.0))
    lims.ingest(chives)
    _post(lims, f"/requests/{number}/close", users["technician"], result_id=chives["result"]["id"])
    page = lims.client.get(f"/public/requests/{number}").text
    answer = page.split('id="status-answer"')[1]
    assert "韭菜" in answer and "A-07" in answer and "不合格" in answer and "已出结果" in page
    for secret in (*SECRETS.values(), chives["result"]["id"], "61"):
        assert secret not in page
    assert lims.client.get("/public/requests/99999").status_code == 404
