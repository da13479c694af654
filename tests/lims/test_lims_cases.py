"""After a positive: a case opens with the stored result, follows the transition table, is fully recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from lims_api.followup.cases import TRANSITIONS

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway


@pytest.fixture
def staff(lims: Lims, gateway: SigningGateway) -> dict[str, dict[str, str]]:
    lims.enrol(gateway)
    lims.district("yz")
    lims.place_site(gateway.site, "yz")
    return {"manager": lims.user("m1", "manager", sites=(gateway.site["id"],)),
            "regulator": lims.user("r1", "regulator", district="yz")}


def _act(lims: Lims, headers: dict[str, str], case: int, **body: object) -> dict:
    response = lims.client.post(f"/api/v1/cases/{case}/actions", json=body, headers=headers)
    return {"status": response.status_code, **response.json()}


def test_positive_opens_a_held_case_invalid_and_controls_do_not(
    lims: Lims, gateway: SigningGateway, staff: dict[str, dict[str, str]]
) -> None:
    lims.ingest(gateway.next(), gateway.next(verdict="invalid"), gateway.next(qc={"control": "positive_control"}),
                gateway.next(verdict="negative"))
    (case,) = lims.client.get("/api/v1/cases", headers=staff["manager"]).json()["cases"]
    assert (case["state"], case["overdue"], case["retest_deadline"]) == ("held", False, None)
    events = lims.client.get(f"/api/v1/cases/{case['id']}", headers=staff["manager"]).json()["events"]
    assert [(e["action"], e["actor"], e["from_state"], e["to_state"]) for e in events] == [
        ("open", "system:ingest", None, "held")]
    results = lims.client.get("/api/v1/results", headers=staff["manager"]).json()["results"]
    assert [r["rerun_needed"] for r in sorted(results, key=lambda r: r["seq"])] == [False, True, False, False]


def test_full_workflow_with_lab_confirmation(
    lims: Lims, gateway: SigningGateway, staff: dict[str, dict[str, str]]
) -> None:
    lims.ingest(gateway.next())
    case = lims.scalar("SELECT id FROM cases")
    manager, regulator = staff["manager"], staff["regulator"]
    told = (datetime.now(UTC) - timedelta(minutes=30)).replace(microsecond=0)
    step = _act(lims, manager, case, action="notify_vendor", notified_at=told.isoformat())
    assert step["status"] == 200 and step["state"] == "held"
    assert datetime.fromisoformat(step["retest_deadline"]) == told + timedelta(hours=4)
    step = _act(lims, manager, case, action="request_retest", note="摊主申请复检")
    assert step["state"] == "retest_requested" and step["events"][-1]["details"]["within_window"] is True
    assert _act(lims, manager, case, action="record_lab_result", lab_outcome="confirmed")["status"] == 409
    step = _act(lims, regulator, case, action="record_lab_result", lab_outcome="confirmed", lab_report_ref="LAB-1")
    assert (step["state"], step["lab_outcome"], step["lab_report_ref"]) == ("lab_result", "confirmed", "LAB-1")
    refused = _act(lims, manager, case, action="dispose", disposition="released")
    assert refused["status"] == 409 and "destroyed" in refused["detail"]
    assert _act(lims, manager, case, action="dispose", disposition="destroyed")["state"] == "disposition"
    assert _act(lims, manager, case, action="close")["status"] == 403  # closing is the regulator's
    final = _act(lims, regulator, case, action="close")
    assert final["state"] == "closed"
    assert [e["action"] for e in final["events"]] == [
        "open", "notify_vendor", "request_retest", "record_lab_result", "dispose", "close"]
    assert [e["actor"] for e in final["events"]][-1] == "regulator:r1"
    assert lims.scalar("SELECT count(*) FROM audit_log WHERE action LIKE 'case.%'") == 6


def test_illegal_steps_name_the_state_and_the_allowed_actions(
    lims: Lims, gateway: SigningGateway, staff: dict[str, dict[str, str]]
) -> None:
    lims.ingest(gateway.next())
    case = lims.scalar("SELECT id FROM cases")
    refused = _act(lims, staff["manager"], case, action="close")
    assert refused["status"] == 409 and "held" in refused["detail"] and "request_retest" in refused["detail"]
    early = _act(lims, staff["manager"], case, action="dispose", disposition="destroyed")
    assert early["status"] == 409 and "4-hour" in early["detail"]
    assert lims.scalar("SELECT count(*) FROM case_events") == 1


def test_missed_window_is_overdue_and_a_late_request_is_recorded_as_late(
    lims: Lims, gateway: SigningGateway, staff: dict[str, dict[str, str]]
) -> None:
    lims.ingest(gateway.next())
    case = lims.scalar("SELECT id FROM cases")
    told = datetime.now(UTC) - timedelta(hours=5)
    _act(lims, staff["manager"], case, action="notify_vendor", notified_at=told.isoformat())
    overdue = lims.client.get("/api/v1/cases", params={"overdue": "true"}, headers=staff["regulator"]).json()
    assert [c["id"] for c in overdue["cases"]] == [case] and overdue["cases"][0]["overdue"] is True
    late = _act(lims, staff["manager"], case, action="request_retest")
    assert late["events"][-1]["details"]["within_window"] is False
    assert _act(lims, staff["manager"], case, action="dispose", disposition="returned")["status"] == 409


def test_transition_table_is_the_only_source_of_states() -> None:
    states = {s for s, _ in TRANSITIONS} | {n for n, _ in TRANSITIONS.values()}
    assert states == {"held", "retest_requested", "lab_result", "disposition", "closed"}
    assert not any(s == "closed" for s, _ in TRANSITIONS)  # closed is terminal


def test_trace_code_is_stored_and_queryable(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    lims.ingest(gateway.next(verdict="negative", trace_code="YSY-500103-0001"),
                gateway.next(verdict="negative", sample={"barcode": "BAR-2"}),
                gateway.next(verdict="negative", sample={"barcode": None}))
    def seqs(code: str) -> list[int]:
        response = lims.client.get("/api/v1/results", params={"trace_code": code}, headers=lims.auth)
        return [r["seq"] for r in response.json()["results"]]
    assert seqs("YSY-500103-0001") == [1] and seqs("BAR-2") == [2] and seqs("6901234567892") == []
    assert lims.scalar("SELECT count(*) FROM envelopes WHERE trace_code IS NULL") == 1
