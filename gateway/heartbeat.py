"""Signed heartbeats to the LIMS over HTTP: the daemon's health snapshot every ``[lims] heartbeat_s``.

``POST {lims.url}/api/v1/gateways/{id}/heartbeat`` with ``{gateway, kid, site, sent_at, interval_s, status:
{instruments: [{id, state, last_result_at, last_error, calibration_due}], backlog, last_seq, last_upload_at},
sig}``; ``sig`` is Ed25519 over the JCS form of the document without ``sig`` (base64url), the envelope rule.
A failed post is logged once per outage and retried at the next beat; results never wait for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocols.envelope import b64url_encode, canonical

from .http_client import plain_http_client
from .config import GatewayConfig
from .keys import kid_of
from .uplink_base import wait_any

log = logging.getLogger("gateway.heartbeat")

HEARTBEAT_PATH = "/api/v1/gateways/{gateway}/heartbeat"
Snapshot = Callable[[], dict[str, Any]]


def heartbeat_document(snapshot: dict[str, Any], kid: str, sent_at: datetime, interval_s: float,
                       site_id: str | None = None) -> dict[str, Any]:
    """The unsigned heartbeat built from a ``Health.snapshot()``; ``site`` names the configured site when given."""
    backlog = snapshot.get("backlog", {})
    site = {} if site_id is None else {"site": site_id}
    return {
        "gateway": snapshot["gateway"],
        "kid": kid,
        **site,
        "sent_at": sent_at.isoformat(timespec="milliseconds"),
        "interval_s": interval_s,
        "status": {
            "instruments": [
                {"id": i["id"], "state": i["state"], "last_result_at": i.get("last_result_at"),
                 "last_error": i.get("last_error"), "calibration_due": i.get("calibration_due")}
                for i in snapshot.get("instruments", [])
            ],
            "backlog": int(backlog.get("pending", 0)),
            "last_seq": int(backlog.get("last_seq", 0)),
            "last_upload_at": snapshot.get("uplink", {}).get("last_upload_at"),
        },
    }


def sign_heartbeat(document: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """``document`` plus ``sig`` over its JCS bytes."""
    unsigned = {k: v for k, v in document.items() if k != "sig"}
    return {**unsigned, "sig": b64url_encode(key.sign(canonical(unsigned)))}


class HeartbeatSender:
    """Posts a signed heartbeat now and then every ``interval_s`` until stopped."""

    def __init__(self, url: str, key: Ed25519PrivateKey, interval_s: float, snapshot: Snapshot,
                 clock: Callable[[], datetime], client: httpx.AsyncClient | None = None, timeout_s: float = 10.0,
                 site_id: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.site_id = site_id
        self.key = key
        self.kid = kid_of(key)
        self.interval_s = interval_s
        self.snapshot = snapshot
        self.clock = clock
        self._client = client or plain_http_client(url, timeout_s)
        self._owns_client = client is None
        self.sent = 0
        self.last_error: str | None = None

    async def send_once(self) -> None:
        """Post one heartbeat; raises ``httpx.HTTPError`` (network) or ``HeartbeatRefused`` (non-200)."""
        document = sign_heartbeat(
            heartbeat_document(self.snapshot(), self.kid, self.clock(), self.interval_s, self.site_id), self.key)
        response = await self._client.post(self.url + HEARTBEAT_PATH.format(gateway=document["gateway"]),
                                           json=document)
        if response.status_code != 200:
            raise HeartbeatRefused(f"HTTP {response.status_code}: {response.text[:300]}")
        self.sent += 1

    async def run(self, stop: asyncio.Event) -> None:
        """Beat until ``stop`` is set; failures are logged (once per outage) and retried at the next beat."""
        try:
            while not stop.is_set():
                try:
                    await self.send_once()
                    if self.last_error is not None:
                        log.info("heartbeats reach the LIMS again")
                    self.last_error = None
                except (httpx.HTTPError, HeartbeatRefused) as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    if self.last_error is None:
                        log.warning("heartbeat not accepted; retrying every %.1f s", self.interval_s,
                                    extra={"error": error, "url": self.url})
                    self.last_error = error
                await wait_any(stop, timeout=self.interval_s)
        finally:
            if self._owns_client:
                await self._client.aclose()


class HeartbeatRefused(Exception):
    """The LIMS answered a heartbeat with something other than 200 (the text says why)."""


def start_heartbeats(config: GatewayConfig, key: Ed25519PrivateKey, snapshot: Snapshot,
                     clock: Callable[[], datetime], stop: asyncio.Event,
                     client: httpx.AsyncClient | None = None) -> asyncio.Task[None] | None:
    """The heartbeat task for the http transport (``None`` for MQTT or ``heartbeat_s = 0``)."""
    lims = config.lims
    if lims.transport != "http" or lims.url is None or lims.heartbeat_s <= 0:
        return None
    sender = HeartbeatSender(lims.url, key, lims.heartbeat_s, snapshot, clock, client, lims.timeout_s,
                             site_id=config.site.id)
    return asyncio.create_task(sender.run(stop), name="heartbeat")


async def stop_heartbeats(task: asyncio.Task[None] | None) -> None:
    """Cancel the heartbeat task (or another helper task of the daemon) and wait for it."""
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
