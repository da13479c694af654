"""The room page's HTTP/1.1 server over real sockets: keep-alive, bodies, streams, limits, errors, shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from gateway.room._server import RoomServer


class Seen:
    """What the test app observed."""

    def __init__(self) -> None:
        self.stream_ended = asyncio.Event()
        self.slow_started = asyncio.Event()


def tiny_app(seen: Seen) -> Starlette:
    async def client_port(request: Request) -> Response:
        assert request.client is not None
        return PlainTextResponse(str(request.client.port))

    async def form(request: Request) -> Response:
        fields = []
        for key, value in (await request.form()).multi_items():
            fields.append(f"{key}={value if isinstance(value, str) else (await value.read()).decode()}")
        return PlainTextResponse(";".join(fields))

    async def echo_length(request: Request) -> Response:
        return PlainTextResponse(str(len(await request.body())))

    async def stream(request: Request) -> Response:
        async def events() -> AsyncIterator[str]:
            try:
                for n in range(1000):
                    yield f"data: {n}\n\n"
                    await asyncio.sleep(0.02)
            finally:
                seen.stream_ended.set()
        return StreamingResponse(events(), media_type="text/event-stream")

    async def fail(request: Request) -> Response:
        raise RuntimeError("the page broke")

    async def slow(request: Request) -> Response:
        seen.slow_started.set()
        await asyncio.sleep(float(request.query_params["s"]))
        return PlainTextResponse("done")

    async def scope(request: Request) -> Response:
        keys = ("type", "http_version", "method", "scheme", "path", "raw_path", "query_string", "root_path")
        return PlainTextResponse(repr({key: request.scope[key] for key in keys} | {
            "asgi": request.scope["asgi"]["version"], "headers": dict(request.scope["headers"])[b"x-probe"],
            "server": request.scope["server"][0]}))

    return Starlette(routes=[Route("/port", client_port), Route("/form", form, methods=["POST"]),
                             Route("/length", echo_length, methods=["POST"]), Route("/stream", stream),
                             Route("/fail", fail), Route("/slow", slow), Route("/sc ope", scope)])


def served(scenario: Callable[[RoomServer, str, Seen], Awaitable[None]], app: Any = None, **options: Any) -> None:
    """Run ``scenario(server, base_url, seen)`` against a started server, closing it afterwards."""
    async def main() -> None:
        seen = Seen()
        server = RoomServer(app or tiny_app(seen), **options)
        port = await server.start("127.0.0.1", 0)
        try:
            await scenario(server, f"http://127.0.0.1:{port}", seen)
        finally:
            await server.close()
    asyncio.run(main())


async def raw(base: str, *chunks: bytes, pause: float = 0.0) -> bytes:
    """Write ``chunks`` on a fresh connection (``pause`` between them); everything read until the server closes."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    for chunk in chunks:
        writer.write(chunk)
        await writer.drain()
        await asyncio.sleep(pause)
    data = await asyncio.wait_for(reader.read(-1), 5)
    writer.close()
    return data


def test_two_requests_share_one_kept_alive_connection():
    async def scenario(server: RoomServer, base: str, seen: Seen) -> None:
        async with httpx.AsyncClient(base_url=base) as client:
            first, second = (await client.get("/port")), (await client.get("/port"))
        assert first.status_code == second.status_code == 200
        assert first.text == second.text  # the same client port: one connection
        assert first.headers["content-length"] == str(len(first.text))
    served(scenario)


def test_scope_carries_what_starlette_reads():
    async def scenario(server: RoomServer, base: str, seen: Seen) -> None:
        async with httpx.AsyncClient(base_url=base) as client:
            response = await client.get("/sc%20ope?a=1&b=%C3%A9", headers={"X-Probe": "yes"})
        assert response.status_code == 200, response.text
        assert eval(response.text) == {  # noqa: S307 (our own repr)
            "type": "http", "http_version": "1.1", "method": "GET", "scheme": "http", "path": "/sc ope",
            "raw_path": b"/sc%20ope", "query_string": b"a=1&b=%C3%A9", "root_path": "", "asgi": "3.0",
            "headers": b"yes", "server": "127.0.0.1"}
    served(scenario)


def test_form_body_split_over_several_writes_reaches_the_app():
    async def scenario(server: RoomServer, base: str, seen: Seen) -> None:
        body = "name=%E8%8F%A0%E8%8F%9C&channel=any&operator=tech-li".encode()
        head = (f"POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        reply = await raw(base, head[:20], head[20:], body[:7], body[7:30], body[30:], pause=0.05)
        assert reply.startswith(b"HTTP/1.1 200 OK\r\n")
        assert reply.endswith("name=菠菜;channel=any;operator=tech-li".encode())
    served(scenario)


def test_multipart_and_chunked_bodies():
    async def scenario(server: RoomServer, base: str, seen: Seen) -> None:
        async def pieces() -> AsyncIterator[bytes]:
            for _ in range(5):
                yield b"x" * 1000
                await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=base) as client:
            multipart = await client.post("/form", data={"kit_lot": "EI-2411"}, files={"photo": ("a.txt", b"abc")})
            chunked = await client.post("/length", content=pieces())
        assert (multipart.status_code, multipart.text) == (200, "kit_lot=EI-2411;photo=abc")
        assert (chunked.status_code, chunked.text) == (200, "5000")
    served(scenario)


