"""Serve the room page as tasks of the daemon's event loop: a small ASGI HTTP/1.1 server on asyncio streams and
h11 (no thread, no lifespan, no websockets; uvicorn would cost 2.5 MB resident for click, logging.config and
multiprocessing)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

import h11

log = logging.getLogger("gateway.room")

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

_READ = 65536
_DISCONNECT: Message = {"type": "http.disconnect"}
_PHRASES = {status.value: status.phrase for status in HTTPStatus}


class _Abort(Exception):
    """The request cannot go on; the client has had its error reply (or is gone)."""


class RoomServer:
    """Binds the socket itself (errors surface at ``start``), then serves ``app`` until ``close``."""

    def __init__(self, app: ASGIApp, *, max_body: int = 1 << 20, idle_s: float = 30.0, max_connections: int = 64,
                 grace_s: float = 2.0) -> None:
        self.app, self.max_body, self.idle_s = app, max_body, idle_s
        self._max_connections, self._grace_s = max_connections, grace_s
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[Any], bool] = {}  # connection task -> inside a request
        self.closing = False

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (port 0: any free one); returns the bound port."""
        sock = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
        self._server = await asyncio.start_server(self._serve, sock=sock)
        return int(sock.getsockname()[1])

    async def close(self) -> None:
        """Stop accepting, drop idle connections, let open requests finish (2 s at most), then cancel them."""
        if self._server is None:
            return
        self.closing = True
        self._server.close()
        for task, busy in list(self._connections.items()):
            if not busy:
                task.cancel()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=self._grace_s)
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=1.0)
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One connection: requests in turn while both sides keep it alive and the server is open."""
        task = asyncio.current_task()
        assert task is not None
        if len(self._connections) >= self._max_connections or self.closing:
            writer.write(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            writer.close()
            return
        self._connections[task] = False
        conn = h11.Connection(h11.SERVER)
        try:
            while not self.closing:
                try:
                    async with asyncio.timeout(self.idle_s):
                        event = await _next_event(conn, reader)
                except TimeoutError:
                    break
                if not isinstance(event, h11.Request):
                    break
                self._connections[task] = True
                if not await _Exchange(self, conn, event, reader, writer).run():
                    break
                self._connections[task] = False
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    break
                conn.start_next_cycle()
        except h11.RemoteProtocolError as exc:
            log.info("room page: malformed request refused", extra={"error": str(exc)})
            await _Exchange(self, conn, None, reader, writer).reply(exc.error_status_hint)
        except (OSError, asyncio.CancelledError):  # client gone, or ``close`` (a 3.11 stream task must not end
            pass                                   # cancelled: asyncio would log it as an error)
        except Exception:  # the page must never take the daemon down with it
            log.warning("room page connection failed", exc_info=True)
        finally:
            self._connections.pop(task, None)
            writer.close()


async def _next_event(conn: h11.Connection, reader: asyncio.StreamReader) -> Any:
    """h11's next event, reading from the socket as needed (EOF gives ``ConnectionClosed``)."""
    while (event := conn.next_event()) is h11.NEED_DATA:
        conn.receive_data(await reader.read(_READ))
    return event


