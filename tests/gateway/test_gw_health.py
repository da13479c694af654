"""Health: status file and `gateway status`, /metrics, clock-skew flags, JSON logs, SIGTERM drain."""

from __future__ import annotations

import asyncio
import io
import json
import re
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from drivers import registry
from kuaijian.cli_gateway import gateway_app
from gateway.config import load_config
from gateway.daemon import Gateway
from gateway.health import status_path
from gateway.logging_setup import setup_json_logging
from gateway.sink import flag_clock_skew

from .conftest import GATEWAY_ID, async_wait_until, config_data, result, write_config
from .gw_skewed_driver import SKEWED_NAME, SKEWED_TARGET
from .gw_standin_lims import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def skewed_driver(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(registry.BUILTIN, SKEWED_NAME, SKEWED_TARGET)
    return SKEWED_NAME


def instrument(tmp_path: Path, name: str, driver: str, count: int, **options: object) -> dict[str, object]:
    return {"id": name, "driver": driver,
            "options": {"count": count, "ack_file": str(tmp_path / f"{name}.ack"), **options}}


def test_skew_flag_only_beyond_the_threshold_and_never_twice():
    on_time = result(1)
    assert flag_clock_skew(on_time, -299.0, 300.0) is on_time
    flagged = flag_clock_skew(on_time, -3725.4, 300.0)
    assert flagged.qc.flags == ["clock_skew:-3725s"] and on_time.qc.flags == []
    assert flag_clock_skew(flagged, 400.0, 300.0).qc.flags == ["clock_skew:+400s"]


def test_skewed_instrument_is_flagged_recorded_and_served(tmp_path, key_path, lims, counting_driver, skewed_driver):
    """One instrument clock 1 h behind, one 2 min ahead (within 300 s): only the first is flagged."""
    port = free_port()
    data = config_data(lims.url, [instrument(tmp_path, "ei-01", "skewed", 3, clock_offset_s=-3600),
                                  instrument(tmp_path, "ei-02", "skewed", 2, clock_offset_s=120),
                                  {**instrument(tmp_path, "ei-03", "counting", 1), "enabled": False}])
    data["gateway"].update(status_port=port, status_interval_s=0.05)
    path = write_config(tmp_path, data)
    scraped: dict[str, str] = {}

    async def scenario() -> None:
        stop = asyncio.Event()
        gateway = Gateway(load_config(path))
        task = asyncio.create_task(gateway.run(stop))
        try:
            assert await async_wait_until(lambda: len(lims.stored) == 5 or task.done())
            async with httpx.AsyncClient() as client:
                assert await async_wait_until(lambda: task.done() or _status_shows(tmp_path, delivered=5))
                scraped["metrics"] = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
                scraped["status"] = (await client.get(f"http://127.0.0.1:{port}/status")).text
                scraped["404"] = str((await client.get(f"http://127.0.0.1:{port}/nothing")).status_code)
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)

    asyncio.run(scenario())
    flags = {(env["result"]["instrument"]["id"], tuple(env["result"]["qc"]["flags"])) for env in lims.envelopes.values()}
    assert flags == {("ei-01", ("clock_skew:-3600s", "unlabelled", "operator_not_signed_in")),
                     ("ei-02", ("unlabelled", "operator_not_signed_in"))}  # nobody signed in at the room page
    metrics = scraped["metrics"]
    for line in ['kuaijian_results_total{instrument="ei-01"} 3.0', 'kuaijian_results_total{instrument="ei-02"} 2.0',
                 'kuaijian_instrument_up{instrument="ei-01"} 1.0', 'kuaijian_instrument_up{instrument="ei-03"} 0.0',
                 'kuaijian_clock_skew_seconds{instrument="ei-01"} -3600.0',
                 'kuaijian_clock_skew_seconds{instrument="ei-02"} 120.0',
                 "kuaijian_uploads_total 5.0", "kuaijian_rejections_total 0.0", "kuaijian_backlog 0.0"]:
        assert line in metrics.splitlines(), line
    assert 0 < time.time() - _metric(metrics, "kuaijian_last_upload_timestamp_seconds") < 30
    assert json.loads(scraped["status"])["gateway"] == GATEWAY_ID and scraped["404"] == "404"
    status = CliRunner().invoke(gateway_app, ["status", "--config", str(path), "--json"])
    assert status.exit_code == 0, status.output
    shown = json.loads(status.output)
    assert shown["daemon"] == "stopped_or_stale" and shown["uplink"]["state"] == "stopped"
    by_id = {item["id"]: item for item in shown["instruments"]}
    assert (by_id["ei-01"]["clock_skew_s"], by_id["ei-02"]["clock_skew_s"], by_id["ei-01"]["results"]) == (-3600, 120, 3)
    assert by_id["ei-03"]["last_error"] == "disabled in the config"
    assert (shown["backlog"]["pending"], shown["backlog"]["delivered"], shown["backlog"]["last_seq"]) == (0, 5, 5)
    assert shown["outbox"] == {"state": "ok", "error": None}
    table = CliRunner().invoke(gateway_app, ["status", "--config", str(path)])
    assert table.exit_code == 0 and "ei-01" in table.output and "-3600" in table.output
    assert re.search(r"outbox\s+.\s*ok", table.output), table.output


