"""Browser-facing guards on every request: security headers, same-origin writes, a declared body type.

- Every response gets ``Content-Security-Policy`` (own origin only, no framing), ``X-Frame-Options: DENY``,
  ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin``.
- A state-changing request (POST, PUT, PATCH, DELETE) that a browser sends from another origin — another
  site, or the same host on another port — is refused with 403 before any route runs: its ``Origin`` (or,
  without one, its ``Referer``) must name the host the request was sent to (``Host``). Gateways and scripts
  send neither header and are not affected. This is the CSRF defence of the forms and the cookie session,
  on top of the cookie's ``SameSite=Strict``.
- A state-changing request with a body must say what it is (``Content-Type``), else 415.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; "
     b"base-uri 'self'; form-action 'self'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


def cross_origin_problem(headers: dict[bytes, bytes]) -> str | None:
    """Why a state-changing request comes from another origin than the host it was sent to, or ``None``."""
    host = headers.get(b"host", b"").decode("latin-1").lower()
    for name in (b"origin", b"referer"):
        value = headers.get(name)
        if value is None:
            continue
        text = value.decode("latin-1")
        source = urlsplit(text).netloc.lower() if text != "null" else "null"
        if source != host:
            return f"cross-origin request refused: {name.decode()} {text!r} is not this host ({host!r})"
        return None
    return None


def _has_body(headers: dict[bytes, bytes]) -> bool:
    length = headers.get(b"content-length", b"0")
    return b"transfer-encoding" in headers or (length.isdigit() and int(length) > 0)


class WebGuard:
    """ASGI middleware applying the rules of this module."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if scope["method"] in UNSAFE_METHODS:
            problem = cross_origin_problem(headers)
            if problem is not None:
                await _refuse(send, 403, problem)
                return
            if _has_body(headers) and b"content-type" not in headers:
                await _refuse(send, 415, "a request body needs a Content-Type (application/json for the API)")
                return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in HEADERS if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, with_headers)


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *HEADERS]})
    await send({"type": "http.response.body", "body": body})
