"""The test-room page: technicians label the next sample per channel and watch results arrive.

Served by the gateway daemon on ``[room_page] host:port`` (docs/room-page.md). Public API:
``RoomPage`` (what the daemon starts and stops) and ``ResultFeed`` (the sink's ``on_stored``).
"""

from __future__ import annotations

from ..health import Health
from ..label_store import LabelBook
from ..outbox import Outbox
from ..technicians import SignIn
from ._app import RoomContext, build_app
from ._feed import ResultFeed
from ._server import RoomServer

__all__ = ["ResultFeed", "RoomPage"]


class RoomPage:
    """The page of one running gateway, bound to its health, outbox and label queue."""

    def __init__(self, *, gateway_id: str, site_name: str, health: Health, outbox: Outbox, labels: LabelBook,
                 feed: ResultFeed, recent_results: int = 30, sign_in: SignIn | None = None) -> None:
        self.feed = feed
        self._server = RoomServer(build_app(RoomContext(
            gateway_id=gateway_id, site_name=site_name, health=health, outbox=outbox, labels=labels, feed=feed,
            recent_results=recent_results, sign_in=sign_in)))

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port``; returns the bound port. Raises OSError when it cannot listen."""
        return await self._server.start(host, port)

    async def close(self) -> None:
        """End the live streams, then stop the server."""
        self.feed.close()
        await self._server.close()
