"""The daemon end to end: driver -> outbox -> stand-in LIMS, crashes, stop, and a real SIGKILL restart."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config import load_config
from gateway.daemon import Gateway
from gateway.errors import GatewayError, KeyFileError
from gateway.outbox import Outbox

from .conftest import GATEWAY_ID, async_wait_until, config_data, now, result, write_config
from .gw_fake_driver import read_ack
from .gw_standin_lims import StandInLims

ROOT = Path(__file__).resolve().parents[2]


def counting(tmp_path: Path, count: int, **options: object) -> dict[str, object]:
    return {"id": "ei-01", "driver": "counting",
            "options": {"count": count, "ack_file": str(tmp_path / "instrument.ack"), **options}}


def readings_at(lims: StandInLims) -> list[str]:
    """Sample names of the stored envelopes in seq order: one per reading."""
    return [lims.envelopes[key]["result"]["sample"]["name"] for key in sorted(lims.envelopes)]


async def run_gateway_until(config_path: Path, condition, **options: object) -> None:
    """Run a Gateway until ``condition()`` holds (10 s at most), then stop it and wait for a clean exit."""
    stop = asyncio.Event()
    task = asyncio.create_task(Gateway(load_config(config_path), restart_delay_s=0.05, **options).run(stop))
    try:
        reached = await async_wait_until(lambda: condition() or task.done(), timeout=10)
        assert reached and not task.done(), task.exception() if task.done() else "timed out"
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


def test_results_flow_to_the_lims_and_the_daemon_stops_cleanly(tmp_path, key_path, lims, counting_driver):
    path = write_config(tmp_path, config_data(lims.url, [counting(tmp_path, 20)]))
    asyncio.run(run_gateway_until(path, lambda: len(lims.stored) == 20))
    assert lims.seqs(GATEWAY_ID) == list(range(1, 21))
    assert readings_at(lims) == [f"sample {n}" for n in range(1, 21)]
    assert lims.rejections == []
    first = lims.envelopes[(GATEWAY_ID, 1)]["result"]
    assert (first["site"]["id"], first["operator"], first["instrument"]["id"]) == ("yz-market-07", "tech-001", "ei-01")
    assert read_ack(tmp_path / "instrument.ack") == 20


def test_crashed_driver_is_logged_and_restarted(tmp_path, key_path, lims, counting_driver, caplog):
    path = write_config(tmp_path, config_data(lims.url, [counting(tmp_path, 10, crash_at=5)]))
    with caplog.at_level(logging.INFO, logger="gateway.daemon"):
        asyncio.run(run_gateway_until(path, lambda: len(lims.stored) == 10))
    assert readings_at(lims) == [f"sample {n}" for n in range(1, 11)]
    crashes = [r for r in caplog.records if r.getMessage().startswith("driver crashed")]
    assert len(crashes) == 1 and "simulated driver crash before reading 5" in str(crashes[0].exc_info[1])


def test_reading_committed_but_not_acked_is_not_stored_twice(tmp_path, key_path, private_key, lims, counting_driver):
    """The instrument re-sends readings 2 and 3 (ack lost in a crash); the outbox already holds them."""
    box = Outbox(tmp_path / "outbox.sqlite3", gateway_id=GATEWAY_ID, private_key=private_key, clock=now)
    for n in (1, 2, 3):
        box.append(result(n), f"counter:{n}")
    box.close()
    (tmp_path / "instrument.ack").write_text("1")
    path = write_config(tmp_path, config_data(lims.url, [counting(tmp_path, 6)]))
    asyncio.run(run_gateway_until(path, lambda: len(lims.stored) == 6))
    assert lims.seqs(GATEWAY_ID) == [1, 2, 3, 4, 5, 6]
    assert readings_at(lims) == [f"sample {n}" for n in range(1, 7)]


def test_pending_results_get_a_final_upload_on_stop(tmp_path, key_path, private_key, counting_driver):
    from protocols.envelope import public_key_bytes

    lims = StandInLims({GATEWAY_ID: public_key_bytes(private_key.public_key())})
    data = config_data(lims.url, [counting(tmp_path, 5)], retry_min_s=30.0, retry_max_s=30.0)
    path = write_config(tmp_path, data)
    outbox_path = tmp_path / "outbox.sqlite3"

    def stored_and_tried() -> bool:  # all 5 committed and the uplink failed once (now in a 30 s backoff)
        if not outbox_path.exists():
            return False
        with sqlite3.connect(outbox_path) as db:
            return db.execute("SELECT count(*) FROM envelopes WHERE attempts > 0").fetchone()[0] >= 1 and (
                db.execute("SELECT count(*) FROM envelopes").fetchone()[0] == 5)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(Gateway(load_config(path), final_upload_s=5).run(stop))
        assert await async_wait_until(stored_and_tried)
        lims.start()
        stop.set()
        await asyncio.wait_for(task, 10)

    try:
        asyncio.run(scenario())
    finally:
        lims.stop()
    assert lims.seqs(GATEWAY_ID) == [1, 2, 3, 4, 5]


def test_startup_faults_raise_before_anything_runs(tmp_path, key_path, lims, counting_driver):
    bad_options = {"id": "ei-01", "driver": "counting", "options": {}}
    path = write_config(tmp_path, config_data(lims.url, [bad_options]))
    with pytest.raises(GatewayError, match="instrument 'ei-01' \\(driver counting\\): 'count'"):
        asyncio.run(Gateway(load_config(path)).run(asyncio.Event()))
    key_path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        asyncio.run(Gateway(load_config(path)).run(asyncio.Event()))


def _start_daemon(config_path: Path, log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "tests.gateway.gw_run_daemon", str(config_path)],
                                cwd=ROOT, stdout=log, stderr=log, env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.crash
def test_sigkill_mid_stream_then_restart_loses_nothing_and_reuses_no_seq(tmp_path, key_path, lims):
    total = 150
    path = write_config(tmp_path, config_data(lims.url, [counting(tmp_path, total, interval_s=0.01)]))
    log_path = tmp_path / "daemon.log"
    daemon = _start_daemon(path, log_path)
    try:
        assert lims.wait_for(lambda s: len(s.stored) >= 30, timeout=20), log_path.read_text()
        daemon.send_signal(signal.SIGKILL)
        assert daemon.wait(10) == -signal.SIGKILL
        killed_at = len(lims.stored)
        assert killed_at < total, "the stream ended before the kill; slow the driver down"
        daemon = _start_daemon(path, log_path)
        assert lims.wait_for(lambda s: len(s.stored) == total, timeout=30), log_path.read_text()
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(10) == 0, log_path.read_text()
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    assert lims.seqs(GATEWAY_ID) == list(range(1, total + 1))  # contiguous, each seq stored once
    assert readings_at(lims) == [f"sample {n}" for n in range(1, total + 1)]  # each reading once, in order
    assert lims.rejections == []  # every signature, prev link and seq verified by the stand-in LIMS
    with sqlite3.connect(tmp_path / "outbox.sqlite3") as db:
        assert db.execute("SELECT count(*), min(seq), max(seq) FROM envelopes WHERE state = 'delivered'").fetchone() \
            == (total, 1, total)
    events = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert [e["msg"] for e in events].count("gateway started") == 2
    assert events[-1]["msg"] == "gateway stopped"
