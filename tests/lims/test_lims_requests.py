"""你点我检: public submission (validated, rate-limited), triage, the technicians' queue, closing with a result."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway


def test_request_lifecycle_from_resident_to_result(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    site = gateway.site["id"]
    manager = lims.user("m1", "manager", sites=(site,))
    technician = lims.user("t1", "technician", sites=(site,))
    asked = lims.client.post("/api/v1/public/requests", json={"product": "韭菜", "site_id": site, "note": "味道怪"})
    assert asked.status_code == 201 and asked.json()["status"] == "new"
    number = asked.json()["id"]
    assert lims.client.get("/api/v1/requests", headers=technician).json()["requests"] == []  # not yet queued
    triaged = lims.client.post(f"/api/v1/requests/{number}/triage", headers=manager,
                               json={"decision": "assign", "site_id": site, "note": "明早检测"})
    assert triaged.status_code == 200 and triaged.json()["assigned_site_id"] == site
    queue = lims.client.get("/api/v1/requests", headers=technician).json()["requests"]
    assert [(r["id"], r["product"], r["status"]) for r in queue] == [(number, "韭菜", "assigned")]
    envelope = gateway.next(verdict="negative", sample={"name": "韭菜"})
    lims.ingest(envelope)
    wrong = lims.client.post(f"/api/v1/requests/{number}/close", json={"result_id": "nope"}, headers=technician)
    assert wrong.status_code == 409 and "nope" in wrong.json()["detail"]
    closed = lims.client.post(f"/api/v1/requests/{number}/close", json={"result_id": envelope["result"]["id"]},
                              headers=technician)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    public = lims.client.get(f"/api/v1/public/requests/{number}").json()
    assert (public["status"], public["result_id"]) == ("closed", envelope["result"]["id"])
    assert "note" not in public and "triaged_by" not in public
    actions = [r.action for r in lims.rows("SELECT action FROM audit_log WHERE action LIKE 'request.%' ORDER BY seq")]
    assert actions == ["request.submit", "request.assign", "request.close"]


def test_submission_is_validated(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    unknown = lims.client.post("/api/v1/public/requests", json={"product": "韭菜", "site_id": "no-such-market"})
    assert unknown.status_code == 422 and "no-such-market" in unknown.json()["detail"]
    for body, field in (({"site_id": gateway.site["id"]}, "product"),
                        ({"product": "", "site_id": gateway.site["id"]}, "product"),
                        ({"product": "x" * 101, "site_id": gateway.site["id"]}, "product"),
                        ({"product": "韭菜", "site_id": gateway.site["id"], "phone": "1"}, "phone")):
        response = lims.client.post("/api/v1/public/requests", json=body)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == field


def test_rate_limit_is_five_per_hour_per_client(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    body = {"product": "豆芽", "site_id": gateway.site["id"]}
    codes = [lims.client.post("/api/v1/public/requests", json=body).status_code for _ in range(6)]
    assert codes == [201] * 5 + [429]
    assert lims.scalar("SELECT count(*) FROM test_requests") == 5
    assert lims.scalar("SELECT count(DISTINCT client_hash) FROM test_requests") == 1
    assert "testclient" not in str(lims.rows("SELECT client_hash FROM test_requests"))  # only a hash is kept


def test_rejected_request_cannot_be_assigned_or_closed(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    number = lims.client.post("/api/v1/public/requests", json={"product": "姜", "site_id": gateway.site["id"]}).json()["id"]
    rejected = lims.client.post(f"/api/v1/requests/{number}/triage", headers=lims.auth, json={"decision": "reject"})
    assert rejected.json()["status"] == "rejected"
    again = lims.client.post(f"/api/v1/requests/{number}/triage", headers=lims.auth,
                             json={"decision": "assign", "site_id": gateway.site["id"]})
    assert again.status_code == 409 and "rejected" in again.json()["detail"]


def test_a_request_closes_only_with_a_sample_of_the_same_product(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    site = gateway.site["id"]
    manager = lims.user("m1", "manager", sites=(site,))
    number = lims.client.post("/api/v1/public/requests", json={"product": "韭菜", "site_id": site}).json()["id"]
    lims.client.post(f"/api/v1/requests/{number}/triage", headers=manager, json={"decision": "assign", "site_id": site})
    spinach = gateway.next(verdict="negative", sample={"name": "菠菜"})
    control = gateway.next(verdict="negative", sample={"name": "韭菜"}, qc={"control": "negative_control", "flags": []})
    chives = gateway.next(verdict="negative", sample={"name": " 韭菜（散装） "})
    lims.ingest(spinach, control, chives)

    def close(result_id: str):
        return lims.client.post(f"/api/v1/requests/{number}/close", json={"result_id": result_id}, headers=manager)

    unrelated = close(spinach["result"]["id"])
    assert unrelated.status_code == 409
    assert unrelated.json()["detail"] == f"result {spinach['result']['id']!r} tested '菠菜', not the requested '韭菜'"
    qc = close(control["result"]["id"])
    assert qc.status_code == 409 and "QC control run, not a tested sample" in qc.json()["detail"]
    assert lims.client.get(f"/api/v1/public/requests/{number}").json()["status"] == "assigned"
    assert close(chives["result"]["id"]).status_code == 200
