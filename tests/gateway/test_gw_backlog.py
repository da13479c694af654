"""Backlog: a long LIMS outage fills the outbox; memory stays flat and the backlog drains in batches."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from gateway.outbox import Outbox, StoredEnvelope
from gateway.uplink_http import HttpUplink
from protocols.envelope import public_key_bytes

from .conftest import GATEWAY_ID, config_data, now, result, wait_until, write_config
from .gw_standin_lims import StandInLims, free_port
from .test_gw_uplink import lims_config

ROOT = Path(__file__).resolve().parents[2]
RSS_LIMIT_KB = 80 * 1024


class RecordingOutbox(Outbox):
    """The real outbox, noting how many rows each ``pending()`` call returned."""

    sizes: list[int]

    def pending(self, limit: int, *, after_seq: int = 0) -> list[StoredEnvelope]:
        rows = super().pending(limit, after_seq=after_seq)
        self.sizes.append(len(rows))
        return rows


def test_upload_pass_reads_the_backlog_batch_by_batch(tmp_path, private_key, lims):
    box = RecordingOutbox(tmp_path / "outbox.sqlite3", gateway_id=GATEWAY_ID, private_key=private_key, clock=now)
    box.sizes = []
    for n in range(1, 1001):
        box.append(result(n), f"src:{n}")
    uplink = HttpUplink(box, lims_config(lims.url, batch_size=64))
    try:
        assert asyncio.run(uplink.upload_pass()).delivered == 1000
    finally:
        asyncio.run(uplink.aclose())
        box.close()
    assert max(box.sizes) == 64 and len(box.sizes) == 17  # 15 full batches, one of 40, one empty


def _vm(pid: int, field: str) -> int:
    """A ``/proc/PID/status`` memory field in kB (VmRSS now, VmHWM peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _committed(outbox: Path) -> int:
    if not outbox.exists():
        return 0
    try:
        with sqlite3.connect(f"{outbox.as_uri()}?mode=ro", uri=True) as db:
            return int(db.execute("SELECT coalesce(max(seq), 0) FROM envelopes").fetchone()[0])
    except sqlite3.Error:
        return 0


def _span_s(outbox: Path, column: str) -> float:
    with sqlite3.connect(f"{outbox.as_uri()}?mode=ro", uri=True) as db:
        first, last = db.execute(f"SELECT min({column}), max({column}) FROM envelopes").fetchone()
    return (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()


@pytest.mark.parametrize("total", [pytest.param(100_000, marks=pytest.mark.slow, id="100k"),
                                   pytest.param(2_000, id="2k")])
@pytest.mark.timeout(900)
def test_outage_backlog_keeps_rss_flat_then_drains(tmp_path, key_path, private_key, total, capsys):
    port = free_port()  # nothing listens here until the LIMS "comes back"
    data = config_data(f"http://127.0.0.1:{port}", [{"id": "ei-01", "driver": "counting", "options": {
        "count": total, "ack_file": str(tmp_path / "instrument.ack")}}], batch_size=500, retry_min_s=0.5,
        retry_max_s=1.0)
    data["gateway"]["status_interval_s"] = 1.0
    path = write_config(tmp_path, data)
    outbox = tmp_path / "outbox.sqlite3"
    log_path = tmp_path / "daemon.log"
    with log_path.open("ab") as log:
        daemon = subprocess.Popen([sys.executable, "-m", "tests.gateway.gw_run_daemon", str(path)], cwd=ROOT,
                                  stdout=log, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    lims = StandInLims({GATEWAY_ID: public_key_bytes(private_key.public_key())})
    lims.port = port
    try:
        assert wait_until(lambda: _committed(outbox) == total or daemon.poll() is not None, timeout=600)
        assert daemon.poll() is None, log_path.read_text()[-2000:]
        rss_full = _vm(daemon.pid, "VmRSS")
        lims.start()
        drain_started = time.monotonic()
        assert lims.wait_for(lambda s: len(s.stored) == total, timeout=600)
        drain_s = time.monotonic() - drain_started
        peak_kb = _vm(daemon.pid, "VmHWM")
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(15) == 0
    finally:
        lims.stop()
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    assert lims.seqs(GATEWAY_ID) == list(range(1, total + 1)) and lims.rejections == []
    assert max(lims.request_sizes) <= 500
    assert peak_kb < RSS_LIMIT_KB, f"peak RSS {peak_kb} kB"
    append_s = _span_s(outbox, "created_at")
    report = {"results": total, "append_per_s": round(total / append_s), "rss_full_backlog_kb": rss_full,
              "peak_rss_kb": peak_kb, "drain_per_s": round(total / drain_s),
              "drain_per_s_by_delivered_at": round(total / max(_span_s(outbox, "delivered_at"), 1e-3))}
    with capsys.disabled():
        print("\nbacklog:", json.dumps(report))
