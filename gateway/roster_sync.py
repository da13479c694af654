"""Fetch the site's technician roster from the LIMS with the gateway's signature, and cache it on disk.

``POST {lims.url}/api/v1/gateways/{id}/technicians`` with ``{gateway, kid, site, sent_at, sig}`` (``sig``:
Ed25519 over the JCS form without ``sig``, as heartbeats). The answer (a :class:`~gateway.technicians.Roster`)
replaces the cache file atomically; while the LIMS is unreachable the cached roster keeps serving sign-in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from protocols._validation import Invalid
from protocols.signing import Signer
from protocols.wire.heartbeat import sign_document
from protocols.wire.paths import ROSTER_PATH

from .config import GatewayConfig
from .http_client import HttpClient, HttpFailed, client_for, describe
from .keys import kid_of
from .technicians import Roster, RosterError, SignIn, load_roster, save_roster
from .uplink_base import wait_any

log = logging.getLogger("gateway.technicians")



class RosterRefused(Exception):
    """The LIMS answered the roster request with something other than a roster (the text says why)."""


class RosterSync:
    """Refreshes ``sign_in.roster`` and its cache file every ``interval_s`` until stopped."""

    def __init__(self, *, url: str, gateway_id: str, site_id: str, key: Signer, cache: Path,
                 sign_in: SignIn, interval_s: float, clock: Callable[[], datetime],
                 client: HttpClient | None = None, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/") + ROSTER_PATH.format(gateway=gateway_id)
        self.gateway_id, self.site_id = gateway_id, site_id
        self.key, self.kid = key, kid_of(key)
        self.cache, self.sign_in = cache, sign_in
        self.interval_s, self.clock = interval_s, clock
        self._client = client or client_for(url, timeout_s=timeout_s)
        self._owns_client = client is None
        self.last_error: str | None = None

    async def fetch_once(self) -> Roster:
        """Fetch, check and cache the roster; raises ``HttpFailed`` or ``RosterRefused``."""
        request = sign_document({"gateway": self.gateway_id, "kid": self.kid, "site": self.site_id,
                                  "sent_at": self.clock().isoformat(timespec="milliseconds")}, self.key)
        response = await self._client.post(self.url, json=request)
        if response.status != 200:
            raise RosterRefused(f"HTTP {response.status}: {response.text[:300]}")
        try:
            roster = Roster.from_json(response.body)
        except Invalid as exc:
            raise RosterRefused(f"not a roster: {exc}") from exc
        if roster.site != self.site_id:
            raise RosterRefused(f"roster of site {roster.site!r}, not {self.site_id!r}")
        save_roster(self.cache, roster)
        self.sign_in.replace_roster(roster)
        return roster

    async def run(self, stop: asyncio.Event) -> None:
        """Refresh until ``stop``; a failure is logged once per outage and the cached roster stays in use."""
        try:
            await self._refresh_until(stop)
        finally:
            if self._owns_client:
                await self._client.aclose()

    async def _refresh_until(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                roster = await self.fetch_once()
                if self.last_error is not None:
                    log.info("technician roster reaches the gateway again")
                log.debug("technician roster refreshed", extra={"technicians": len(roster.technicians)})
                self.last_error = None
            except (HttpFailed, RosterRefused, OSError) as exc:
                error = describe(exc)
                if self.last_error is None:
                    log.warning("technician roster not refreshed; signing in with the cached one",
                                extra={"error": error, "url": self.url, "cache": str(self.cache)})
                self.last_error = error
            await wait_any(stop, timeout=self.interval_s)


def sign_in_for(config: GatewayConfig) -> SignIn | None:
    """The room page's sign-in state with the cached roster (None when sign-in is off or no page runs)."""
    section = config.room_page
    if not (section.enabled and section.sign_in):
        return None
    try:
        roster = load_roster(config.roster_path())
    except RosterError as exc:
        log.error("cached technician roster unusable; sign-in waits for the LIMS", extra={"error": str(exc)})
        roster = None
    if roster is None:
        log.warning("no technician roster cached yet; nobody can sign in until the LIMS sends it",
                    extra={"cache": str(config.roster_path())})
    return SignIn(roster, section.sign_out_idle_s)


def start_roster_sync(config: GatewayConfig, sign_in: SignIn | None, key: Signer,
                      clock: Callable[[], datetime], stop: asyncio.Event,
                      client: HttpClient | None = None) -> asyncio.Task[None] | None:
    """The roster refresh task (None without sign-in or a LIMS URL)."""
    url = config.lims.url
    if sign_in is None or url is None:
        return None
    sync = RosterSync(url=url, gateway_id=config.gateway.id, site_id=config.site.id, key=key,
                      cache=config.roster_path(), sign_in=sign_in, interval_s=config.room_page.roster_refresh_s,
                      clock=clock, client=client, timeout_s=config.lims.timeout_s)
    return asyncio.create_task(sync.run(stop), name="roster-sync")
