"""The demo's technician labels samples on a real room page; the labels reach the next results."""

from __future__ import annotations

import json
import sqlite3
import time

from kuaijian.demo_room import Labeller
from lims_api.pages.console_qc import InstrumentQc

from ..browser.room_gateway import room_gateway


def _results(outbox) -> list[dict]:
    db = sqlite3.connect(f"file:{outbox}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT envelope FROM envelopes ORDER BY seq").fetchall()
    finally:
        db.close()
    return [json.loads(row[0])["result"] for row in rows]


def _sample_names(outbox) -> list[str]:
    return [(result.get("sample") or {}).get("name") for result in _results(outbox)]


def _runs(outbox) -> list[tuple[str, str | None, str | None]]:
    """(qc.control, kit lot, sample name) of every stored result, in order."""
    return [(result["qc"]["control"], (result.get("kit") or {}).get("lot"), (result.get("sample") or {}).get("name"))
            for result in _results(outbox)]


def test_labeller_queues_labels_the_next_results_carry(tmp_path):
    with room_gateway(tmp_path, channels=2, interval_s=1.0, seed=7) as gateway:
        labeller = Labeller(gateway.url.rstrip("/"), {"ei-01": (60.0, 2)}, "tech-001", "EI-2412", "2027-06-30")
        assert labeller.post("ei-01", 0) and labeller.post("ei-01", 1)
        deadline = time.monotonic() + 30
        while not {"菠菜", "小白菜"} <= set(_sample_names(gateway.outbox)):
            assert time.monotonic() < deadline, _sample_names(gateway.outbox)
            time.sleep(0.2)  # polling the outbox the daemon writes
        assert not labeller.post("no-such-instrument", 0)  # the room page refuses an unknown instrument


def test_demo_technician_runs_a_negative_and_a_positive_control_of_the_kit_lot_first(tmp_path):
    with room_gateway(tmp_path, channels=2, interval_s=1.0, seed=7) as gateway:
        labeller = Labeller(gateway.url.rstrip("/"), {"ei-01": (60.0, 2)}, "tech-001", "EI-2412", "2027-06-30")
        labeller.start()
        try:
            deadline = time.monotonic() + 30
            while not {"菠菜", "小白菜"} <= set(_sample_names(gateway.outbox)):
                assert time.monotonic() < deadline, _runs(gateway.outbox)
                time.sleep(0.2)  # polling the outbox the daemon writes
        finally:
            labeller.stop.set()
            labeller.join(10)
        runs = [run for run in _runs(gateway.outbox) if run[2] is not None]  # results before any label: unlabelled
    assert runs[:2] == [("negative_control", "EI-2412", "阴性质控品"), ("positive_control", "EI-2412", "阳性质控品")]
    assert {(control, lot) for control, lot, _ in runs[2:]} == {("sample", "EI-2412")}
    day = InstrumentQc("yz-market-07", "gw-room-01", "ei-01", samples=len(runs) - 2,
                       sample_lots={lot for control, lot, _ in runs if control == "sample"},
                       control_lots={control: {lot} for control, lot, _ in runs if control != "sample"})
    assert (day.state, day.missing) == ("done", [])  # the console's rule: 质控完成
