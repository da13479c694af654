"""A size limit on every request body, enforced while it is received (declared length or chunked).

Ingest and heartbeats may send up to ``max_body_bytes``; every other route (login, forms, admin JSON)
up to ``max_request_bytes``. A body over its limit is answered 413 before it is buffered.
"""

from __future__ import annotations

import json
import re

from fastapi import HTTPException, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from protocols.wire.paths import EVIDENCE_PATH, HEARTBEAT_PATH, INGEST_PATH

from .errors import BodyTooLarge


def _route(template: str) -> str:
    """``template`` (``/a/{name}/b``) as a regex: each ``{name}`` matches one path segment."""
    return re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template))


LARGE_BODY_PATHS = re.compile("^(" + "|".join(map(_route, (INGEST_PATH, HEARTBEAT_PATH, EVIDENCE_PATH))) + ")$")
"""Routes that carry envelope batches, heartbeats or evidence images and get the larger limit."""


def too_large_message(limit: int, large: bool) -> str:
    """What a 413 says: the limit and the setting that sets it."""
    if large:
        return str(BodyTooLarge(limit))
    return f"request body exceeds the limit of {limit} bytes (max_request_bytes)"


class BodyTooLargeHTTP(HTTPException):
    """413 raised from ``receive`` (an ``HTTPException``, so body parsing passes it through unchanged)."""

    def __init__(self, message: str) -> None:
        super().__init__(status.HTTP_413_CONTENT_TOO_LARGE, message)


class BodyLimit:
    """ASGI middleware: 413 for a declared length over the limit, and once more bytes than it arrive."""

    def __init__(self, app: ASGIApp, large: int, small: int) -> None:
        self.app = app
        self.large = large
        self.small = small

    def limit_for(self, path: str) -> tuple[int, str]:
        """The byte limit for ``path`` and the 413 message that names it."""
        large = LARGE_BODY_PATHS.match(path) is not None
        limit = self.large if large else self.small
        return limit, too_large_message(limit, large)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, refusal = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _answer_413(send, refusal)
            return
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeHTTP(refusal)
            return message

        await self.app(scope, bounded_receive, send)


async def _answer_413(send: Send, message: str) -> None:
    body = json.dumps({"detail": message}).encode("utf-8")
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
