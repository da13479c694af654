"""One place that builds the gateway's HTTP clients (uplink, heartbeat, roster sync, camera)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import httpx

if TYPE_CHECKING:
    import ssl


def client_for(*urls: str | None, timeout_s: float) -> httpx.AsyncClient:
    """An AsyncClient for the peers at ``urls`` (``None`` entries are ignored); TLS set up only if one is https.

    With an ``https://`` peer the client is httpx's default: verification on, certifi's CA bundle.
    With only ``http://`` peers no SSL context is built at all: httpx passes ``verify=None``
    through to httpcore as "no context", and httpcore would build its own verifying default
    (certifi's bundle) only if an https request were ever made. ``verify=False`` would still
    build an ``ssl.SSLContext`` per client; the default loads the CA bundle into each (about
    1.2 MB of RSS per client). tests/gateway/test_gw_uplink.py pins this httpx behaviour.
    """
    if any(url is not None and url.lower().startswith("https://") for url in urls):
        return httpx.AsyncClient(timeout=timeout_s)
    return httpx.AsyncClient(timeout=timeout_s, verify=cast("ssl.SSLContext", None))
