"""Proxies and privacy: forwarded addresses trusted only from configured proxies, a keyed client hash,
public text normalised and bounded."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn

from lims_api import create_app
from lims_api.__main__ import uvicorn_options
from protocols.text import public_line, public_lines

from .test_lims_mqtt_bridge import free_port

if TYPE_CHECKING:
    from lims_api import LimsSettings

    from .conftest import Lims, SigningGateway


@contextmanager
def served(settings: LimsSettings) -> Iterator[str]:
    """The app under a real uvicorn with the options ``kuaijian lims serve`` uses."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           **uvicorn_options(settings)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _submit(url: str, site: str, forwarded: str) -> int:
    return httpx.post(f"{url}/api/v1/public/requests", json={"product": "韭菜", "site_id": site},
                      headers={"X-Forwarded-For": forwarded}).status_code


def test_forwarded_for_from_an_untrusted_peer_does_not_bypass_the_rate_limit(
    lims: Lims, gateway: SigningGateway, settings: LimsSettings
) -> None:
    lims.enrol(gateway)
    with served(settings) as url:
        statuses = [_submit(url, gateway.site["id"], f"203.0.113.{n}") for n in range(7)]
    assert statuses == [201] * 5 + [429] * 2  # one client, whatever the header says


def test_forwarded_for_from_a_configured_proxy_names_the_client(
    lims: Lims, gateway: SigningGateway, settings: LimsSettings
) -> None:
    lims.enrol(gateway)
    behind_proxy = settings.model_copy(update={"trusted_proxies": ["127.0.0.1"]})
    with served(behind_proxy) as url:
        statuses = [_submit(url, gateway.site["id"], f"203.0.113.{n}") for n in range(7)]
    assert statuses == [201] * 7  # seven clients behind the proxy


def test_the_client_hash_is_keyed(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    lims.client.post("/api/v1/public/requests", json={"product": "韭菜", "site_id": gateway.site["id"]})
    stored = lims.scalar("SELECT client_hash FROM test_requests")
    assert stored != hashlib.sha256(b"testclient").hexdigest() and len(stored) == 64


@pytest.mark.parametrize(("product", "status", "stored"), [
    ("  韭菜  ", 201, "韭菜"),
    ("韭\u200b菜", 201, "韭菜"),
    ("   ", 422, None),
    ("\u200b\u200b", 422, None),
    ("韭菜\u0007", 422, None),
    ("韭菜\u202e", 422, None),
    ("菜" * 101, 422, None),
], ids=["trimmed", "zero-width", "blank", "only-zero-width", "control", "bidi-override", "too-long"])
def test_public_product_names_are_normalised_and_bounded(
    lims: Lims, gateway: SigningGateway, product: str, status: int, stored: Any
) -> None:
    lims.enrol(gateway)
    response = lims.client.post("/api/v1/public/requests", json={"product": product, "site_id": gateway.site["id"]})
    assert response.status_code == status, response.text
    assert lims.scalar("SELECT product FROM test_requests") == stored


def test_notes_keep_their_line_breaks() -> None:
    assert public_lines("第一行 \n\n  第二行") == "第一行\n第二行"
    assert public_line("a \t b") == "a b"
