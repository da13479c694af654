"""One snapshot from the room's IP camera per result: bounded in time and size, checked to be an image.

A camera that is missing, slow, answers an error or something that is not a JPEG/PNG never
blocks a result: ``take_snapshot`` returns the reason instead, the sink flags the result
``camera_failed:<reason>`` and logs it, and the result is stored as usual.

The camera is fetched with httpx (for its ``DigestAuth``, what IP cameras ask for), imported only
here and only once a ``[camera]`` is configured: a gateway without a camera never loads httpx
(the LIMS client, :mod:`gateway.http_client`, runs on httpcore alone).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, cast

from .config import CameraSection

if TYPE_CHECKING:
    import ssl

    import httpx

MAGIC = ((b"\xff\xd8\xff", "image/jpeg", "jpg"), (b"\x89PNG\r\n\x1a\n", "image/png", "png"))
"""Leading bytes of the image formats accepted, their media type and file extension."""


@dataclass(frozen=True)
class Snapshot:
    """An image taken for one result; ``sha256`` goes into the signed result."""

    data: bytes
    media_type: str
    extension: str
    taken_at: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class CameraFailure:
    """Why no snapshot was taken: a short machine-readable ``reason`` and a sentence for the log."""

    reason: str
    detail: str


def image_kind(data: bytes) -> tuple[str, str] | None:
    """(media type, extension) when ``data`` starts like a JPEG or PNG, else None."""
    for magic, media_type, extension in MAGIC:
        if data.startswith(magic):
            return media_type, extension
    return None


def camera_client(snapshot_url: str, timeout_s: float) -> httpx.AsyncClient:
    """The camera's httpx client; TLS set up only for an ``https://`` snapshot URL.

    With https: httpx's default (verification on, certifi's CA bundle). With http no SSL context
    is built at all: httpx passes ``verify=None`` through to httpcore as "no context" (``verify=False``
    would still build one; the default loads the CA bundle, about 1.2 MB of RSS).
    tests/gateway/test_gw_uplink.py pins this httpx behaviour.
    """
    import httpx

    if snapshot_url.lower().startswith("https://"):
        return httpx.AsyncClient(timeout=timeout_s)
    return httpx.AsyncClient(timeout=timeout_s, verify=cast("ssl.SSLContext", None))


async def _fetch(client: httpx.AsyncClient, section: CameraSection) -> bytes | CameraFailure:
    import httpx

    auth = httpx.DigestAuth(section.username, section.password or "") if section.username else None
    async with client.stream("GET", section.snapshot_url, auth=auth) as answer:
        if answer.status_code != 200:
            return CameraFailure("http_status", f"camera answered HTTP {answer.status_code}")
        body = bytearray()
        async for chunk in answer.aiter_bytes():
            body += chunk
            if len(body) > section.max_bytes:
                return CameraFailure("oversize", f"snapshot larger than max_bytes {section.max_bytes}")
        return bytes(body)


async def take_snapshot(client: httpx.AsyncClient, section: CameraSection,
                        clock: Callable[[], datetime]) -> Snapshot | CameraFailure:
    """GET the snapshot URL within ``timeout_s`` and ``max_bytes``; the image or the reason it failed."""
    import httpx

    taken_at = clock().isoformat(timespec="milliseconds")
    try:
        body = await asyncio.wait_for(_fetch(client, section), timeout=section.timeout_s)
    except TimeoutError:
        return CameraFailure("timeout", f"no complete snapshot within timeout_s {section.timeout_s}")
    except httpx.HTTPError as exc:
        return CameraFailure("unreachable", f"{type(exc).__name__}: {exc}"[:200])
    if isinstance(body, CameraFailure):
        return body
    kind = image_kind(body)
    if kind is None:
        return CameraFailure("not_image", f"{len(body)} bytes that start {body[:8].hex()} are not a JPEG or PNG")
    return Snapshot(data=body, media_type=kind[0], extension=kind[1], taken_at=taken_at)
