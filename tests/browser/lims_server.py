"""The LIMS served by uvicorn in a thread on a free port, over a SQLite file in ``tmp_path``.

``LiveLims`` offers the same seeding calls as ``tests.lims.conftest.Lims`` (enrol, ingest, district,
place_site, user) over real HTTP, plus ``login_cookie`` for a browser context.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from lims_api import LimsSettings, create_app, init_db
from tests.lims.conftest import ADMIN_TOKEN, FAST_HASHING, PASSWORD, SigningGateway, ndjson


@dataclass
class LiveLims:
    url: str
    client: httpx.Client
    settings: LimsSettings
    admin: dict[str, str]

    def enrol(self, gateway: SigningGateway) -> dict[str, Any]:
        response = self.client.post("/api/v1/gateways", json=gateway.enrol_body(), headers=self.admin)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def ingest(self, *envelopes: dict[str, Any]) -> list[dict[str, Any]]:
        response = self.client.post("/api/v1/ingest", content=ndjson(*envelopes),
                                    headers={"Content-Type": "application/x-ndjson"})
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert all(r["status"] == "stored" for r in results), results
        return results

    def _admin(self, method: str, path: str, body: dict[str, Any]) -> None:
        response = self.client.request(method, path, json=body, headers=self.admin)
        assert response.status_code in (200, 201, 204), response.text

    def district(self, district_id: str, name: str = "测试区") -> None:
        self._admin("POST", "/api/v1/admin/districts", {"id": district_id, "name": name})

    def place_site(self, site: dict[str, Any], district_id: str | None) -> None:
        self._admin("PUT", f"/api/v1/admin/sites/{site['id']}",
                    {"kind": site["kind"], "name": site["name"], "district_id": district_id})

    def user(self, username: str, role: str, *, sites: tuple[str, ...] = (), district: str | None = None) -> str:
        """Create a user and return a session token (the value of the ``kj_session`` cookie)."""
        self._admin("POST", "/api/v1/admin/users", {"username": username, "password": PASSWORD, "role": role,
                                                    "site_ids": list(sites), "district_id": district})
        response = self.client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        token: str = response.json()["token"]
        return token

    def login_cookie(self, token: str) -> dict[str, Any]:
        """A Playwright cookie carrying ``token`` as the session."""
        return {"name": "kj_session", "value": token, "url": self.url}


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def live_lims(folder: Path, **overrides: Any) -> Iterator[LiveLims]:
    """Migrate ``folder/lims.sqlite3``, serve the app in a thread, stop it afterwards."""
    url = f"sqlite:///{folder / 'lims.sqlite3'}"
    init_db(url)
    settings = LimsSettings(database_url=url, admin_token=ADMIN_TOKEN, data_dir=folder / "data",
                            **{**FAST_HASHING, **overrides})
    sock = _free_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", lifespan="on",
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="lims-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the LIMS server did not start")
        time.sleep(0.02)
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            yield LiveLims(url=base, client=client, settings=settings, admin={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
