"""The outbox's filesystem fills up (a small tmpfs): the gateway stops acknowledging the instrument, says why in
its log and status, and recovers without loss once space is back."""

from __future__ import annotations

import errno
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kuaijian.demo import free_port, start_gateway, stored_count

from ..crash.chaos import wait_until
from .harness import acked_through, final_count, gateway_config, gold_reader, outbox_of, wait_drained

pytestmark = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.timeout(300)]

RESULTS, SIZE = 200, "16m"


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs for the outbox (we run as root in CI); skipped, with the reason, where it cannot be mounted."""
    folder = tmp_path / "small-fs"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(folder)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs for the outbox here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def fill(folder: Path) -> Path:
    """Write a file until the filesystem is full (ENOSPC); returns it."""
    filler = folder / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as handle:
        for _ in range(4096):  # 256 MiB at most; the tmpfs is far smaller
            try:
                handle.write(chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                return filler
    raise AssertionError("the filesystem never filled up")


def _status(port: int) -> dict:
    return httpx.get(f"http://127.0.0.1:{port}/status", timeout=5).json()


def test_outbox_filesystem_full_stops_acks_says_why_and_recovers(tmp_path, logs, lims_process, small_fs):
    reader = gold_reader(logs)
    sim = reader.start(RESULTS, interval_s=0.05)
    status_port = free_port()

    def on_small_fs(config: dict) -> None:
        config["gateway"].update(outbox=str(small_fs / "outbox.sqlite3"), status_port=status_port)

    config = gateway_config(tmp_path, lims_process, [reader.entry()], on_small_fs)
    outbox = outbox_of(config)
    gateway = start_gateway(config, logs)
    try:
        alive = lambda: [gateway]  # noqa: E731
        wait_until(lambda: stored_count(lims_process.lims) >= 20, 60, "the first results", alive=alive)
        filler = fill(small_fs)
        log = gateway.log_path
        wait_until(lambda: "outbox cannot store results" in log.read_text(), 60, "the outbox error in the log",
                   alive=alive)
        status = _status(status_port)
        assert status["outbox"]["state"] == "failing" and "full" in status["outbox"]["error"], status["outbox"]

        def retries_of_one_reading() -> bool:  # the reading presented is tried again and again, never acked
            keys = re.findall(r"could not build or commit result (\S+)", log.read_text())
            return len(keys) >= 3 and len(set(keys[-3:])) == 1
        wait_until(retries_of_one_reading, 60, "the same reading to be retried unacked", alive=alive)
        stuck = re.findall(r"could not build or commit result \S+:(\d+)", log.read_text())[-1]
        assert not acked_through(sim, int(stuck)), f"reading {stuck} was acked although it was not stored"

        filler.unlink()
        wait_until(lambda: "outbox stores results again" in log.read_text(), 60, "the outbox to recover",
                   alive=alive)
        wait_until(lambda: acked_through(sim, RESULTS), 120, "the reader's last result", alive=alive)
        wait_drained(lims_process, outbox, alive)
        assert _status(status_port)["outbox"] == {"state": "ok", "error": None}
    finally:
        gateway.stop()
        sim.stop()
    assert gateway.process.returncode == 0
    print(f"\noutbox filesystem full: reading {stuck} retried unacked until space returned")
    final_count(lims_process, tmp_path / "bundle", RESULTS)
