"""Envelopes carry only pseudonymous operator ids and no names or contact data (receipts publish them whole)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from protocols.privacy import personal_data_findings

DEMO = [json.loads(line) for line in (Path(__file__).parent / "data" / "demo-envelopes.jsonl").read_text("utf-8")
        .splitlines()]


def test_demo_envelopes_hold_no_personal_data() -> None:
    assert len(DEMO) >= 10
    assert {e["result"]["raw"]["transport"] for e in DEMO} == {"serial", "modbus-rtu", "modbus-tcp", "astm"}
    assert [f for e in DEMO for f in personal_data_findings(e)] == []


@pytest.mark.parametrize(("change", "found"), [
    (lambda r: r.update(operator="张伟"), "not a pseudonymous id"),
    (lambda r: r.update(operator="Li Na"), "not a pseudonymous id"),
    (lambda r: r["sample"].update(supplier="王老板 13812345678"), "mobile number"),
    (lambda r: r.update(contact="x"), "named for personal data"),
    (lambda r: r["sample"].update(origin="li@example.cn"), "e-mail address"),
    (lambda r: r.update(note="11010519491231002X"), "identity card number"),
])
def test_personal_data_is_found(change, found: str) -> None:
    envelope = copy.deepcopy(DEMO[0])
    change(envelope["result"])
    assert any(found in f for f in personal_data_findings(envelope))


def test_ids_and_codes_are_not_taken_for_phone_numbers() -> None:
    envelope = copy.deepcopy(DEMO[0])
    envelope["result"]["id"] = "01a23702-7f2f-7f4a-bfd0-a13812345678"
    envelope["result"]["sample"]["barcode"] = "6901391234567"
    envelope["result"]["instrument"]["serial"] = "SN13812345678X"
    assert personal_data_findings(envelope) == []
    envelope["result"]["sample"]["supplier"] = "张记蔬菜 电话13812345678"
    assert personal_data_findings(envelope) == ["envelope.result.sample.supplier: looks like a mobile number"]
