"""Running ASGI apps under uvicorn on a socket we bind ourselves, so port 0 works and the real port is
known before the app starts (the engine puts it in the webhook URLs it gives Infobip)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Bytes held at most: a larger body goes to the socket at once, where the transport's flow control sees it
# (a streamed answer waits for the client instead of piling up in memory).
HOLD_MOST = 64 * 1024


class CoalescingTransport:
    """A connection's transport that sends what is written during one turn of the event loop in one go.

    Uvicorn writes a response's head and its body separately: two system calls and two TCP segments for
    every small answer, and on loopback each send also runs the receiving side's network stack. Holding
    the writes until the turn ends sends head and body together; order is kept, and nothing waits longer
    than the rest of the current turn, nor more than HOLD_MOST bytes. Everything but writing and closing
    is the real transport's."""

    __slots__ = ("_held", "_held_bytes", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] | None = None
        self._held_bytes = 0

    def write(self, data: bytes) -> None:
        if self._held is None:
            if len(data) >= HOLD_MOST:
                self._transport.write(data)
                return
            self._held = [data]
            self._held_bytes = len(data)
            self._loop.call_soon(self._flush)
        else:
            self._held.append(data)
            self._held_bytes += len(data)
            if self._held_bytes >= HOLD_MOST:
                self._flush()

    def _flush(self) -> None:
        held, self._held = self._held, None
        if held and not self._transport.is_closing():
            self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HttpProtocol(HttpToolsProtocol):
    """Uvicorn's httptools protocol, writing through a `CoalescingTransport`: one send per response."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}"


def make_config(
    app: Any, *, log_level: str = "warning", access_log: bool = False, **options: Any
) -> uvicorn.Config:
    """Our uvicorn settings; `options` adds or overrides uvicorn.Config arguments (`http="httptools"` for
    uvicorn's own protocol, as the benchmarks' bare baseline runs)."""
    settings: dict[str, Any] = {
        "loop": "none",  # run in the caller's event loop
        "http": HttpProtocol,
        "timeout_graceful_shutdown": 5,
        "backlog": 2048,
        **options,
    }
    return uvicorn.Config(app, log_level=log_level, access_log=access_log, **settings)


def make_server(
    app: Any, *, log_level: str = "warning", access_log: bool = False, lifespan: str = "on", **options: Any
) -> uvicorn.Server:
    return uvicorn.Server(
        make_config(app, log_level=log_level, access_log=access_log, lifespan=lifespan, **options)
    )


def serve_workers(factory: str, sock: socket.socket, workers: int, **options: Any) -> None:
    """Run `workers` processes of the app that `factory` ("module:function") builds, all accepting on
    `sock`, under uvicorn's supervisor: a worker that dies is replaced, SIGTERM stops them all, SIGHUP
    replaces them one by one."""
    from uvicorn.supervisors import Multiprocess

    config = make_config(factory, factory=True, workers=workers, loop="auto", **options)
    Multiprocess(config, sockets=[sock]).run()


@contextlib.asynccontextmanager
async def serving(app: Any, sock: socket.socket | None = None, **options: Any) -> AsyncIterator[str]:
    """Serve `app` in this event loop until the block ends; yields its base URL once the app's start-up
    (lifespan) has completed and the socket accepts calls."""
    sock = sock or bind()
    server = make_server(app, **options)
    server.config.load()
    # Server.serve() would also install signal handlers and poll for an exit flag; startup() and
    # shutdown() are the two halves of it an embedded server needs.
    server.lifespan = server.config.lifespan_class(server.config)
    try:
        await server.startup(sockets=[sock])
    except SystemExit as exc:  # uvicorn's way of saying the lifespan start-up failed
        raise RuntimeError(f"the app failed to start under uvicorn (exit code {exc.code})") from None
    try:
        yield url_of(sock)
    finally:
        await server.shutdown(sockets=[sock])
