"""The room page over real HTTP, served by a running Gateway: page, label form, live events, config."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from gateway.config import load_config
from gateway.daemon import Gateway
from gateway.errors import ConfigError

from .conftest import async_wait_until, config_data, write_config

LABEL = {"instrument": "ei-01", "channel": "any", "name": "菠菜", "category": "vegetable", "operator": "tech-li",
         "stall": "A-12", "barcode": "6901234567892", "kit_lot": "EI-2411", "kit_expiry": "2099-12-31"}


def room_config(tmp_path: Path, lims_url: str, count: int, **room: object) -> Path:
    data = config_data(lims_url, [{"id": "ei-01", "driver": "counting", "options": {
        "count": count, "ack_file": str(tmp_path / "instrument.ack"), "interval_s": 0.3}}])
    data["room_page"] = {"port": 0, **room}
    return write_config(tmp_path, data)


@asynccontextmanager
async def running(path: Path) -> AsyncIterator[tuple[Gateway, httpx.AsyncClient]]:
    """A Gateway running in this loop, and an HTTP client on its room page."""
    stop = asyncio.Event()
    gateway = Gateway(load_config(path), restart_delay_s=0.05)
    task = asyncio.create_task(gateway.run(stop))
    assert await async_wait_until(lambda: gateway.room_port is not None or task.done(), 10)
    assert not task.done(), task.exception()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway.room_port}", timeout=5) as client:
        try:
            yield gateway, client
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)


async def next_events(client: httpx.AsyncClient, want: Callable[[list[dict]], bool], after: int = 0) -> list[dict]:
    """Read the event stream until ``want(events)`` holds (10 s at most)."""
    events: list[dict] = []
    async with client.stream("GET", f"/events?after={after}") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.aiter_lines()

        async def collect() -> None:
            current: dict = {}
            async for line in lines:
                if not line:
                    if "event" in current:
                        events.append(current)
                        if want(events):
                            return
                    current = {}
                elif ":" in line:
                    key, _, value = line.partition(": ")
                    current[key] = json.loads(value) if key == "data" else value
        await asyncio.wait_for(collect(), 10)
    return events


def results_of(events: list[dict]) -> list[dict]:
    return [event["data"] for event in events if event["event"] == "result"]


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(scenario())


def test_page_lists_the_instrument_and_queues_a_label_that_binds_the_next_result(tmp_path, key_path, lims,
                                                                                  counting_driver):
    async def scenario() -> None:
        async with running(room_config(tmp_path, lims.url, 5)) as (gateway, client):
            page = await client.get("/")
            assert page.status_code == 200 and '<html lang="zh-CN">' in page.text
            assert "ei-01" in page.text and "标记下一个样品" in page.text
            assert (await client.get("/static/room.css")).status_code == 200
            before = (await next_events(client, lambda ev: len(results_of(ev)) >= 1))
            posted = await client.post("/labels", data=LABEL)
            assert posted.status_code == 303 and "queued=1" in posted.headers["location"]
            assert "菠菜" in (await client.get(posted.headers["location"])).text
            last = results_of(before)[-1]["seq"]
            later = results_of(await next_events(client, lambda ev: any("菠菜" in r["html"] for r in results_of(ev)),
                                                 after=last))
            assert all("未标记" in r["html"] for r in later[:-1])  # stored before the label was queued
            assert "菠菜" in later[-1]["html"] and "未标记" not in later[-1]["html"]
            assert "未标记" in results_of(before)[0]["html"]
        envelope = lims.envelopes[("gw-test-01", later[-1]["seq"])]["result"]
        assert (envelope["sample"]["name"], envelope["operator"], envelope["kit"]) == (
            "菠菜", "tech-li", {"lot": "EI-2411", "expiry": "2099-12-31"})
        names = [env["result"]["sample"]["name"] for env in lims.envelopes.values()]
        assert names.count("菠菜") == 1

    run(scenario)


def test_half_form_is_refused_with_field_errors_and_nothing_is_queued(tmp_path, key_path, lims, counting_driver):
    async def scenario() -> None:
        async with running(room_config(tmp_path, lims.url, 0)) as (gateway, client):
            refused = await client.post("/labels?lang=en", data={"instrument": "ei-01", "barcode": "6901234567892"})
            assert refused.status_code == 422
            assert 'aria-invalid="true"' in refused.text and "Required" in refused.text
            assert 'value="6901234567892"' in refused.text  # what was typed is kept
            assert "Labels waiting" in refused.text and "No label waiting" in refused.text

    run(scenario)


def test_control_select_queues_a_control_and_bad_text_is_refused_naming_the_field(tmp_path, key_path, lims,
                                                                                   counting_driver):
    async def scenario() -> None:
        async with running(room_config(tmp_path, lims.url, 0)) as (gateway, client):
            page = await client.get("/")
            assert '<select id="f-control" name="control"' in page.text
            assert all(word in page.text for word in ("样品", "阴性对照", "阳性对照", "空白"))
            assert "Negative control" in (await client.get("/?lang=en")).text
            refused = await client.post("/labels?lang=en", data={**LABEL, "name": "菠\u202e菜", "stall": "A" * 33})
            assert refused.status_code == 422 and 'value="A' in refused.text
            assert "Visible text only" in refused.text and "Too long" in refused.text
            assert 'id="e-name"' in refused.text and 'id="e-stall"' in refused.text
            posted = await client.post("/labels", data={**LABEL, "control": "negative_control", "name": "阴性质控品"})
            assert posted.status_code == 303
            shown = (await client.get(posted.headers["location"])).text  # the page remembers English
            assert "阴性质控品" in shown and '<span class="badge">Negative control</span>' in shown

    run(scenario)


def test_foreign_origin_is_refused_and_a_label_can_be_withdrawn(tmp_path, key_path, lims, counting_driver):
    async def scenario() -> None:
        async with running(room_config(tmp_path, lims.url, 0)) as (gateway, client):
            foreign = await client.post("/labels", data=LABEL, headers={"Origin": "http://evil.example"})
            assert foreign.status_code == 403
            own = await client.post("/labels", data=LABEL, headers={"Origin": str(client.base_url)})
            assert own.status_code == 303
            assert "data-label-id=\"1\"" in (await client.get("/")).text
            assert (await client.post("/labels/1/cancel")).status_code == 303
            assert "data-label-id" not in (await client.get("/")).text

    run(scenario)


def test_english_switch_is_remembered(tmp_path, key_path, lims, counting_driver):
    async def scenario() -> None:
        async with running(room_config(tmp_path, lims.url, 0)) as (gateway, client):
            english = await client.get("/?lang=en")
            assert '<html lang="en">' in english.text and "Label the next sample" in english.text
            assert '<html lang="en">' in (await client.get("/")).text  # cookie kept by the client

    run(scenario)


def test_disabled_page_is_not_served_and_results_are_not_flagged(tmp_path, key_path, lims, counting_driver):
    async def scenario() -> None:
        stop = asyncio.Event()
        gateway = Gateway(load_config(room_config(tmp_path, lims.url, 2, enabled=False)), restart_delay_s=0.05)
        task = asyncio.create_task(gateway.run(stop))
        assert await async_wait_until(lambda: len(lims.stored) == 2 or task.done(), 10)
        stop.set()
        await asyncio.wait_for(task, 10)
        assert gateway.room_port is None
        assert [env["result"]["qc"]["flags"] for env in lims.envelopes.values()] == [[], []]

    run(scenario)


def test_busy_port_leaves_the_gateway_running_without_the_page(tmp_path, key_path, lims, counting_driver, caplog):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]

        async def scenario() -> None:
            stop = asyncio.Event()
            gateway = Gateway(load_config(room_config(tmp_path, lims.url, 2, port=port)), restart_delay_s=0.05)
            task = asyncio.create_task(gateway.run(stop))
            assert await async_wait_until(lambda: len(lims.stored) == 2 or task.done(), 10)
            stop.set()
            await asyncio.wait_for(task, 10)
            assert gateway.room_port is None

        run(scenario)
    assert any(r.getMessage() == "room page cannot listen; running without it" for r in caplog.records)


def test_room_page_config_defaults_and_port_clash(tmp_path):
    data = config_data("http://lims.invalid", [])
    del data["room_page"]
    config = load_config(write_config(tmp_path, data))
    assert (config.room_page.enabled, config.room_page.host, config.room_page.port) == (True, "127.0.0.1", 8780)
    data["gateway"]["status_port"] = 8780
    with pytest.raises(ConfigError, match="room_page.*8780.*status_port"):
        load_config(write_config(tmp_path, data))
    data["room_page"] = {"enabled": False}
    assert load_config(write_config(tmp_path, data)).room_page.enabled is False
    data["room_page"] = {"prot": 1}
    with pytest.raises(ConfigError, match=r"room_page\.prot: unknown key"):
        load_config(write_config(tmp_path, data))


def test_open_event_stream_ends_at_once_when_the_gateway_stops(tmp_path, key_path, lims, counting_driver):
    async def scenario() -> float:
        stop = asyncio.Event()
        gateway = Gateway(load_config(room_config(tmp_path, lims.url, 0)), restart_delay_s=0.05)
        task = asyncio.create_task(gateway.run(stop))
        assert await async_wait_until(lambda: gateway.room_port is not None or task.done(), 10)
        loop = asyncio.get_running_loop()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway.room_port}", timeout=5) as client:
            async with client.stream("GET", "/events") as response:
                lines = response.aiter_lines()
                assert await anext(lines) == "retry: 2000"
                stop.set()
                started = loop.time()
                async for _ in lines:  # the server ends the stream
                    pass
                await asyncio.wait_for(task, 10)
                return loop.time() - started

    assert asyncio.run(scenario()) < 1.5  # not uvicorn's 2 s graceful-shutdown limit
