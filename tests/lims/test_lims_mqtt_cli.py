"""``python -m lims_api mqtt-bridge`` as a process: persistent session across bridge restarts, clean signal exits."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from lims_api.__main__ import main

from .test_lims_mqtt_bridge import AckCollector, Mosquitto, broker, publish, run, sealed, stored_seqs

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway

__all__ = ["broker"]  # the fixture, re-used from the bridge tests

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "kuaijian-lims-bridge-cli-test"


class BridgeProcess:
    """The bridge command in a subprocess; ``start`` returns once it logged its subscription."""

    def __init__(self, db_url: str, port: int, cwd: Path) -> None:
        self.command = [sys.executable, "-m", "lims_api", "mqtt-bridge", "--db", db_url, "--host", "127.0.0.1",
                        "--port", str(port), "--prefix", "kuaijian/v1", "--client-id", CLIENT_ID]
        self.cwd = cwd
        self.log: list[str] = []
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        subscribed = threading.Event()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        process = subprocess.Popen(self.command, cwd=self.cwd, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
        self.process = process

        def read_log() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                self.log.append(line.rstrip())
                if "subscribed to kuaijian/v1/+/envelopes" in line:
                    subscribed.set()
            subscribed.set()

        threading.Thread(target=read_log, daemon=True).start()
        if not subscribed.wait(20) or process.poll() is not None:
            self.stop(signal.SIGKILL)
            raise AssertionError("bridge did not subscribe:\n" + "\n".join(self.log))

    def stop(self, signum: int) -> int:
        """Send ``signum`` and return the exit status."""
        assert self.process is not None
        self.process.send_signal(signum)
        return self.process.wait(15)


def test_bridge_process_keeps_its_session_and_exits_0_on_sigterm_and_sigint(
    lims: Lims, gateway: SigningGateway, broker: Mosquitto, tmp_path: Path
) -> None:
    lims.enrol(gateway)
    first, second, third = (sealed(gateway, gateway.next())[0] for _ in range(3))
    bridge = BridgeProcess(lims.url, broker.port, tmp_path)

    async def scenario() -> list[dict[str, Any]]:
        async with AckCollector(broker.port).running() as acks:
            await asyncio.to_thread(bridge.start)
            await publish(broker.port, first)
            await acks.wait_count(1)
            assert await asyncio.to_thread(bridge.stop, signal.SIGTERM) == 0
            await publish(broker.port, second, third)  # queued in the bridge's persistent session
            await asyncio.to_thread(bridge.start)
            entries = await acks.wait_count(3)
            assert await asyncio.to_thread(bridge.stop, signal.SIGINT) == 0
            return entries

    entries = run(scenario)
    assert [(e["seq"], e["status"]) for e in entries] == [(1, "stored"), (2, "stored"), (3, "stored")]
    assert stored_seqs(lims, gateway.gateway) == [1, 2, 3]
    assert sum("MQTT bridge stopped" in line for line in bridge.log) == 2, bridge.log


@pytest.mark.parametrize("prefix", ["kuaijian/#", "kuaijian/v1/", ""])
def test_wildcard_or_empty_prefix_is_refused_with_a_clear_error(
    prefix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["mqtt-bridge", "--db", f"sqlite:///{tmp_path / 'x.sqlite3'}", "--prefix", prefix])
    assert status == 2
    assert f"MQTT topic prefix {prefix!r}" in capsys.readouterr().err
