"""An analyzer that is missing or unplugged shows offline with its reason everywhere people look.

Real gateway daemon, real LIMS (uvicorn), an enzyme analyzer whose device path does not exist,
then a simulator on that path, then the simulator stopped: ``gateway status --json``, the room
page, the heartbeat stored by the LIMS and the regulator console all say offline and why, and the
driver logs one line per change however many times it retries.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from firmware_sim.enzyme import EnzymeSimulator
from kuaijian.cli_gateway import gateway_app
from gateway.config import load_config
from gateway.daemon import Gateway
from gateway.keys import generate_key_file, public_key_b64url
from tests.browser.lims_server import live_lims

from .conftest import Lims
from .pages_seed import MARKET_A, seed_places
from .test_lims_heartbeat_api import STATUS, beat, post

ABSENT = "cannot open"


def _write_config(folder: Path, url: str, port: Path) -> Path:
    import tomli_w

    data = {
        "gateway": {"id": "gw-yz-market-07", "key_file": "gateway.key", "outbox": "outbox.sqlite3",
                    "operator": "tech-001", "status_interval_s": 0.05},
        "site": MARKET_A,
        "lims": {"url": url, "heartbeat_s": 0.2, "retry_min_s": 0.02, "retry_max_s": 0.2},
        "room_page": {"port": 0},
        "instruments": [{"id": "ei-01", "driver": "enzyme_inhibition",
                         "options": {"port": str(port), "reconnect_s": 0.02, "reconnect_max_s": 0.1}}],
    }
    path = folder / "gateway.toml"
    path.write_text(tomli_w.dumps(data), "utf-8")
    return path


def _status(config: Path) -> dict[str, Any]:
    shown = CliRunner().invoke(gateway_app, ["status", "--config", str(config), "--json"])
    assert shown.exit_code in (0, 1), shown.output
    # Before the daemon's first status file the list is empty.
    instruments = json.loads(shown.output)["instruments"] if shown.output.strip().startswith("{") else []
    return instruments[0] if instruments else {}


def _beat(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT document FROM gateway_heartbeats")).all()
    finally:
        engine.dispose()
    return json.loads(rows[0][0])["status"]["instruments"][0] if rows else {}


async def _until(condition: Any, task: asyncio.Task[None], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(condition):
        assert not task.done(), task.exception()
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


def _link_events(caplog: Any) -> list[str]:
    return [r.event for r in caplog.records if r.name.startswith("drivers.enzyme_inhibition")
            and getattr(r, "event", "").startswith("port_")]


def test_missing_then_plugged_then_unplugged_analyzer(tmp_path: Path, caplog: Any) -> None:
    caplog.set_level(logging.INFO, "drivers.enzyme_inhibition")
    device = tmp_path / "ttyUSB0"
    key = generate_key_file(tmp_path / "gateway.key")
    (tmp_path / "lims").mkdir()
    with live_lims(tmp_path / "lims") as lims:
        enrol = {"gateway": "gw-yz-market-07", "site": MARKET_A, "public_key": public_key_b64url(key)}
        assert lims.client.post("/api/v1/gateways", json=enrol, headers=lims.admin).status_code == 201
        config = _write_config(tmp_path, lims.url, device)
        db = lims.settings.resolved_database_url()
        gateway = Gateway(load_config(config))

        async def scenario() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(gateway.run(stop))
            try:
                await _until(lambda: _status(config).get("failed_attempts", 0) >= 10, task, "no retries counted")
                entry = _status(config)
                assert entry["state"] == "offline" and ABSENT in entry["last_error"] and str(device) in entry["last_error"]
                assert "No such file" in entry["last_error"]
                await _until(lambda: ABSENT in (_beat(db).get("last_error") or ""), task, "no offline heartbeat")
                assert _beat(db)["state"] == "offline"
                room = (await asyncio.to_thread(httpx.get, f"http://127.0.0.1:{gateway.room_port}/", timeout=5)).text
                assert "离线" in room and f"{ABSENT} {device}" in room
                assert _link_events(caplog) == ["port_open_failed"]

                with EnzymeSimulator(device, seed=3, channels=2):
                    await _until(lambda: _status(config).get("state") == "online", task, "never online")
                    assert _status(config)["last_error"] is None and _status(config)["failed_attempts"] == 0
                    await _until(lambda: _beat(db).get("state") == "online", task, "no online heartbeat")
                await _until(lambda: _status(config).get("state") == "offline", task, "unplug not seen")
                await _until(lambda: _status(config).get("failed_attempts", 0) >= 10, task, "no retries after unplug")
                assert ABSENT in _status(config)["last_error"]
                await _until(lambda: _beat(db).get("state") == "offline", task, "no offline heartbeat after unplug")
            finally:
                stop.set()
                await asyncio.wait_for(task, 10)

        asyncio.run(scenario())
    assert _link_events(caplog) == ["port_open_failed", "port_opened", "port_lost"]


def test_console_shows_an_offline_instrument_with_its_reason(lims: Lims) -> None:
    a, *_ = seed_places(lims)
    regulator = lims.user("reg-yz", "regulator", district="yz")
    reason = "cannot open /dev/ttyUSB0: [Errno 2] No such file or directory: '/dev/ttyUSB0'"
    status = {**STATUS, "instruments": [{"id": "ei-01", "state": "offline", "last_result_at": None,
                                         "last_error": reason}]}
    assert post(lims, a.gateway, beat(a, status=status)).status_code == 200
    page = lims.client.get("/console", headers=regulator).text
    row = page[page.index(f'id="gw-{a.gateway}"'):]
    row = row[:row.index("</tr>")]
    assert "ei-01" in row and "离线" in row
    assert "cannot open /dev/ttyUSB0: [Errno 2] No such file or directory" in row
