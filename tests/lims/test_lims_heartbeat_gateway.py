"""The gateway daemon's heartbeats reach a real LIMS (uvicorn on a free port) and verify there."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from gateway.config import parse_config
from gateway.daemon import Gateway
from gateway.heartbeat import start_heartbeats
from protocols.wire.heartbeat import build_heartbeat
from gateway.keys import generate_key_file, public_key_b64url
from tests.browser.lims_server import live_lims

from .pages_seed import MARKET_A


def _config(folder: Path, url: str, **lims: Any) -> Any:
    data = {
        "gateway": {"id": "gw-yz-market-07", "key_file": "gateway.key", "outbox": "outbox.sqlite3",
                    "operator": "tech-001", "status_interval_s": 0.1},
        "site": MARKET_A,
        "lims": {"url": url, **lims},
        "room_page": {"enabled": False},
        "instruments": [{"id": "ei-01", "driver": "enzyme_inhibition", "enabled": False,
                         "calibration_due": "2027-03-01", "options": {"port": "/dev/null"}}],
    }
    return parse_config(data, source=folder / "gateway.toml")


def _stored(url: str) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT document, received_at FROM gateway_heartbeats")).all())
    finally:
        engine.dispose()


async def _run_until(gateway: Gateway, condition: Any, timeout: float) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(gateway.run(stop))
    deadline = time.monotonic() + timeout
    try:
        while not await asyncio.to_thread(condition):
            assert time.monotonic() < deadline, "no heartbeat stored in time"
            assert not task.done(), task.exception()
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


def test_daemon_posts_signed_heartbeats_every_interval(tmp_path: Path) -> None:
    key = generate_key_file(tmp_path / "gateway.key")
    (tmp_path / "lims").mkdir()
    with live_lims(tmp_path / "lims") as lims:
        enrol = {"gateway": "gw-yz-market-07", "site": MARKET_A, "public_key": public_key_b64url(key)}
        assert lims.client.post("/api/v1/gateways", json=enrol, headers=lims.admin).status_code == 201
        config = _config(tmp_path, lims.url, heartbeat_s=0.2)
        url = lims.settings.resolved_database_url()
        seen: list[str] = []

        def two_beats() -> bool:
            rows = _stored(url)
            if rows and (not seen or seen[-1] != rows[0][1]):
                seen.append(rows[0][1])
            return len(seen) >= 2

        asyncio.run(_run_until(Gateway(config), two_beats, timeout=10))
        document = json.loads(_stored(url)[0][0])
    assert document["gateway"] == "gw-yz-market-07" and document["interval_s"] == 0.2
    assert document["status"]["instruments"] == [
        {"id": "ei-01", "state": "offline", "last_result_at": None, "last_error": "disabled in the config",
         "calibration_due": "2027-03-01"}]
    assert document["status"]["backlog"] == 0 and document["status"]["last_seq"] == 0
    assert set(document) == {"gateway", "kid", "site", "sent_at", "interval_s", "status", "sig"}
    assert document["site"] == MARKET_A["id"]  # the configured site, checked by the LIMS against the enrolment


def test_document_is_built_from_the_health_snapshot() -> None:
    snapshot = {"gateway": "gw-1", "instruments": [{"id": "ei-01", "driver": "x", "state": "error", "results": 4,
                                                    "last_result_at": "2026-01-01T08:00:00.000+08:00",
                                                    "last_error": "OSError: gone", "clock_skew_s": 0.1}],
                "uplink": {"last_upload_at": "2026-01-01T08:00:01.000+08:00"},
                "backlog": {"pending": 7, "delivered": 3, "rejected": 0, "last_seq": 10, "last_delivered_at": None}}
    from datetime import datetime, timezone

    document = build_heartbeat(snapshot, "0123456789abcdef", datetime(2026, 1, 1, tzinfo=timezone.utc), 30.0)
    assert document["status"] == {
        "instruments": [{"id": "ei-01", "state": "error", "last_result_at": "2026-01-01T08:00:00.000+08:00",
                         "last_error": "OSError: gone", "calibration_due": None}],
        "backlog": 7, "last_seq": 10, "last_upload_at": "2026-01-01T08:00:01.000+08:00"}
    assert document["sent_at"] == "2026-01-01T00:00:00.000+00:00"


def test_no_heartbeats_over_mqtt_or_when_turned_off(tmp_path: Path) -> None:
    key = generate_key_file(tmp_path / "gateway.key")
    off = _config(tmp_path, "http://127.0.0.1:9", heartbeat_s=0)
    mqtt = parse_config({**off.to_data(), "lims": {"transport": "mqtt"},
                         "mqtt": {"host": "127.0.0.1"}}, source=tmp_path / "gateway.toml")

    async def started(config: Any) -> object:
        return start_heartbeats(config, key, dict, lambda: None, asyncio.Event())  # type: ignore[arg-type,return-value]

    assert asyncio.run(started(off)) is None
    assert asyncio.run(started(mqtt)) is None
