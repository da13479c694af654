"""The board's event stream on a real uvicorn server: a stored result is announced within 2 s, both through
the in-process notifier and (for other workers) by polling the database."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
from pathlib import Path

import httpx
import pytest

from lims_api.core.notifier import ChangeNotifier
from tests.browser.lims_server import LiveLims, live_lims

from .pages_seed import MARKET_A, MARKET_B, result, seed_places


def _events(client: httpx.Client, site: str, since: int, out: queue.Queue[dict[str, str]]) -> None:
    """Read the stream in a thread, putting each event's fields in ``out``; hang up after the first change."""
    with client, client.stream("GET", f"/board/{site}/events", params={"since": since}) as response:
        out.put({"status": str(response.status_code), "type": response.headers["content-type"]})
        fields: dict[str, str] = {}
        for line in response.iter_lines():
            if line:
                key, _, value = line.partition(": ")
                fields[key] = value
                continue
            out.put(fields)
            if fields.get("event") == "change":
                return
            fields = {}


def _next_change(out: queue.Queue[dict[str, str]], timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        event = out.get(timeout=max(0.01, deadline - time.monotonic()))
        if event.get("event") == "change":
            return event


@pytest.mark.parametrize("poll_s", [60.0, 0.3], ids=["notifier", "db-poll"])
def test_stored_result_is_announced_within_2_s(tmp_path: Path, poll_s: float) -> None:
    with live_lims(tmp_path, board_poll_s=poll_s) as lims:
        a, b, _ = seed_places(lims)
        token = lims.user("manager-a", "manager", sites=(MARKET_A["id"],))
        out: queue.Queue[dict[str, str]] = queue.Queue()
        reader = httpx.Client(base_url=lims.url, timeout=httpx.Timeout(10, read=None), cookies={"kj_session": token})
        thread = threading.Thread(target=_events, args=(reader, MARKET_A["id"], 0, out), daemon=True)
        thread.start()
        head = out.get(timeout=5)
        assert head == {"status": "200", "type": "text/event-stream; charset=utf-8"}
        assert out.get(timeout=5) == {"retry": "1000"}
        lims.ingest(b.next(**result("土豆", "C-1", "negative")))  # another market: no event for A
        time.sleep(0.5 if poll_s < 1 else 0.2)  # let a poll pass: the assertion below must see nothing
        assert out.empty()
        started = time.monotonic()
        if poll_s > 1:  # notifier mode: wake only from ingest in this process
            lims.ingest(a.next(**result("菠菜", "A-1", "negative")))
        else:  # db-poll mode: store behind the server's back, as another worker would
            _store_directly(lims, a)
        change = _next_change(out, timeout=2.0)
        elapsed = time.monotonic() - started
        data = json.loads(change["data"])
        assert data["last_id"] > 0 and change["id"].startswith(f"{data['last_id']}:")
        print(f"\nboard event after {elapsed * 1000:.0f} ms ({'notifier' if poll_s > 1 else 'db poll'})")
        assert elapsed < 2.0
        thread.join(5)


def _store_directly(lims: LiveLims, gateway) -> None:  # type: ignore[no-untyped-def]
    """Store an envelope with a second app instance (another "worker") sharing the database."""
    from fastapi.testclient import TestClient

    from lims_api import create_app
    from tests.lims.conftest import ndjson

    with TestClient(create_app(lims.settings)) as other:
        body = ndjson(gateway.next(**result("菠菜", "A-1", "negative")))
        answer = other.post("/api/v1/ingest", content=body, headers={"Content-Type": "application/x-ndjson"})
        assert answer.json()["results"][0]["status"] == "stored"


def test_stream_of_another_market_is_404(tmp_path: Path) -> None:
    with live_lims(tmp_path) as lims:
        seed_places(lims)
        token = lims.user("manager-a", "manager", sites=(MARKET_A["id"],))
        lims.client.cookies.set("kj_session", token)
        response = lims.client.get(f"/board/{MARKET_B['id']}/events")
        assert response.status_code == 404 and MARKET_B["name"] not in response.text


def test_notifier_wakes_subscribers_from_another_thread() -> None:
    notifier = ChangeNotifier()

    async def wait_for_publish() -> None:
        with notifier.subscribe() as woken:
            assert notifier.subscribers == 1
            threading.Thread(target=notifier.publish).start()
            await asyncio.wait_for(woken.wait(), timeout=2)

    asyncio.run(wait_for_publish())
    assert notifier.subscribers == 0
    notifier.publish()  # nobody listening: nothing happens