def _status_shows(folder: Path, *, delivered: int) -> bool:
    path = status_path(folder / "outbox.sqlite3")
    try:
        return json.loads(path.read_text())["backlog"]["delivered"] == delivered
    except (OSError, ValueError, KeyError):
        return False


def _metric(text: str, name: str) -> float:
    return next(float(line.split()[1]) for line in text.splitlines() if line.startswith(name + " "))


def test_status_of_a_gateway_that_never_ran(tmp_path, key_path):
    path = write_config(tmp_path, config_data("http://127.0.0.1:1", []))
    out = CliRunner().invoke(gateway_app, ["status", "--config", str(path), "--json"])
    assert out.exit_code == 0, out.output
    shown = json.loads(out.output)
    assert (shown["daemon"], shown["backlog"], shown["status_age_s"]) == ("never_ran", None, None)


def test_json_logs_are_one_object_per_line_with_extras():
    stream = io.StringIO()
    setup_json_logging(stream=stream)
    try:
        logging.getLogger("gateway.test").info("two\nlines", extra={"seq": 7, "instrument": "ei-01"})
        logging.getLogger("gateway.test").warning("plain")
    finally:
        logging.getLogger().handlers.clear()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert {k: first[k] for k in ("level", "logger", "msg", "seq", "instrument")} == {
        "level": "info", "logger": "gateway.test", "msg": "two\nlines", "seq": 7, "instrument": "ei-01"}
    assert (second["level"], second["msg"]) == ("warning", "plain")


@pytest.mark.crash
def test_sigterm_mid_stream_exits_0_quickly_with_nothing_left_pending(tmp_path, key_path, lims):
    path = write_config(tmp_path, config_data(lims.url, [instrument(tmp_path, "ei-01", "counting", 10_000,
                                                                    interval_s=0.005)]))
    log_path = tmp_path / "daemon.log"
    with log_path.open("ab") as log:
        daemon = subprocess.Popen([sys.executable, "-m", "tests.gateway.gw_run_daemon", str(path)], cwd=ROOT,
                                  stdout=log, stderr=log, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert lims.wait_for(lambda s: len(s.stored) >= 50, timeout=20), log_path.read_text()
        daemon.send_signal(signal.SIGTERM)
        started = time.monotonic()
        assert daemon.wait(10) == 0, log_path.read_text()
        stop_s = time.monotonic() - started
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    assert stop_s < 5
    with sqlite3.connect(tmp_path / "outbox.sqlite3") as db:
        total, pending = db.execute("SELECT count(*), count(*) FILTER (WHERE state = 'pending') FROM envelopes").fetchone()
    assert total < 10_000 and pending == 0  # stopped mid-stream, and the LIMS got everything committed
    assert lims.seqs(GATEWAY_ID) == list(range(1, total + 1))
    final = json.loads(status_path(tmp_path / "outbox.sqlite3").read_text())
    assert final["uplink"]["state"] == "stopped" and {i["state"] for i in final["instruments"]} == {"offline"}