class _Exchange:
    """One request and its response: the ASGI ``receive`` and ``send`` of one app call."""

    def __init__(self, server: RoomServer, conn: h11.Connection, request: h11.Request | None,
                 reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.server, self.conn, self.request, self.reader, self.writer = server, conn, request, reader, writer
        self.head = request is not None and request.method == b"HEAD"
        self.started = self.finished = self.body_done = self.gone = False
        self.received = 0

    async def run(self) -> bool:
        """Call the app; True if the connection may serve another request."""
        assert self.request is not None
        length = dict(self.request.headers).get(b"content-length", b"0")
        if length.isdigit() and int(length) > self.server.max_body:
            await self.reply(413)
            return False
        try:
            await self.server.app(self.scope(self.request), self.receive, self.send)
        except _Abort:
            return False
        except Exception:
            level = logging.DEBUG if self.gone else logging.WARNING  # a client gone mid-request is no fault
            log.log(level, "room page request failed", extra={"path": self.request.target.decode("latin-1")},
                    exc_info=True)
            await self.reply(500)
            return False
        if not self.finished:
            log.warning("room page: the app returned without a complete response")
            await self.reply(500)
            return False
        return await self._drain()

    async def _drain(self) -> bool:
        """Read what the app left of the body (up to the limit); True if the connection is still usable."""
        while not (self.body_done or self.gone):
            try:
                await self._body()
            except _Abort:
                return False
        return not self.gone

    def scope(self, request: h11.Request) -> dict[str, Any]:
        """The ASGI HTTP scope of ``request``."""
        raw_path, _, query = bytes(request.target).partition(b"?")
        client, server = self.writer.get_extra_info("peername"), self.writer.get_extra_info("sockname")
        return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
                "http_version": request.http_version.decode("ascii"), "method": request.method.decode("ascii"),
                "scheme": "http", "path": unquote(raw_path.decode("latin-1")), "raw_path": raw_path,
                "query_string": query, "root_path": "", "headers": [(name, value) for name, value in request.headers],
                "client": tuple(client[:2]) if client else None, "server": tuple(server[:2]) if server else None}

    async def receive(self) -> Message:
        """The next piece of the body; once it is read, wait for the client to go (``http.disconnect``)."""
        if self.gone or self.finished:
            return _DISCONNECT
        if self.body_done:
            return await self._until_gone()
        return await self._body()

    async def _body(self) -> Message:
        """The next ``http.request`` piece from h11 (``http.disconnect`` at EOF)."""
        if self.conn.they_are_waiting_for_100_continue:
            await self._write(h11.InformationalResponse(status_code=100, headers=[]))
        try:
            async with asyncio.timeout(self.server.idle_s):
                event = await _next_event(self.conn, self.reader)
        except TimeoutError:
            await self.reply(408)
            raise _Abort from None
        except h11.RemoteProtocolError as exc:
            await self.reply(exc.error_status_hint)
            raise _Abort from None
        except OSError:
            event = h11.ConnectionClosed()
        if isinstance(event, h11.Data):
            self.received += len(event.data)
            if self.received > self.server.max_body:
                await self.reply(413)
                raise _Abort
            return {"type": "http.request", "body": bytes(event.data), "more_body": True}
        if isinstance(event, h11.EndOfMessage):
            self.body_done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        self.gone = True
        return _DISCONNECT

    async def _until_gone(self) -> Message:
        """Read until EOF; bytes of a pipelined next request wait in h11's buffer (up to the body limit)."""
        while True:
            try:
                data = await self.reader.read(_READ)
            except OSError:
                data = b""
            if not data or len(self.conn.trailing_data[0]) > self.server.max_body:
                self.gone = True
                return _DISCONNECT
            self.conn.receive_data(data)

    async def send(self, message: Message) -> None:
        """Write the app's response; ignored once the client is gone or the response was replaced."""
        if self.gone or self.finished:
            return
        if message["type"] == "http.response.start" and not self.started:
            headers = list(message.get("headers", []))
            if self.server.closing:
                headers.append((b"connection", b"close"))
            await self._write(h11.Response(status_code=message["status"], headers=headers,
                                           reason=_PHRASES.get(message["status"], "")))
            self.started = True
        elif message["type"] == "http.response.body" and self.started:
            body = message.get("body", b"")
            if body and not self.head:
                await self._write(h11.Data(data=body))
            if not message.get("more_body", False):
                self.finished = True
                await self._write(h11.EndOfMessage())
        else:
            raise RuntimeError(f"unexpected ASGI message {message['type']!r}")

    async def reply(self, status: int) -> None:
        """A short plain-text error response that closes the connection (nothing if a response has begun)."""
        if self.started or self.gone or self.conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            self.finished = True
            return
        self.started = self.finished = True
        reason = _PHRASES.get(status, "")
        body = f"{status} {reason}\n".encode()
        await self._write(h11.Response(status_code=status, reason=reason, headers=[
            (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close")]))
        if not self.head:
            await self._write(h11.Data(data=body))
        await self._write(h11.EndOfMessage())

    async def _write(self, event: Any) -> None:
        """Send one h11 event; a failed write marks the client gone."""
        data = self.conn.send(event)
        try:
            self.writer.write(data)
            await self.writer.drain()
        except OSError:
            self.gone = True
