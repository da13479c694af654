"""Serve the room page with uvicorn as one more task of the daemon's event loop (no thread)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.applications import Starlette

log = logging.getLogger("gateway.room")


class _LoopServer(uvicorn.Server):
    """uvicorn without its signal handlers: the daemon owns SIGTERM/SIGINT and says when to stop."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class RoomServer:
    """Binds the socket itself (errors surface at ``start``), then serves ``app`` until ``close``."""

    def __init__(self, app: Starlette) -> None:
        self._server = _LoopServer(uvicorn.Config(
            app, log_config=None, log_level="warning", access_log=False, lifespan="off",
            timeout_graceful_shutdown=2, server_header=False))
        self._task: asyncio.Task[None] | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (port 0: any free one); returns the bound port."""
        sock = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
        sock.setblocking(False)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="room-page")
        return int(sock.getsockname()[1])

    async def close(self) -> None:
        """Stop accepting, let open requests finish (2 s at most), and wait for the task."""
        if self._task is None:
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(self._task, 5.0)
        except (TimeoutError, asyncio.CancelledError):
            self._task.cancel()
        except Exception:  # the page must never take the daemon down with it
            log.exception("room page server failed while stopping")
