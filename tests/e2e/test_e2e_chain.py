"""The whole chain as real processes: pty simulator → gateway → HTTP LIMS → bundle → verify.

The gateway is SIGKILLed several times mid-stream and restarted; afterwards the
LIMS must hold every result the simulator produced exactly once, seq contiguous.
"""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from kuaijian.audit import verify_path
from kuaijian.demo import GATEWAY_ID, SITE, Lims, prepare_gateway, start_gateway, start_lims, stored_count
from kuaijian.procs import Child, python_module, start
from protocols.enzyme.replay import reading_from_raw

RUNS, CHANNELS, KILLS = 25, 4, 3


def wait_until(predicate, timeout: float, what: str, children: list[Child]) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        for child in children:
            assert child.process.poll() is None or child.name.startswith("sim"), f"{child.name} died: {child.log_path}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def truth_keys(path: Path) -> list[tuple[str, int, int]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [(row["serial"], int(row["run"]), int(row["channel"])) for row in rows]


@pytest.fixture
def lims(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    server = start_lims(tmp_path, 0, logs)
    yield server
    server.child.stop()


def test_chain_survives_gateway_kills(tmp_path, lims: Lims):
    logs, truth, link = tmp_path / "logs", tmp_path / "truth.jsonl", tmp_path / "ttyEI"
    sim = start("sim-enzyme", python_module(
        "firmware_sim", "enzyme", "--link", str(link), "--runs", str(RUNS), "--channels", str(CHANNELS),
        "--interval", "0.4", "--seed", "11", "--ack-timeout", "1.0", "--truth", str(truth), "--linger", "60",
    ), logs, ready_prefix="READY")
    config = prepare_gateway(tmp_path, lims, [{"id": "ei-01", "driver": "enzyme_inhibition",
                                               "options": {"port": str(link)}}])
    rng = random.Random(5)
    gateway = start_gateway(config, logs)
    try:
        for kill in range(KILLS):
            # Ingest stores a request's batch at once: aim a few results ahead, never past the stream's end.
            target = min(stored_count(lims) + rng.randint(3, 12), RUNS * CHANNELS)
            wait_until(lambda: stored_count(lims) >= target, 60, f"{target} results before kill {kill}",
                       [gateway, lims.child])
            os.kill(gateway.process.pid, signal.SIGKILL)
            gateway.process.wait()
            gateway = start_gateway(config, logs)
        wait_until(lambda: sim.process.poll() is not None, 120, "the simulator to see every result acked",
                   [gateway, lims.child, sim])
        assert sim.process.returncode == 0, sim.log_path.read_text()
        expected = truth_keys(truth)
        wait_until(lambda: stored_count(lims) >= len(expected), 60, "the LIMS to store every result",
                   [gateway, lims.child])
    finally:
        gateway.stop()
        sim.stop()

    assert len(expected) == RUNS * CHANNELS
    stored = httpx.get(f"{lims.url}/api/v1/results", params={"site": SITE["id"], "limit": 1000},
                       headers={"Authorization": f"Bearer {lims.admin_token}"}, timeout=10)
    results = stored.json()["results"]
    source_keys = [reading_from_raw(base64.b64decode(r["result"]["raw"]["data"])).source_key for r in results]
    assert sorted(source_keys) == sorted(f"{s}:{r}:{c}" for s, r, c in expected), "lost or duplicated results"
    assert sorted(r["seq"] for r in results) == list(range(1, len(expected) + 1)), "seq not contiguous"

    bundle = tmp_path / "bundle"
    subprocess.run(python_module("lims_api", "export", "--db", lims.db_url, "--out", str(bundle)),
                   check=True, capture_output=True)
    report = verify_path(bundle)
    assert report.ok, report.faults
    assert report.gateways == {GATEWAY_ID: len(expected)}
