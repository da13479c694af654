"""Instruments disappear and come back: a Modbus TCP reader gone for a while, a serial (pty) analyzer unplugged
and plugged in again. Reading resumes within one poll period of the return; every reading stored once."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from kuaijian.demo import start_gateway
from kuaijian.procs import python_module, start

from ..crash.chaos import poll_until, wait_until
from .harness import (
    POLL_S,
    RECONNECT_S,
    acked_through,
    final_count,
    gateway_config,
    gold_reader,
    outbox_of,
    stored_readings,
    wait_drained,
)

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(240)]

BEFORE, AFTER, OUTAGE_S = 40, 40, 6.0
"""Readings before and after the outage; the outage spans several reconnect attempts (backoff up to POLL_S)."""
SLACK_S = 1.0
"""Scheduling allowance on a shared test machine, on top of the one poll period."""


def _resumed_within(outbox: Path, instrument: str, known: int, back_at: float, timeout: float) -> float:
    """Seconds from the instrument's return until the outbox holds a reading of it beyond ``known``."""
    assert poll_until(lambda: len(stored_readings(outbox, instrument)) > known, timeout), "reading never resumed"
    return time.monotonic() - back_at


def _stop(*children: Any) -> None:
    """Stop every child that was started (``None``: never started), in the order given."""
    for child in children:
        if child is not None:
            child.stop()


def test_modbus_reader_gone_then_back_polling_resumes_within_one_poll_period(tmp_path, logs, lims_process):
    reader = gold_reader(logs)
    first = reader.start(BEFORE)
    config = gateway_config(tmp_path, lims_process, [reader.entry()])
    outbox = outbox_of(config)
    gateway = start_gateway(config, logs)
    second = None
    try:
        wait_until(lambda: acked_through(first, BEFORE), 60, "the reader's first readings", alive=lambda: [gateway])
        first.stop()  # the reader is switched off (same port, nothing listening)
        time.sleep(OUTAGE_S)  # the outage itself: reconnect attempts fail meanwhile
        second = reader.start(AFTER, first_sequence=BEFORE + 1)  # back, its counter where it left off
        back_at = time.monotonic()
        resumed_s = _resumed_within(outbox, "gr-01", BEFORE, back_at, POLL_S + RECONNECT_S + 10)
        wait_until(lambda: acked_through(second, BEFORE + AFTER), 60, "the last reading", alive=lambda: [gateway])
        wait_drained(lims_process, outbox, lambda: [gateway])
    finally:
        _stop(gateway, first, second)
    lost = [e for e in _events(gateway.log_path) if e.get("event") == "link_down"]
    print(f"\nModbus reader gone {OUTAGE_S:.0f} s ({len(lost)} link-down report(s)); polling resumed "
          f"{resumed_s:.2f} s after it was back (poll period {POLL_S:g} s)")
    assert lost, "the gateway never reported the reader's link as down"
    assert resumed_s <= POLL_S + SLACK_S, f"polling resumed {resumed_s:.2f} s after the reader's return"
    final_count(lims_process, tmp_path / "bundle", BEFORE + AFTER)


def test_serial_analyzer_unplugged_and_replugged_reading_resumes(tmp_path, logs, lims_process):
    link, runs, channels = tmp_path / "ttyEI", 6, 2
    truths = [tmp_path / "truth-1.jsonl", tmp_path / "truth-2.jsonl"]

    def analyzer(n: int):
        return start(f"sim-enzyme-{n}", python_module(
            "firmware_sim", "enzyme", "--link", str(link), "--runs", str(runs), "--channels", str(channels),
            "--interval", "0.3", "--seed", str(40 + n), "--ack-timeout", "1.0", "--truth", str(truths[n - 1]),
            "--linger", "60"), logs, ready_prefix="READY")

    first = analyzer(1)
    entry = {"id": "ei-01", "driver": "enzyme_inhibition",
             "options": {"port": str(link), "reconnect_s": RECONNECT_S, "reconnect_max_s": POLL_S}}
    config = gateway_config(tmp_path, lims_process, [entry])
    outbox = outbox_of(config)
    gateway = start_gateway(config, logs)
    second = None
    try:
        wait_until(lambda: first.process.poll() is not None, 90, "the first analyzer to finish (all acked)",
                   alive=lambda: [gateway])  # its exit unplugs it: the pty goes away
        assert "0 result(s) unacked" in first.log_path.read_text(), first.log_path.read_text()
        time.sleep(OUTAGE_S)  # unplugged for a while
        second = analyzer(2)  # plugged in again: same device path; its run counter restarted at 1
        back_at = time.monotonic()
        resumed_s = _resumed_within(outbox, "ei-01", runs * channels, back_at, 30)
        wait_until(lambda: second.process.poll() is not None, 90, "the second analyzer to finish",
                   alive=lambda: [gateway])
        assert "0 result(s) unacked" in second.log_path.read_text(), second.log_path.read_text()
        wait_drained(lims_process, outbox, lambda: [gateway])
    finally:
        _stop(gateway, first, second)
    produced = sum(len(path.read_text("utf-8").splitlines()) for path in truths)
    print(f"\nserial analyzer unplugged {OUTAGE_S:.0f} s; first reading {resumed_s:.2f} s after replugging "
          f"(includes the analyzer's own first run)")
    count = final_count(lims_process, tmp_path / "bundle", produced)
    assert count.flags["source_counter_reset"] == runs * channels  # same serial:run:channel, other readings


def _events(log_path: Path) -> list[dict]:
    events = []
    for line in log_path.read_text("utf-8", errors="replace").splitlines():
        if line.startswith("{"):
            events.append(json.loads(line))
    return events