def test_event_stream_arrives_as_it_comes_and_ends_when_the_client_goes():
    async def scenario(server: RoomServer, base: str, seen: Seen) -> None:
        async with httpx.AsyncClient(base_url=base) as client, client.stream("GET", "/stream") as response:
            assert "content-length" not in response.headers
            assert response.headers["transfer-encoding"] == "chunked"
            lines = response.aiter_lines()
            assert [await anext(lines) for _ in range(4)] == ["data: 0", "", "data: 1", ""]
            assert not seen.stream_ended.is_set()
        await asyncio.wait_for(seen.stream_ended.wait(), 2)  # the app saw http.disconnect
    served(scenario)


def test_oversized_body_is_refused_with_413():
    async def scenario(server: RoomServer, base: str, seen: Seen) -> None:
        declared = await raw(base, b"POST /length HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n" + b"x" * 100)
        assert declared.startswith(b"HTTP/1.1 413 ")

        async def pieces() -> AsyncIterator[bytes]:
            for _ in range(3):
                yield b"x" * 900
        async with httpx.AsyncClient(base_url=base) as client:
            chunked = await client.post("/length", content=pieces())
            assert chunked.status_code == 413
            assert (await client.post("/length", content=b"x" * 1000)).text == "1000"  # at the limit: served
    served(scenario, max_body=1000)


def test_garbage_gets_400_and_the_next_connection_is_served(caplog):
    caplog.set_level(logging.INFO, "gateway.room")
    async def scenario(server: RoomServer, base: str, seen: Seen) -> None:
        reply = await raw(base, b"\x00\x01 not http at all\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 400 Bad Request\r\n") and b"connection: close" in reply.lower()
        async with httpx.AsyncClient(base_url=base) as client:
            assert (await client.get("/port")).status_code == 200
    served(scenario)
    assert any(r.getMessage() == "room page: malformed request refused" for r in caplog.records)


def test_app_exception_is_a_500_and_a_warning(caplog):
    async def broken(scope: dict, receive: Any, send: Any) -> None:
        raise RuntimeError("before any response")

    async def starlette_app(server: RoomServer, base: str, seen: Seen) -> None:
        async with httpx.AsyncClient(base_url=base) as client:
            assert (await client.get("/fail")).status_code == 500
            assert (await client.get("/port")).status_code == 200  # a new connection, same server

    async def bare_app(server: RoomServer, base: str, seen: Seen) -> None:
        assert (await raw(base, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")).startswith(b"HTTP/1.1 500 ")

    with caplog.at_level(logging.WARNING, "gateway.room"):
        served(starlette_app)
        served(bare_app, app=broken)
    failures = [r for r in caplog.records if r.getMessage() == "room page request failed"]
    assert len(failures) == 2 and all(r.levelno == logging.WARNING for r in failures)


def test_head_has_headers_and_no_body():
    async def scenario(server: RoomServer, base: str, seen: Seen) -> None:
        reply = await raw(base, b"HEAD /port HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK") and b"content-length: 5" in head.lower() and body == b""
    served(scenario)


def test_close_lets_an_open_request_finish_and_cuts_one_that_takes_too_long():
    async def scenario(server: RoomServer, base: str, seen: Seen) -> None:
        loop = asyncio.get_running_loop()
        async with httpx.AsyncClient(base_url=base) as client:
            idle = await client.get("/port")  # a kept-alive idle connection must not hold up close()
            assert idle.status_code == 200
            quick = asyncio.create_task(client.get("/slow?s=0.3"))
            await seen.slow_started.wait()
            started = loop.time()
            await server.close()
            assert loop.time() - started < 1.0
            response = await quick
            assert (response.status_code, response.text, response.headers["connection"]) == (200, "done", "close")
        try:
            await httpx.AsyncClient().get(f"{base}/port")
            raise AssertionError("still listening after close")
        except httpx.ConnectError:
            pass
    served(scenario)

    async def stuck(server: RoomServer, base: str, seen: Seen) -> None:
        loop = asyncio.get_running_loop()
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            hanging = asyncio.create_task(client.get("/slow?s=60"))
            await seen.slow_started.wait()
            started = loop.time()
            await server.close()
            assert 0.4 < loop.time() - started < 1.5
            try:
                await hanging
                raise AssertionError("the hanging request was answered")
            except httpx.RemoteProtocolError:
                pass
    served(stuck, grace_s=0.5)


def test_idle_connection_is_closed_after_the_timeout():
    async def scenario(server: RoomServer, base: str, seen: Seen) -> None:
        host, port = base.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        assert await asyncio.wait_for(reader.read(), 2) == b""  # closed, nothing sent
        writer.close()
    served(scenario, idle_s=0.2)


def test_busy_port_fails_at_start():
    async def scenario() -> None:
        first = RoomServer(tiny_app(Seen()))
        port = await first.start("127.0.0.1", 0)
        try:
            await RoomServer(tiny_app(Seen())).start("127.0.0.1", port)
            raise AssertionError("bound a busy port")
        except OSError:
            pass
        finally:
            await first.close()
    asyncio.run(scenario())
