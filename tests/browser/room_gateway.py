"""A real gateway daemon (subprocess) reading the simulated enzyme analyzer over a pty, with its room page."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import tomli_w
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.keys import generate_key_file, load_private_key
from gateway.label_store import LabelBook
from gateway.labels import SampleLabel
from gateway.outbox import Outbox

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class RoomGateway:
    """The running pair: ``url`` of the room page, the outbox file and the log folder."""

    url: str
    outbox: Path
    folder: Path


def _now() -> datetime:
    return datetime.now().astimezone()


def _wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def _room_url(status_file: Path) -> str | None:
    try:
        return json.loads(status_file.read_text("utf-8")).get("room_page")
    except (OSError, ValueError):
        return None


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextmanager
def room_gateway(folder: Path, *, channels: int = 2, interval_s: float = 2.0, seed: int = 7, runs: int = 0,
                 labels: Sequence[SampleLabel] = (), lims_url: str = "http://127.0.0.1:9",
                 room_page: dict[str, object] | None = None,
                 on_key: Callable[[Ed25519PrivateKey], None] = lambda key: None) -> Iterator[RoomGateway]:
    """Start ``firmware_sim enzyme`` and ``kuaijian gateway run`` on it; stop both (SIGTERM) afterwards.

    ``labels`` are queued in the outbox before anything starts, as if typed on the page earlier;
    ``on_key`` gets the gateway's new key before the daemon starts (to enrol it at ``lims_url``);
    ``room_page`` adds keys to the ``[room_page]`` table; ``runs`` > 0 stops the simulator's runs there
    (its port stays open).
    """
    link = folder / "ttyEI01"
    generate_key_file(folder / "gateway.key")
    on_key(load_private_key(folder / "gateway.key"))
    if labels:
        outbox = Outbox(folder / "outbox.sqlite3", gateway_id="gw-room-01",
                        private_key=load_private_key(folder / "gateway.key"), clock=_now)
        for label in labels:
            LabelBook(outbox, _now).queue(label)
        outbox.close()
    config = {
        "gateway": {"id": "gw-room-01", "key_file": "gateway.key", "outbox": "outbox.sqlite3",
                    "operator": "tech-001", "status_interval_s": 0.2},
        "site": {"id": "yz-market-07", "kind": "market", "name": "七星岗农贸市场"},
        "lims": {"url": lims_url, "retry_min_s": 5.0, "retry_max_s": 60.0},
        "room_page": {"port": 0, **(room_page or {})},
        "instruments": [{"id": "ei-01", "driver": "enzyme_inhibition", "options": {"port": str(link)}}],
    }
    (folder / "gateway.toml").write_text(tomli_w.dumps(config), "utf-8")
    simulator_log, daemon_log = (folder / "simulator.log").open("ab"), (folder / "daemon.log").open("ab")
    simulator = subprocess.Popen(
        [sys.executable, "-m", "firmware_sim", "enzyme", "--link", str(link), "--interval", str(interval_s),
         "--channels", str(channels), "--seed", str(seed), "--runs", str(runs), "--hold"], cwd=ROOT, stdout=simulator_log, stderr=simulator_log)
    daemon = None
    try:
        _wait_for(link.exists, 10, "the simulator's pty")
        daemon = subprocess.Popen([sys.executable, "-m", "kuaijian.cli", "gateway", "run", "--config",
                                   str(folder / "gateway.toml")], cwd=ROOT, stdout=daemon_log, stderr=daemon_log)
        status = folder / "outbox.sqlite3.status.json"
        _wait_for(lambda: _room_url(status) is not None or daemon.poll() is not None, 15, "the room page")
        url = _room_url(status)
        if url is None:
            raise RuntimeError(f"gateway exited: {(folder / 'daemon.log').read_text()[-2000:]}")
        yield RoomGateway(url=url, outbox=folder / "outbox.sqlite3", folder=folder)
    finally:
        if daemon is not None:
            _stop(daemon)
        _stop(simulator)
        simulator_log.close()
        daemon_log.close()
