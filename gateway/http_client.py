"""The gateway's HTTP client to the LIMS (uplink, heartbeat, roster sync, evidence upload), on httpcore.

A thin typed wrapper over ``httpcore.AsyncConnectionPool`` (what httpx itself runs on): whole
requests in, whole replies out, keep-alive connections reused, and ONE exception type,
:class:`HttpFailed`, for every transport failure (connect, timeout, protocol, bad URL); an
answer with any status code is a :class:`Reply`, never an exception. httpx itself (its URL,
cookie, mime-type and e-mail machinery, about 1.9 MB resident) stays out of the daemon; only the
optional camera (:mod:`gateway.camera`) still uses httpx, imported once a camera is configured.
"""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import httpcore

if TYPE_CHECKING:
    import ssl

__all__ = ["HttpClient", "HttpFailed", "Reply", "client_for", "describe"]

USER_AGENT = "kuaijian-gateway"

_TRANSPORT_ERRORS = (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError,
                     httpcore.UnsupportedProtocol, httpcore.ProxyError)
"""Everything httpcore raises for a request that got no (complete) answer."""


class HttpFailed(Exception):
    """No answer: connect refused or timed out, read/write timeout, broken or malformed response, bad URL.

    ``str()`` names the underlying failure first, as ``"ConnectError: All connection attempts failed"``.
    """


def describe(exc: BaseException) -> str:
    """A one-line ``"Kind: message"`` for logs and ``last_error`` (an HttpFailed already reads so)."""
    return str(exc) if isinstance(exc, HttpFailed) else f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True, slots=True)
class Reply:
    """A complete HTTP answer: status code, headers (lower-case names) and the whole body."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        """The body as text (UTF-8; undecodable bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON; ``ValueError`` when it is not JSON."""
        return jsonlib.loads(self.body)


class HttpClient:
    """Requests over one keep-alive connection pool; ``timeout_s`` bounds connect, read, write and pool waits."""

    def __init__(self, timeout_s: float, ssl_context: ssl.SSLContext | None = None) -> None:
        self.timeout_s = timeout_s
        # httpx's default limits; with ssl_context None httpcore builds a verifying context only
        # if an https request is ever made (client_for passes one whenever a peer is https)
        self._pool = httpcore.AsyncConnectionPool(ssl_context=ssl_context, max_connections=100,
                                                  max_keepalive_connections=20, keepalive_expiry=5.0)

    async def get(self, url: str, *, headers: dict[str, str] | None = None,
                  timeout_s: float | None = None) -> Reply:
        return await self.request("GET", url, headers=headers, timeout_s=timeout_s)

    async def post(self, url: str, *, content: bytes = b"", json: Any = None, headers: dict[str, str] | None = None,
                   timeout_s: float | None = None) -> Reply:
        """POST ``content`` (or ``json``, encoded compactly as UTF-8 with ``content-type: application/json``)."""
        return await self.request("POST", url, content=content, json=json, headers=headers, timeout_s=timeout_s)

    async def put(self, url: str, *, content: bytes = b"", headers: dict[str, str] | None = None,
                  timeout_s: float | None = None) -> Reply:
        return await self.request("PUT", url, content=content, headers=headers, timeout_s=timeout_s)

    async def request(self, method: str, url: str, *, content: bytes = b"", json: Any = None,
                      headers: dict[str, str] | None = None, timeout_s: float | None = None) -> Reply:
        """Send one request and read the whole answer; raises :class:`HttpFailed` when there is none."""
        fields = {name.lower(): value for name, value in (headers or {}).items()}
        if json is not None:
            content = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            fields.setdefault("content-type", "application/json")
        fields.setdefault("accept", "*/*")
        fields.setdefault("user-agent", USER_AGENT)
        if content or method in ("POST", "PUT", "PATCH"):
            fields["content-length"] = str(len(content))
        limit = self.timeout_s if timeout_s is None else timeout_s
        try:
            target, host = _url(url)
        except ValueError as exc:  # unparsable URL (scheme, bad port, no host): no answer can come
            raise HttpFailed(f"InvalidURL: {exc}") from exc
        try:
            response = await self._pool.request(
                method, target, headers=[("host", fields.pop("host", host)), *fields.items()], content=content or None,
                extensions={"timeout": {"connect": limit, "read": limit, "write": limit, "pool": limit}})
        except _TRANSPORT_ERRORS as exc:
            raise HttpFailed(f"{type(exc).__name__}: {exc}") from exc
        return Reply(response.status, {name.decode("latin-1").lower(): value.decode("latin-1")
                                       for name, value in response.headers}, response.content)

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._pool.aclose()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _url(url: str) -> tuple[httpcore.URL, str]:
    """``url`` for httpcore and its Host header; ValueError for a scheme other than http(s), no host, a bad port."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"unsupported URL scheme in {url!r}; http:// or https:// expected")
    if not parts.hostname:
        raise ValueError(f"no host in {url!r}")
    port = parts.port  # ValueError when not a number in range
    target = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), safe="!#$%&'()*+,/:;=?@[]~")
    host = parts.hostname.encode("idna")
    authority = (b"[%b]" % host if b":" in host else host).decode("ascii") + (f":{port}" if port else "")
    return httpcore.URL(scheme=scheme, host=host, port=port, target=target.encode("ascii")), authority


def client_for(*urls: str | None, timeout_s: float) -> HttpClient:
    """A client for the peers at ``urls`` (``None`` entries are ignored); TLS set up only if one is https.

    With an ``https://`` peer: verification on, certifi's CA bundle (httpx's default). With only
    ``http://`` peers no SSL context is built at all (``ssl.create_default_context`` loads the CA
    bundle, about 1.2 MB of RSS per client). tests/gateway/test_gw_uplink.py pins both.
    """
    if any(url is not None and url.lower().startswith("https://") for url in urls):
        import ssl

        import certifi

        return HttpClient(timeout_s, ssl.create_default_context(cafile=certifi.where()))
    return HttpClient(timeout_s)
