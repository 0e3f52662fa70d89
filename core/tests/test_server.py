"""The engine's HTTP protocol: each turn's writes leave as one send, over real loopback connections."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from channel_engine import server

pytestmark = pytest.mark.asyncio
LARGE_CHUNK = 16 * 1024
LARGE_CHUNKS = 64


class _Recording:
    """The socket's transport, recording what is handed to it."""

    def __init__(self, transport: asyncio.Transport, sent: list[bytes]) -> None:
        self._transport = transport
        self._sent = sent

    def write(self, data: bytes) -> None:
        self._sent.append(bytes(data))
        self._transport.write(data)

    def __getattr__(self, name: str) -> object:
        return getattr(self._transport, name)


def recording(base: type[HttpToolsProtocol], sent: list[bytes]) -> type[HttpToolsProtocol]:
    class Recorded(base):  # type: ignore[misc,valid-type]
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(_Recording(transport, sent))

    return Recorded


def app(release: asyncio.Event | None = None) -> Starlette:
    async def small(request: Request) -> Response:
        return JSONResponse({"ok": True, "body": (await request.body()).decode()})

    async def stream(request: Request) -> Response:
        async def chunks():  # type: ignore[no-untyped-def]
            yield b"first;"
            assert release is not None
            await release.wait()  # the client has the first chunk before this goes on
            yield b"second;"
            yield b"third"

        return StreamingResponse(chunks(), media_type="text/plain")

    async def large(request: Request) -> Response:
        async def chunks():  # type: ignore[no-untyped-def]
            for i in range(LARGE_CHUNKS):  # never waits: only the transport's flow control can pace it
                yield bytes([65 + i % 26]) * LARGE_CHUNK

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    return Starlette(
        routes=[
            Route("/small", small, methods=["GET", "POST"]),
            Route("/stream", stream),
            Route("/large", large),
        ]
    )


async def test_a_small_response_leaves_in_one_send_where_uvicorns_own_protocol_makes_two() -> None:
    ours: list[bytes] = []
    stock: list[bytes] = []
    serving = server.serving(app(), http=recording(server.HttpProtocol, ours))
    async with serving as url, httpx.AsyncClient(base_url=url) as client:
        for i in range(3):
            answer = await client.post("/small", content=f"call {i}")
            assert answer.json() == {"ok": True, "body": f"call {i}"}
    serving = server.serving(app(), http=recording(HttpToolsProtocol, stock))
    async with serving as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/small")).status_code == 200

    assert len(ours) == 3  # head and body together, once per response
    for i, sent in enumerate(ours):
        assert sent.startswith(b"HTTP/1.1 200 OK\r\n")
        assert sent.endswith(b'{"ok":true,"body":"call %d"}' % i)
    assert len(stock) == 2 and stock[0].endswith(b"\r\n\r\n")  # what the engine's protocol saves


async def test_a_streamed_response_is_not_held_past_the_turn_that_wrote_it() -> None:
    release = asyncio.Event()
    async with server.serving(app(release)) as url:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(f"GET /stream HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        received = b""
        while b"first;" not in received:  # would wait for ever if the head and first chunk were held
            received += await asyncio.wait_for(reader.read(4096), 5)
        assert b"second" not in received
        release.set()
        while not received.endswith(b"0\r\n\r\n"):
            received += await asyncio.wait_for(reader.read(4096), 5)
        writer.close()
    body = received.split(b"\r\n\r\n", 1)[1]
    assert body == b"6\r\nfirst;\r\n7\r\nsecond;\r\n5\r\nthird\r\n0\r\n\r\n"


async def test_pipelined_requests_are_answered_in_order_and_closing_sends_what_was_held() -> None:
    async with server.serving(app()) as url:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        calls = [
            f"POST /small HTTP/1.1\r\nHost: {host}\r\nContent-Length: 3\r\n\r\none",
            f"POST /small HTTP/1.1\r\nHost: {host}\r\nContent-Length: 3\r\n\r\ntwo",
            f"POST /small HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nthree",
        ]
        writer.write("".join(calls).encode())
        received = await asyncio.wait_for(reader.read(), 5)  # to the end: the server closed after the third
        writer.close()
    assert received.count(b"HTTP/1.1 200 OK") == 3
    bodies = [b'"body":"one"', b'"body":"two"', b'"body":"three"']
    assert [received.find(b) for b in bodies] == sorted(received.find(b) for b in bodies)
    assert received.endswith(b'"body":"three"}')


async def test_a_large_streamed_answer_is_not_held_whole_but_sent_as_it_grows() -> None:
    sent: list[bytes] = []
    serving = server.serving(app(), http=recording(server.HttpProtocol, sent))
    async with serving as url, httpx.AsyncClient(base_url=url) as client:
        answer = await client.get("/large")
    assert answer.content == b"".join(bytes([65 + i % 26]) * LARGE_CHUNK for i in range(LARGE_CHUNKS))
    assert b"".join(sent).endswith(b"0\r\n\r\n")
    # Held up to HOLD_MOST at a time, so the transport's flow control sees the body as it is made.
    assert len(sent) >= LARGE_CHUNK * LARGE_CHUNKS // server.HOLD_MOST
    assert max(len(data) for data in sent) < server.HOLD_MOST + LARGE_CHUNK + 64
