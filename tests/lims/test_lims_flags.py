"""LIMS plausibility flags: operator enrolment, opening hours, replays across rooms, re-decoded raw bytes;
stored beside the envelope (never in it), a fixed number of queries per batch."""

from __future__ import annotations

import base64
import itertools
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from firmware_sim.enzyme._encoder import channel_frame
from lims_api.evidence import flag_new
from lims_api.ingest import hooks
from lims_api.ingest.hooks import StoredResult
from lims_api.ingest.service import store_batch

from .conftest import ndjson

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway

TECHNICIAN = "tech-0031"  # the vector's operator


READINGS = itertools.count(1000)


def enzyme(channel: int = 3, control: str = "0.4120", delta_t: str | None = None, **changes: Any) -> dict[str, Any]:
    """Result changes for a real EI-412 channel frame and the values it decodes to (a new ΔAₜ each call)."""
    sample = delta_t or f"0.{next(READINGS)}"
    frame = channel_frame(channel, Decimal(control), Decimal(sample), "")
    inhibition = float(((Decimal(control) - Decimal(sample)) / Decimal(control) * 100).quantize(Decimal("0.1")))
    return {"channel": channel, "raw": {"transport": "serial", "encoding": "base64",
                                         "data": base64.b64encode(frame).decode()},
            "measurement": {"value": inhibition, "unit": "%", "cutoff": 50, "control_delta_a": float(control),
                            "sample_delta_a": float(sample)},
            "verdict": "positive" if inhibition >= 50 else "negative", **changes}


def flags(lims: Lims, gateway: str, seq: int) -> list[tuple[str, str, str | None]]:
    return [tuple(r) for r in lims.rows(
        "SELECT f.source, f.code, f.detail FROM result_flags f JOIN envelopes e ON e.id = f.envelope_id"
        " WHERE e.gateway_id = :g AND e.seq = :s ORDER BY f.id", g=gateway, s=seq)]


def codes(lims: Lims, gateway: str, seq: int) -> list[str]:
    return [code for _, code, _ in flags(lims, gateway, seq)]


def test_a_real_reading_by_an_enrolled_technician_in_opening_hours_has_no_flag(lims: Lims, gateway: SigningGateway):
    lims.enrol(gateway)
    lims.user(TECHNICIAN, "technician", sites=(gateway.site["id"],))
    lims.admin("PUT", f"/api/v1/admin/sites/{gateway.site['id']}/opening-hours", {"opening_hours": "06:00-20:00"})
    lims.ingest(gateway.next(**enzyme()))
    assert flags(lims, gateway.gateway, 1) == []
    assert lims.scalar("SELECT count(*) FROM result_fingerprints") == 1


def test_operator_must_be_an_enabled_technician_of_the_site(lims: Lims, gateway: SigningGateway):
    lims.enrol(gateway)
    lims.user(TECHNICIAN, "technician", sites=(gateway.site["id"],))
    lims.user("tech-elsewhere", "technician", sites=())
    lims.user("mgr-07", "manager", sites=(gateway.site["id"],))
    lims.ingest(gateway.next(**enzyme()), gateway.next(**enzyme(operator="tech-elsewhere")),
                gateway.next(**enzyme(operator="mgr-07")), gateway.next(**enzyme(operator="nobody")))
    assert [codes(lims, gateway.gateway, seq) for seq in (1, 2, 3, 4)] == [
        [], ["operator_not_enrolled"], ["operator_not_enrolled"], ["operator_not_enrolled"]]
    assert flags(lims, gateway.gateway, 4) == [("lims", "operator_not_enrolled", "nobody")]


