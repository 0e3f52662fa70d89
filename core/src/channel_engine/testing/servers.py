"""Real HTTP for tests: run any ASGI app under uvicorn on a loopback port, and a webhook receiver.

    async with serve_app(app) as base_url:          # "http://127.0.0.1:<port>"
        ...

    receiver = WebhookReceiver()
    async with serve_app(receiver.app) as url:
        ...                                          # point webhooks at f"{url}/any/path"
        await receiver.wait_for(lambda got: len(got) >= 3)

The port is the kernel's choice (a socket bound to port 0), so tests run in parallel without clashes.
Start-up and shut-down are awaited, never slept for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Literal

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..server import bind, serving


@asynccontextmanager
async def serve_app(
    app: Any,
    *,
    host: str = "127.0.0.1",
    lifespan: Literal["auto", "on", "off"] = "auto",
    log_level: str = "warning",
) -> AsyncIterator[str]:
    """Serve `app` under uvicorn on a free port of `host`; yields the base URL. The app's lifespan runs
    before the first request and after the last."""
    sock = bind(host, 0)
    try:
        async with serving(app, sock, lifespan=lifespan, log_level=log_level) as url:
            yield url
    finally:
        sock.close()


class Received(msgspec.Struct):
    """One request the receiver accepted."""

    path: str
    body: Any  # the decoded JSON, or the raw bytes when the body is not JSON
    headers: dict[str, str]


class WebhookReceiver:
    """A small app that records every POST (any path) and answers 200; a stand-in for a webhook consumer.

    `fail_next(n, status)` makes it answer the next `n` requests with `status` (kept apart, in
    `refused_bodies`), to test retries. `wait_for(predicate)` awaits a condition on `received`, without
    polling."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refused_bodies: list[Any] = []
        self._failures = 0
        self._failure_status = 503
        self._changed = asyncio.Condition()
        self.app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST"])])

    @property
    def refused(self) -> int:
        """How many requests were answered with the `fail_next` status."""
        return len(self.refused_bodies)

    def fail_next(self, count: int, status: int = 503) -> None:
        self._failures = count
        self._failure_status = status

    def bodies(self, path: str) -> list[Any]:
        """The bodies received at `path`, in arrival order."""
        return [r.body for r in self.received if r.path == path]

    def results(self, path: str) -> list[dict[str, Any]]:
        """Every `results[]` entry received at `path`, in arrival order."""
        return [entry for body in self.bodies(path) for entry in body.get("results", [])]

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        async with self._changed:
            try:
                body: Any = msgspec.json.decode(raw)
            except msgspec.DecodeError:
                body = raw
            if self._failures > 0:
                self._failures -= 1
                self.refused_bodies.append(body)
                self._changed.notify_all()
                return Response(status_code=self._failure_status)
            self.received.append(Received(request.url.path, body, dict(request.headers)))
            self._changed.notify_all()
        return Response(status_code=200)

    async def wait_for(
        self, predicate: Callable[[list[Received]], bool], timeout: float = 5.0
    ) -> list[Received]:
        """Wait until `predicate(self.received)` holds; raises TimeoutError after `timeout` seconds."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: predicate(self.received))
        return self.received
