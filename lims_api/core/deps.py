"""Request dependencies: the one database session, settings, the bounded request body."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from .errors import BodyTooLarge
from .settings import LimsSettings


def get_settings(request: Request) -> LimsSettings:
    """The settings object ``create_app`` was built with."""
    settings: LimsSettings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; rolled back if the handler leaves anything uncommitted."""
    with request.app.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[LimsSettings, Depends(get_settings)]

async def read_bounded_body(request: Request, settings: SettingsDep) -> bytes:
    """The whole request body, refused with 413 once it exceeds ``max_body_bytes``.

    Checks the declared Content-Length first, then the bytes actually received.
    """
    limit = settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> HTTPException:
    return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(BodyTooLarge(limit)))


BoundedBody = Annotated[bytes, Depends(read_bounded_body)]