def test_a_test_outside_the_sites_opening_hours_is_flagged(lims: Lims, gateway: SigningGateway):
    lims.enrol(gateway)
    lims.user(TECHNICIAN, "technician", sites=(gateway.site["id"],))
    site = gateway.site["id"]
    lims.admin("PUT", f"/api/v1/admin/sites/{site}/opening-hours", {"opening_hours": "06:00-12:00,14:00-20:00"})
    at = {"09:15": [], "12:30": ["outside_opening_hours"], "19:59": [], "20:00": ["outside_opening_hours"],
          "05:59": ["outside_opening_hours"]}
    for clock in at:
        lims.ingest(gateway.next(**enzyme(tested_at=f"2026-11-23T{clock}:04+08:00")))
    assert [codes(lims, gateway.gateway, seq) for seq in range(1, 6)] == list(at.values())
    assert flags(lims, gateway.gateway, 2)[0][2] == "tested 12:30, open 06:00-12:00,14:00-20:00"
    bad = lims.client.put(f"/api/v1/admin/sites/{site}/opening-hours", json={"opening_hours": "8-18"},
                          headers=lims.auth)
    assert bad.status_code == 422 and "'8-18' is not HH:MM-HH:MM" in bad.text
    lims.admin("PUT", f"/api/v1/admin/sites/{site}/opening-hours", {"opening_hours": None})
    lims.ingest(gateway.next(**enzyme(tested_at="2026-11-23T23:00:00+08:00")))
    assert codes(lims, gateway.gateway, 6) == []


def test_the_same_raw_bytes_on_another_sample_in_another_room_flag_both(lims: Lims, gateway: SigningGateway,
                                                                          make_gateway: type[SigningGateway]):
    other_room = make_gateway(gateway="gw-yz-market-07-b")
    for gw in (gateway, other_room):
        lims.enrol(gw)
    lims.user(TECHNICIAN, "technician", sites=(gateway.site["id"],))
    lims.ingest(gateway.next(**enzyme(delta_t="0.1545")))
    lims.ingest(other_room.next(**enzyme(delta_t="0.1545", sample={"id": "S-2", "name": "菠菜", "barcode": None})))
    assert flags(lims, "gw-yz-market-07-b", 1) == [("lims", "replayed_raw", "same raw bytes as gw-yz-market-07 seq 1")]
    assert flags(lims, gateway.gateway, 1) == [("lims", "replayed_raw", "same raw bytes as gw-yz-market-07-b seq 1")]
    lims.ingest(other_room.next(**enzyme(delta_t="0.1545", sample={"id": "S-3", "name": "芹菜", "barcode": None})),
                other_room.next(**enzyme(delta_t="0.1545", sample={"id": "S-4", "name": "韭菜", "barcode": None})))
    assert flags(lims, "gw-yz-market-07-b", 3) == [
        ("lims", "replayed_raw", "same raw bytes as gw-yz-market-07 seq 1 and 2 more")]
    assert len(flags(lims, gateway.gateway, 1)) == 1  # the first is flagged once, not once per repeat


def test_one_message_of_several_items_for_one_sample_is_not_a_replay(lims: Lims, gateway: SigningGateway):
    lims.enrol(gateway)
    lims.user(TECHNICIAN, "technician", sites=(gateway.site["id"],))
    shared = {"instrument": {"driver": "astm_quantitative"}, "raw": {"transport": "astm", "data": "AkhFTExPAw"}}
    lims.ingest(gateway.next(test={"item": "亚硝酸盐", "kind": "quantitative"}, **shared),
                gateway.next(test={"item": "甲醛", "kind": "quantitative"}, **shared))
    assert [c for c in codes(lims, gateway.gateway, 2) if c.startswith("replayed")] == []
    lims.ingest(gateway.next(test={"item": "甲醛", "kind": "quantitative"}, **shared))  # the same item again
    assert "replayed_raw" in codes(lims, gateway.gateway, 3)


