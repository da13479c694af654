"""Signed heartbeats to the LIMS over HTTP: the daemon's health snapshot every ``[lims] heartbeat_s``.

``POST {lims.url}/api/v1/gateways/{id}/heartbeat`` with the signed document of :mod:`protocols.wire.heartbeat`.
A failed post is logged once per outage and retried at the next beat; results never wait for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from protocols.signing import Signer
from protocols.wire.heartbeat import build_heartbeat, sign_document
from protocols.wire.paths import heartbeat_path

from .http_client import HttpClient, HttpFailed, client_for, describe
from .config import GatewayConfig
from .keys import kid_of
from .uplink_base import wait_any

log = logging.getLogger("gateway.heartbeat")

Snapshot = Callable[[], dict[str, Any]]


class HeartbeatSender:
    """Posts a signed heartbeat now and then every ``interval_s`` until stopped."""

    def __init__(self, url: str, key: Signer, interval_s: float, snapshot: Snapshot,
                 clock: Callable[[], datetime], client: HttpClient | None = None, timeout_s: float = 10.0,
                 site_id: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.site_id = site_id
        self.key = key
        self.kid = kid_of(key)
        self.interval_s = interval_s
        self.snapshot = snapshot
        self.clock = clock
        self._client = client or client_for(url, timeout_s=timeout_s)
        self._owns_client = client is None
        self.sent = 0
        self.last_error: str | None = None

    async def send_once(self) -> None:
        """Post one heartbeat; raises ``HttpFailed`` (network) or ``HeartbeatRefused`` (non-200)."""
        document = sign_document(
            build_heartbeat(self.snapshot(), self.kid, self.clock(), self.interval_s, self.site_id), self.key)
        response = await self._client.post(self.url + heartbeat_path(document["gateway"]),
                                           json=document)
        if response.status != 200:
            raise HeartbeatRefused(f"HTTP {response.status}: {response.text[:300]}")
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
                except (HttpFailed, HeartbeatRefused) as exc:
                    error = describe(exc)
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


def start_heartbeats(config: GatewayConfig, key: Signer, snapshot: Snapshot,
                     clock: Callable[[], datetime], stop: asyncio.Event,
                     client: HttpClient | None = None) -> asyncio.Task[None] | None:
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
