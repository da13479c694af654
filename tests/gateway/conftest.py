"""Fixtures of the gateway tests: keys, outboxes, configs, a stand-in LIMS, results."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from drivers import registry
from gateway.keys import generate_key_file
from gateway.outbox import Outbox
from protocols.envelope import public_key_bytes
from protocols.result import Site, TestResult

from .gw_fake_driver import DRIVER_NAME, DRIVER_TARGET, make_result
from .gw_standin_lims import StandInLims

GATEWAY_ID = "gw-test-01"
SITE = Site(id="yz-market-07", kind="market", name="七星岗农贸市场")


def now() -> datetime:
    return datetime.now().astimezone()


def result(n: int) -> TestResult:
    """Reading ``n`` of instrument ``ei-01`` at the test site."""
    return make_result(SITE, "ei-01", "tech-001", n, now())


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``condition`` (cheap, local) until true or ``timeout``; for async code use ``async_wait_until``."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


async def async_wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Like ``wait_until`` but yields to the event loop between checks."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


@pytest.fixture
def serial_device() -> Iterator[str]:
    """A real pty: its slave path exists the way an analyzer's /dev/ttyUSB0 does."""
    master, slave = os.openpty()
    yield os.ttyname(slave)
    os.close(master)
    os.close(slave)


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    path = tmp_path / "gateway.key"
    generate_key_file(path)
    return path


@pytest.fixture
def private_key(key_path: Path) -> Ed25519PrivateKey:
    from gateway.keys import load_private_key

    return load_private_key(key_path)


@pytest.fixture
def outbox(tmp_path: Path, private_key: Ed25519PrivateKey) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox.sqlite3", gateway_id=GATEWAY_ID, private_key=private_key, clock=now)
    yield box
    box.close()


@pytest.fixture
def lims(private_key: Ed25519PrivateKey) -> Iterator[StandInLims]:
    """A running stand-in LIMS with this test's gateway key enrolled."""
    server = StandInLims({GATEWAY_ID: public_key_bytes(private_key.public_key())})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def counting_driver(monkeypatch: pytest.MonkeyPatch) -> str:
    """Register the in-test counting driver in drivers.registry for this test."""
    monkeypatch.setitem(registry.BUILTIN, DRIVER_NAME, DRIVER_TARGET)
    return DRIVER_NAME


def config_data(lims_url: str, instruments: list[dict[str, Any]], **lims: Any) -> dict[str, Any]:
    """A complete gateway.toml as a dict (key and outbox next to the file)."""
    return {
        "gateway": {"id": GATEWAY_ID, "key_file": "gateway.key", "outbox": "outbox.sqlite3", "operator": "tech-001"},
        "site": {"id": SITE.id, "kind": SITE.kind, "name": SITE.name},
        "lims": {"url": lims_url, "batch_size": 50, "timeout_s": 2.0, "retry_min_s": 0.02, "retry_max_s": 0.2,
                 **lims},
        "instruments": instruments,
        "room_page": {"port": 0},
    }


def write_config(folder: Path, data: dict[str, Any]) -> Path:
    path = folder / "gateway.toml"
    path.write_text(tomli_w.dumps(data), "utf-8")
    return path
