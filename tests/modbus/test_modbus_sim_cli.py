"""The simulator CLI as a real process: prints READY, serves a driver, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from drivers.modbus_profile import ModbusProfileDriver
from firmware_sim.gold.cli import main

from modbus_support import CollectingSink, gateway_context, running_driver

ROOT = Path(__file__).parents[2]


def _spawn(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "firmware_sim.gold.cli", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until READY (or EOF if it died)
    assert line.startswith("READY "), (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc, line.split(" ", 1)[1].strip()


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


@pytest.mark.parametrize("transport", ["tcp", "rtu"])
def test_cli_serves_results_to_the_driver(transport, tmp_path):
    where = ["--tcp", "127.0.0.1:0"] if transport == "tcp" else ["--rtu-link", str(tmp_path / "cg8.tty")]
    proc, address = _spawn("--profile", "huaxin-cg8", *where, "--results", "3", "--interval", "0", "--seed", "9")
    try:
        if transport == "tcp":
            host, port = address.rsplit(":", 1)
            link = {"transport": "tcp", "host": host, "port": int(port)}
        else:
            assert Path(address).is_symlink()
            link = {"transport": "rtu", "port": address}
        options = {"profile": "huaxin-cg8", "poll_interval_s": 0.02, "timeout_s": 0.5, "reconnect_s": 0.05, **link}
        sink = CollectingSink()

        async def scenario() -> None:
            async with running_driver(ModbusProfileDriver(options, gateway_context()), sink):
                await sink.wait_for(lambda: len(sink.stored) == 3)

        asyncio.run(scenario())
        assert sorted(k.rsplit(":", 1)[1] for k in sink.stored) == ["1", "2", "3"]
    finally:
        _stop(proc)
    if transport == "rtu":
        assert not Path(address).exists()


def test_cli_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--tcp", "nohostport"])
    assert info.value.code == 2
    with pytest.raises(SystemExit):
        main(["--tcp", "127.0.0.1:0", "--faults", "gremlins"])
    assert "unknown fault(s) ['gremlins']" in capsys.readouterr().err
    assert main(["--tcp", "127.0.0.1:0", "--profile", "/nonexistent.toml"]) == 2
