"""A loopback fake of Bloomreach Engagement's tracking API, written from its documented format:

    POST /track/v2/projects/{projectToken}/batch            up to 50 commands -> {"results": [...]}
    POST /track/v2/projects/{projectToken}/customers/events one event -> {"success": true}

Private access only: `Authorization: Basic base64(keyId:secret)`; a wrong key is 401, a project the key does
not belong to 403. A `customers/events` command needs at least one customer id, an event type and a
timestamp in seconds: the fake refuses a millisecond timestamp (Bloomreach would silently file the event
thousands of years ahead), so tests catch it. Knobs for tests: `down` (503), `throttle(n)` (the next n
requests get 429 and are discarded, as Bloomreach does), `refuse(predicate)` (matching commands answer
`success: false`).

    fake = FakeBloomreach()
    async with fake.running():
        project = fake.project_config(webhook_token=...)
        events = await fake.wait_for_events(lambda e: e["properties"]["status"] == "delivered", 2)
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channel_engine.testing.servers import serve_app

MAX_COMMANDS = 50
LATEST_SECONDS = 10_000_000_000  # year 2286: anything later is a timestamp in milliseconds

Event = dict[str, Any]


class FakeBloomreach:
    def __init__(
        self,
        *,
        project_token: str = "fake-project-token",
        key_id: str = "fake-key-id",
        secret: str = "fake-secret",
    ) -> None:
        self.project_token = project_token
        self.key_id = key_id
        self.secret = secret
        self.url = ""
        self.down = False
        self.events: list[Event] = []  # every event accepted, in order (the command's `data`)
        self.refused: list[tuple[Event, str]] = []  # every event answered `success: false`, and why
        self.requests: list[dict[str, Any]] = []  # every call: at, path, commands, status
        self._throttle = 0
        self._refuse: Callable[[Event], str | None] = lambda event: None
        self._changed = asyncio.Condition()
        projects = "/track/v2/projects/{token}"
        self.app = Starlette(
            routes=[
                Route(f"{projects}/batch", self._batch, methods=["POST"]),
                Route(f"{projects}/customers/events", self._event, methods=["POST"]),
            ]
        )

    # -- for tests ------------------------------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator[FakeBloomreach]:
        async with serve_app(self.app) as url:
            self.url = url
            yield self

    def project_config(self, webhook_token: str, **extra: Any) -> dict[str, Any]:
        """A project configuration document (for PUT /bloomreach/config/{token}) pointing at this fake."""
        return {
            "apiBaseUrl": self.url,
            "apiKeyId": self.key_id,
            "apiSecret": self.secret,
            "webhookToken": webhook_token,
            **extra,
        }

    def throttle(self, requests: int) -> None:
        """The next `requests` calls answer 429 (with Retry-After: 0) and their data is discarded."""
        self._throttle = requests

    def refuse(self, why: Callable[[Event], str | None]) -> None:
        """Commands whose event `why(event)` gives a reason for answer `success: false` with it."""
        self._refuse = why

    async def wait_for_events(
        self, match: Callable[[Event], bool] = lambda e: True, count: int = 1, timeout: float = 15.0
    ) -> list[Event]:
        """The accepted events that match, once there are at least `count`."""

        def found() -> list[Event]:
            return [e for e in self.events if match(e)]

        await self.wait_until(lambda: len(found()) >= count, timeout)
        return found()

    async def wait_until(self, done: Callable[[], bool], timeout: float = 15.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(done)

    # -- the API ----------------------------------------------------------------------------------------

    async def _batch(self, request: Request) -> Response:
        return await self._answer(request, batch=True)

    async def _event(self, request: Request) -> Response:
        return await self._answer(request, batch=False)

    async def _answer(self, request: Request, *, batch: bool) -> Response:
        record: dict[str, Any] = {"at": time.monotonic(), "path": request.url.path, "commands": 0}
        self.requests.append(record)
        response = self._refusal(request)
        body: Any = None
        if response is None:
            try:
                body = msgspec.json.decode(await request.body())
            except msgspec.DecodeError:
                response = _error(400, "request body is not valid JSON")
        if response is None and batch:
            commands = body.get("commands") if isinstance(body, dict) else None
            if not isinstance(commands, list) or not commands:
                response = _error(400, "commands: a non-empty list is required")
            elif len(commands) > MAX_COMMANDS:
                response = _error(400, f"commands: at most {MAX_COMMANDS} commands per batch")
            else:
                record["commands"] = len(commands)
                response = JSONResponse({"results": [self._command(c) for c in commands], "success": True})
        elif response is None:
            result = self._track(body)
            response = JSONResponse(result, status_code=200)
        record["status"] = response.status_code
        async with self._changed:
            self._changed.notify_all()
        return response

    def _refusal(self, request: Request) -> Response | None:
        if self.down:
            return _error(503, "Service Unavailable")
        if self._throttle > 0:
            self._throttle -= 1
            return JSONResponse(
                {"success": False, "errors": ["rate limit exceeded"]}, 429, {"Retry-After": "0"}
            )
        expected = base64.b64encode(f"{self.key_id}:{self.secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return _error(401, "access key or secret is not valid")
        if request.path_params["token"] != self.project_token:
            return _error(403, "the access key has no access to this project")
        return None

    def _command(self, command: Any) -> dict[str, Any]:
        if not isinstance(command, dict):
            return {"success": False, "errors": ["command must be an object"]}
        name = command.get("name")
        if name == "system/time":
            return {"success": True, "time": time.time()}
        if name != "customers/events":
            return {"success": False, "errors": [f"unknown command {name!r}"]}
        return self._track(command.get("data"))

    def _track(self, event: Any) -> dict[str, Any]:
        problem = _event_problem(event)
        if problem is None:
            problem = self._refuse(event)
        if problem is not None:
            self.refused.append((event, problem))
            return {"success": False, "errors": [problem]}
        self.events.append(event)
        return {"success": True}


def _event_problem(event: Any) -> str | None:
    if not isinstance(event, dict):
        return "data must be an object"
    ids = event.get("customer_ids")
    if (
        not isinstance(ids, dict)
        or not ids
        or not all(isinstance(v, str | int) and v != "" for v in ids.values())
    ):
        return "customer_ids: at least one customer id is required"
    if not isinstance(event.get("event_type"), str) or not event["event_type"]:
        return "event_type is required"
    stamp = event.get("timestamp")
    if stamp is not None and (not isinstance(stamp, int | float) or not 0 < stamp < LATEST_SECONDS):
        return "timestamp must be UNIX time in seconds"
    if not isinstance(event.get("properties", {}), dict):
        return "properties must be an object"
    return None


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"success": False, "errors": [message]}, status_code=status)
