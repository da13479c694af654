"""SIGTERM to ``kuaijian sim …`` or ``kuaijian lims …`` stops the real process: the command becomes it
(same PID), so nothing is left running, re-parented to PID 1."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

KUAIJIAN = str(Path(sys.executable).with_name("kuaijian"))


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def _processes_naming(marker: str) -> list[int]:
    """PIDs of every process whose command line names ``marker`` (a path unique to the test)."""
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and marker in _cmdline(int(p.name))]


def _terminate(process: subprocess.Popen[str], marker: str) -> int:
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=15)
    deadline = time.monotonic() + 5  # the kernel reaps an exited child's /proc entry at once; bounded anyway
    while _processes_naming(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_naming(marker) == [], "a process of the command outlived SIGTERM"
    return code


def test_sigterm_stops_the_simulator_itself(tmp_path):
    link = str(tmp_path / "q8.tty")
    process = subprocess.Popen([KUAIJIAN, "sim", "astm", "--link", link, "--interval", "60"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("READY ")
        cmdline = _cmdline(process.pid)
        assert cmdline[1:4] == ["-m", "firmware_sim", "astm"], cmdline  # the simulator runs under our PID
        assert _processes_naming(link) == [process.pid]
        assert _terminate(process, link) == 0
    finally:
        process.kill()
        process.wait(5)
    assert not Path(link).exists()  # it cleaned up its pty symlink: it got the signal, not a parent


def test_sigterm_stops_the_lims_server_itself(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data_dir = str(tmp_path / "lims-data")
    process = subprocess.Popen([KUAIJIAN, "lims", "serve", "--host", "127.0.0.1", "--port", str(port),
                                "--data-dir", data_dir], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the LIMS never answered"
            time.sleep(0.1)
        assert _cmdline(process.pid)[1:4] == ["-m", "lims_api", "serve"]
        code = _terminate(process, data_dir)
        _, stderr = process.communicate(timeout=5)
        assert "Finished server process" in stderr, stderr  # uvicorn's graceful shutdown ran
        assert code == -signal.SIGTERM  # uvicorn re-raises the signal once it has shut down
    finally:
        process.kill()
        process.wait(5)