def test_identical_delta_a_values_on_another_sample_are_a_replayed_measurement(lims: Lims,
                                                                              gateway: SigningGateway):
    lims.enrol(gateway)
    lims.user(TECHNICIAN, "technician", sites=(gateway.site["id"],))
    first = gateway.next(**enzyme(channel=1, delta_t="0.1545"))
    same_values = gateway.next(**enzyme(channel=2, delta_t="0.1545", sample={"id": "S-9", "name": "芹菜", "barcode": None}))
    new_values = gateway.next(**enzyme(channel=3, sample={"id": "S-10", "barcode": None}))
    lims.ingest(first, same_values, new_values)  # one batch: the second matches the first within it
    assert codes(lims, gateway.gateway, 2) == ["replayed_measurement"]
    assert codes(lims, gateway.gateway, 1) == ["replayed_measurement"]
    assert codes(lims, gateway.gateway, 3) == []


def test_raw_bytes_that_do_not_give_the_stated_value_and_gateway_flags_are_kept(lims: Lims,
                                                                               gateway: SigningGateway):
    lims.enrol(gateway)
    lims.user(TECHNICIAN, "technician", sites=(gateway.site["id"],))
    edited = enzyme()
    edited["measurement"]["value"] = 12.0
    edited["verdict"] = "negative"
    lims.ingest(gateway.next(**edited, qc={"control": "sample", "flags": ["too_fast_channel:100s"]}))
    assert flags(lims, gateway.gateway, 1) == [("gateway", "too_fast_channel", "100s"),
                                               ("lims", "raw_mismatch", "value"), ("lims", "raw_mismatch", "verdict")]
    stored = lims.scalar("SELECT raw_text FROM envelopes WHERE seq = 1")
    assert "raw_mismatch" not in stored  # the envelope stays exactly as signed
    public = lims.client.get(f"/api/v1/public/sites/{gateway.site['id']}/results")
    assert "raw_mismatch" not in public.text and "too_fast_channel" not in public.text


def test_flags_of_a_batch_take_two_queries_whatever_its_size(lims: Lims, gateway: SigningGateway,
                                                               monkeypatch: pytest.MonkeyPatch):
    """The same batches stored with and without the flag hook: the hook adds two SELECTs (site facts, earlier
    results), 2 lines or 20; the stored results are handed over, not read back."""
    lims.enrol(gateway)
    lims.user(TECHNICIAN, "technician", sites=(gateway.site["id"],))

    def selects_storing(size: int) -> int:
        envelopes = [gateway.next(**enzyme(channel=1 + n % 4)) for n in range(size)]
        selects: list[str] = []

        def listener(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
            if sql.lstrip().upper().startswith("SELECT"):
                selects.append(sql)

        event.listen(lims.engine, "before_cursor_execute", listener)
        try:
            with Session(lims.engine) as session:
                store_batch(session, ndjson(*envelopes), None, datetime.now(UTC))
        finally:
            event.remove(lims.engine, "before_cursor_execute", listener)
        return len(selects)

    with_flags = [selects_storing(size) for size in (2, 20)]
    monkeypatch.setattr(hooks, "_BATCH_HOOKS", [])
    without = [selects_storing(size) for size in (2, 20)]
    assert [a - b for a, b in zip(with_flags, without, strict=True)] == [2, 2]
    assert lims.scalar("SELECT count(*) FROM result_fingerprints") == 22  # only the flagged batches have them


def test_a_failing_flag_hook_leaves_the_batch_stored(lims: Lims, gateway: SigningGateway,
                                                     monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):
    lims.enrol(gateway)

    def broken(session: Session, stored: list[StoredResult], at: datetime) -> None:
        flag_new(session, stored, at)  # its rows are written, then the hook fails: they must go, the batch stay
        raise RuntimeError("flag store unavailable")

    monkeypatch.setattr(hooks, "_BATCH_HOOKS", [broken])
    results = lims.ingest(gateway.next(**enzyme()), gateway.next(**enzyme()))
    assert [r["status"] for r in results] == ["stored", "stored"]
    assert lims.scalar("SELECT count(*) FROM envelopes") == 2
    assert lims.scalar("SELECT count(*) FROM result_fingerprints") == 0
    assert "batch hooks failed for 2 stored envelope(s)" in caplog.text
