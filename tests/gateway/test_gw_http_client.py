"""gateway.http_client against real sockets: requests as sent, keep-alive, and every failure as HttpFailed."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

import pytest

from gateway.http_client import HttpClient, HttpFailed, Reply, client_for, describe

from .gw_standin_lims import free_port

Answer = Callable[[bytes, dict[str, str], bytes], Awaitable[bytes | None]]


class Server:
    """An asyncio HTTP/1.1 server on 127.0.0.1: reads each request whole, ``answer`` gives the raw reply."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.requests: list[tuple[bytes, dict[str, str], bytes]] = []
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()  # handlers still waiting are cancelled when asyncio.run ends

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                line, *fields = head.decode("latin-1").split("\r\n")[:-2]
                headers = {name.strip().lower(): value.strip()
                           for name, value in (field.split(":", 1) for field in fields)}
                body = await reader.readexactly(int(headers.get("content-length", 0)))
                self.requests.append((line.encode(), headers, body))
                reply = await self.answer(line.encode(), headers, body)
                if reply is None:
                    return
                writer.write(reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def ok(body: bytes, status: str = "200 OK", content_type: str = "application/json") -> bytes:
    return (f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n\r\n"
            .encode() + body)


async def echo(line: bytes, headers: dict[str, str], body: bytes) -> bytes:
    return ok(json.dumps({"line": line.decode(), "length": len(body)}).encode())


def test_requests_go_out_as_given_and_reuse_one_connection():
    async def scenario() -> list[Reply]:
        async with Server(echo) as server, client_for(server.url, timeout_s=2.0) as client:
            replies = [await client.post(f"{server.url}/api/v1/ingest", content=b"a\nb\n",
                                         headers={"Content-Type": "application/x-ndjson"}),
                       await client.post(f"{server.url}/beat?x=1", json={"gateway": "gw-1", "名": 1.5}),
                       await client.put(f"{server.url}/api/v1/evidence/ab", content=b"\x89PNG"),
                       await client.get(f"{server.url}/")]
            assert server.connections == 1, "keep-alive: every request on the same connection"
            (_, ingest, _), (_, beat, sent), (_, put, _), (_, get, _) = server.requests
            assert ingest["content-type"] == "application/x-ndjson" and ingest["content-length"] == "4"
            assert ingest["host"] == server.url.removeprefix("http://")
            assert beat["content-type"] == "application/json"
            assert json.loads(sent) == {"gateway": "gw-1", "名": 1.5}
            assert put["content-length"] == "4" and "content-length" not in get
            return replies

    replies = asyncio.run(scenario())
    assert [r.json()["line"] for r in replies] == ["POST /api/v1/ingest HTTP/1.1", "POST /beat?x=1 HTTP/1.1",
                                                   "PUT /api/v1/evidence/ab HTTP/1.1", "GET / HTTP/1.1"]
    assert replies[0].status == 200 and replies[0].headers["content-type"] == "application/json"
    assert replies[0].json()["length"] == 4


def test_an_error_status_is_a_reply_not_an_exception():
    async def refuse(line: bytes, headers: dict[str, str], body: bytes) -> bytes:
        return ok("无效 gateway".encode(), "403 Forbidden", "text/plain; charset=utf-8")

    async def scenario() -> Reply:
        async with Server(refuse) as server, HttpClient(2.0) as client:
            return await client.post(server.url + "/x", content=b"{}")

    reply = asyncio.run(scenario())
    assert (reply.status, reply.text) == (403, "无效 gateway")
    with pytest.raises(ValueError):
        reply.json()


def test_connection_refused_is_http_failed():
    async def scenario() -> None:
        async with HttpClient(2.0) as client:
            await client.get(f"http://127.0.0.1:{free_port()}/")

    with pytest.raises(HttpFailed, match="^ConnectError: ") as caught:
        asyncio.run(scenario())
    assert describe(caught.value).startswith("ConnectError: ")
    assert describe(OSError("gone")) == "OSError: gone"


def test_a_silent_server_is_a_read_timeout_within_the_limit():
    async def stall(line: bytes, headers: dict[str, str], body: bytes) -> bytes:
        await asyncio.sleep(30)
        return ok(b"{}")

    async def scenario() -> None:
        async with Server(stall) as server, HttpClient(0.3) as client:
            await client.post(server.url + "/x", content=b"{}")

    started = time.monotonic()
    with pytest.raises(HttpFailed, match="^ReadTimeout"):
        asyncio.run(scenario())
    assert time.monotonic() - started < 5


def test_a_per_request_timeout_overrides_the_clients():
    async def slow(line: bytes, headers: dict[str, str], body: bytes) -> bytes:
        await asyncio.sleep(0.5)
        return ok(b"{}")

    async def scenario() -> Reply:
        async with Server(slow) as server, HttpClient(0.1) as client:
            return await client.get(server.url + "/", timeout_s=3.0)

    assert asyncio.run(scenario()).status == 200


@pytest.mark.parametrize("reply", [b"this is not HTTP\r\n\r\n", None])
def test_garbage_or_a_hang_up_is_http_failed(reply):
    async def bad(line: bytes, headers: dict[str, str], body: bytes) -> bytes | None:
        return reply

    async def scenario() -> None:
        async with Server(bad) as server, HttpClient(2.0) as client:
            await client.get(server.url + "/")

    with pytest.raises(HttpFailed, match="^RemoteProtocolError"):
        asyncio.run(scenario())


@pytest.mark.parametrize("url", ["ftp://lims.example/x", "http:///x", "http://lims.example:99999/x", "lims.example"])
def test_an_unusable_url_is_http_failed(url):
    async def scenario() -> None:
        async with HttpClient(2.0) as client:
            await client.get(url)

    with pytest.raises(HttpFailed, match="^InvalidURL: "):
        asyncio.run(scenario())


def test_a_gateway_without_camera_never_imports_httpx():
    import subprocess
    import sys

    code = ("import sys; import gateway.daemon, gateway.uplink_http, gateway.heartbeat, gateway.roster_sync, "
            "gateway.evidence_upload, gateway.sink, gateway.room_camera; "
            "print('httpx' in sys.modules, 'httpcore' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
