"""One place that builds the gateway's HTTP clients (uplink, heartbeat)."""

from __future__ import annotations

import httpx


def plain_http_client(base_url: str, timeout_s: float) -> httpx.AsyncClient:
    """An AsyncClient for ``base_url``; TLS set-up (certifi's CA bundle) only for https URLs.

    Loading the CA bundle costs a few MB of RSS on a small test-room PC, and a plain
    ``http://`` LIMS on the room's LAN never uses it.
    """
    if base_url.lower().startswith("https://"):
        return httpx.AsyncClient(timeout=timeout_s)
    return httpx.AsyncClient(timeout=timeout_s, verify=False)  # no TLS on http://: nothing to verify
