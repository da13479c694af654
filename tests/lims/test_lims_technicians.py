"""Technicians' room sign-in: an admin sets PIN/badge, the gateway fetches its site's roster with its signature."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.technicians import Roster
from protocols.envelope import key_id, public_key_bytes
from protocols.privacy import PSEUDONYMOUS_ID
from protocols.wire.heartbeat import sign_document

from .conftest import Lims, SigningGateway


def roster_request(gw: SigningGateway, *, sent_at: datetime | None = None, key: Ed25519PrivateKey | None = None,
                   **changes: Any) -> dict[str, Any]:
    signer = key or gw.key
    document = {"gateway": gw.gateway, "kid": key_id(public_key_bytes(signer.public_key())), "site": gw.site["id"],
                "sent_at": (sent_at or datetime.now().astimezone()).isoformat(timespec="milliseconds"), **changes}
    return sign_document(document, signer)


def fetch(lims: Lims, gateway_id: str, body: Any) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return lims.client.post(f"/api/v1/gateways/{gateway_id}/technicians", content=content,
                            headers={"Content-Type": "application/json"})


def sign_in_setting(lims: Lims, username: str, body: dict[str, Any]) -> Any:
    return lims.client.put(f"/api/v1/admin/users/{username}/room-sign-in", json=body, headers=lims.auth)


def test_roster_lists_the_sites_technicians_with_hashes_only(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    site = gateway.site["id"]
    lims.place_site({"id": "yz-market-99", "kind": "market", "name": "别的市场"}, None)
    for username, sites in (("wang.tech", (site,)), ("li.tech", (site,)), ("zhao.tech", ("yz-market-99",))):
        lims.user(username, "technician", sites=sites)
    lims.user("chen.manager", "manager", sites=(site,))
    wang = sign_in_setting(lims, "wang.tech", {"display_name": "王芳", "pin": "246810", "badge": "YZ-T-0042"})
    assert wang.status_code == 200, wang.text
    assert sign_in_setting(lims, "li.tech", {"display_name": "李强", "badge": "YZ-T-0043"}).status_code == 200
    assert sign_in_setting(lims, "zhao.tech", {"display_name": "赵磊", "pin": "1357"}).status_code == 200
    refused = sign_in_setting(lims, "chen.manager", {"display_name": "陈", "pin": "1111"})
    assert refused.status_code == 409 and "not a technician" in refused.text
    assert sign_in_setting(lims, "wang.tech", {"display_name": "王芳", "pin": "12"}).status_code == 422  # too short

    response = fetch(lims, gateway.gateway, roster_request(gateway))
    assert response.status_code == 200, response.text
    roster = Roster.from_json(response.content)  # exactly what the gateway caches
    assert roster.site == site and [t.name for t in roster.technicians] == ["李强", "王芳"]
    by_name = {t.name: t for t in roster.technicians}
    assert by_name["王芳"].id == wang.json()["technician_id"]
    for technician in roster.technicians:
        assert re.fullmatch(r"t-[0-9a-f]{10}", technician.id) and PSEUDONYMOUS_ID.match(technician.id)
    assert PasswordHasher().verify(by_name["王芳"].pin_hash, "246810")
    assert by_name["王芳"].badge_sha256 == hashlib.sha256(b"YZ-T-0042").hexdigest()
    assert by_name["李强"].pin_hash is None
    assert "246810" not in response.text and "YZ-T-0042" not in response.text

    again = sign_in_setting(lims, "wang.tech", {"display_name": "王芳", "pin": "97531"})
    assert again.json()["technician_id"] == by_name["王芳"].id  # the pseudonym stays; the badge is gone
    assert not again.json()["has_badge"]


@pytest.mark.parametrize(("name", "status", "words"), [
    ("unsigned", 401, "not signed"),
    ("forged", 403, "does not verify"),
    ("unknown_kid", 403, "is not a key of gateway"),
    ("stale", 422, "not within"),
    ("other_site", 403, "is enrolled for"),
    ("unknown_gateway", 404, "not enrolled"),
])
def test_roster_refusals_say_why(lims: Lims, gateway: SigningGateway, name: str, status: int, words: str) -> None:
    lims.enrol(gateway)
    good = roster_request(gateway)
    bodies: dict[str, Any] = {
        "unsigned": {k: v for k, v in good.items() if k != "sig"},
        "forged": {**good, "sig": roster_request(gateway, key=Ed25519PrivateKey.generate(), kid=good["kid"])["sig"]},
        "unknown_kid": roster_request(gateway, key=Ed25519PrivateKey.generate()),
        "stale": roster_request(gateway, sent_at=datetime.now().astimezone() - timedelta(minutes=6)),
        "other_site": roster_request(gateway, site="yz-market-99"),
        "unknown_gateway": roster_request(SigningGateway(gateway="gw-nobody")),
    }
    target = "gw-nobody" if name == "unknown_gateway" else gateway.gateway
    response = fetch(lims, target, bodies[name])
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]


def test_gateway_roster_sync_caches_the_roster_and_signs_in_from_it_when_the_lims_is_gone(
        lims: Lims, gateway: SigningGateway, tmp_path) -> None:
    import asyncio
    import contextlib
    import socket
    from collections.abc import AsyncIterator

    import uvicorn

    from gateway.http_client import HttpClient, HttpFailed
    from gateway.roster_sync import RosterRefused, RosterSync
    from gateway.technicians import SignIn, load_roster

    lims.enrol(gateway)
    lims.user("wang.tech", "technician", sites=(gateway.site["id"],))
    technician_id = sign_in_setting(lims, "wang.tech", {"display_name": "王芳", "pin": "246810"}).json()["technician_id"]
    cache = tmp_path / "outbox.sqlite3.technicians.json"

    def free_port() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    @contextlib.asynccontextmanager
    async def served() -> AsyncIterator[str]:
        """The test LIMS's app under a real uvicorn (the gateway's client speaks only real HTTP)."""
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(lims.client.app, host="127.0.0.1", port=port, lifespan="off",
                                               log_level="warning"))
        task = asyncio.create_task(server.serve())
        while not server.started:
            assert not task.done(), "uvicorn did not start"
            await asyncio.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 10)

    async def sync_with(url: str, sign_in: SignIn, signer: SigningGateway = gateway) -> Roster:
        async with HttpClient(timeout_s=5) as client:
            sync = RosterSync(url=url, gateway_id=signer.gateway, site_id=signer.site["id"], key=signer.key,
                              cache=cache, sign_in=sign_in, interval_s=60,
                              clock=lambda: datetime.now().astimezone(), client=client)
            return await sync.fetch_once()

    async def scenario() -> None:
        online = SignIn(None, idle_s=600)
        async with served() as url:
            roster = await sync_with(url, online)
        assert [t.id for t in roster.technicians] == [technician_id]
        assert online.with_pin(technician_id, "246810") is not None

        offline = SignIn(load_roster(cache), idle_s=600)  # the gateway restarted; the LIMS is unreachable
        with pytest.raises(HttpFailed):
            await sync_with(f"http://127.0.0.1:{free_port()}", offline)
        assert offline.with_pin(technician_id, "246810") is not None, "the cached roster must serve sign-in"

        async with served() as url:
            other = SigningGateway(gateway=gateway.gateway, site=gateway.site)  # a key the LIMS does not know
            with pytest.raises(RosterRefused, match="403"):
                await sync_with(url, offline, other)
        assert load_roster(cache) == roster  # a refused answer leaves the cache as it was

    asyncio.run(scenario())
