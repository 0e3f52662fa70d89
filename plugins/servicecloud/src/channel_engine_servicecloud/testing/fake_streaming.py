"""A loopback fake of Salesforce's Streaming API for platform events (CometD / Bayeux long-polling), written
from Salesforce's Streaming API guide:

    POST /cometd/{apiVersion}    a JSON array of Bayeux messages in, a JSON array of replies (and events) out

- `/meta/handshake` gives a clientId (ext `{"replay": true}`) and a BAYEUX_BROWSER cookie, which every later
  call must send back ("400::... no BAYEUX_BROWSER cookie present" otherwise).
- `/meta/subscribe` to `/event/<Name>__e` with ext `{"replay": {channel: id}}`: -1 new events only, -2 every
  retained event, a retained id the events after it, any other id "400::The replayId {id} you provided was
  invalid. ..."; without the replay extension in the handshake the replay map is ignored (-1).
- `/meta/connect`: a long poll, answered as soon as an event for a subscribed channel is there (events first,
  then the connect reply) or after `timeout` seconds with the connect reply alone; advice
  `{"reconnect": "retry", "interval": 0, "timeout": <ms>}`.
- `/meta/unsubscribe`, `/meta/disconnect`.
- An unknown clientId: "403::Unknown client" with advice `reconnect: handshake`.
- Every request is authorized with `authorize(Authorization header)`. Refused: HTTP 401 with Salesforce's
  Bayeux errors ("403::Handshake denied" with `ext.sfdc.failureReason` "401::Authentication invalid" on a
  handshake, "401::Authentication invalid" with advice `reconnect: none` otherwise). A waiting long poll
  checks again when `recheck_authorization()` is called, as Salesforce re-validates connected clients.

    fake = FakeStreamingApi(lambda header: header == "Bearer token")
    async with serve_app(Starlette(routes=fake.routes)) as url:
        replay_id = fake.publish("/event/Infobip_Event__e", {"EventType__c": "Interaction", ...})
        await fake.wait_until(lambda: fake.waiting == 1)

Knobs and records for tests: `drop_clients()`, `recheck_authorization()`, `fail_next(n, status)`, `close()`,
`advice` (overrides the connect replies' advice), `subscriptions`, `handshakes`, `connects`, `waiting`,
`client_ids`.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

FIRST_REPLAY_ID = 1000
COOKIE = "BAYEUX_BROWSER"
CREATED_BY = "005000000000001AAA"  # the user whose action published the event
Message = dict[str, Any]


class Subscription(msgspec.Struct, frozen=True):
    """A subscribe the fake answered: with which replay id, and whether it was accepted."""

    client_id: str
    topic: str
    replay_id: int
    accepted: bool


class _Client:
    def __init__(self, client_id: str, replay: bool) -> None:
        self.client_id = client_id
        self.replay = replay  # the handshake asked for the replay extension
        self.cursors: dict[str, int] = {}  # subscribed channel -> the last replay id handed to this client


class FakeStreamingApi:
    def __init__(
        self, authorize: Callable[[str | None], bool], *, retention: int = 1000, timeout: float = 30.0
    ) -> None:
        self.authorize = authorize
        self.retention = retention
        self.timeout = timeout
        self.handshakes = 0
        self.waiting = 0  # long polls being held right now
        self.subscriptions: list[Subscription] = []
        self.connects: list[float] = []  # when each /meta/connect arrived (loop time)
        self.advice: dict[str, Any] = {}  # overrides the connect replies' advice, e.g. {"interval": 100}
        self._events: dict[str, deque[tuple[int, Message]]] = {}
        self._last_id = FIRST_REPLAY_ID - 1
        self._clients: dict[str, _Client] = {}
        self._browsers: set[str] = set()
        self._failures = 0
        self._failure_status = 503
        self._closing = False
        self._wakeup = asyncio.Event()
        self.routes = [Route("/cometd/{version}", self._bayeux, methods=["POST"])]

    # -- for tests ----------------------------------------------------------------------------------------

    def publish(self, topic: str, payload: dict[str, Any]) -> int:
        """Store an event on `topic` (keeping the last `retention`) and wake the long polls; its replay id."""
        self._last_id += 1
        data = {
            "schema": "fake-" + hashlib.sha256(topic.encode()).hexdigest()[:22],
            "payload": {
                "CreatedDate": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                "CreatedById": CREATED_BY,
                **payload,
            },
            "event": {"replayId": self._last_id, "EventUuid": str(uuid.uuid4())},
        }
        events = self._events.setdefault(topic, deque(maxlen=self.retention))
        events.append((self._last_id, {"channel": topic, "data": data}))
        self._notify()
        return self._last_id

    def drop_clients(self) -> None:
        """Forget every clientId, as Salesforce does after a server restart or an idle client's expiry."""
        self._clients.clear()
        self._notify()

    def recheck_authorization(self) -> None:
        """Make every waiting long poll check its token again (answering "401::Authentication invalid")."""
        self._notify()

    def fail_next(self, count: int, status: int = 503) -> None:
        """The next `count` requests answer `status` with no Bayeux body."""
        self._failures, self._failure_status = count, status

    def close(self) -> None:
        """Answer every waiting long poll now, and later ones at once (for a server that shuts down)."""
        self._closing = True
        self._notify()

    @property
    def client_ids(self) -> list[str]:
        return list(self._clients)

    async def wait_until(self, done: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until `done()` holds; it is checked after every request and every change."""
        async with asyncio.timeout(timeout):
            while not done():
                await self._wakeup.wait()

    def _notify(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    # -- the endpoint ---------------------------------------------------------------------------------------

    async def _bayeux(self, request: Request) -> Response:
        try:
            return await self._answer(request)
        finally:
            self._notify()

    async def _answer(self, request: Request) -> Response:
        if self._failures > 0:
            self._failures -= 1
            return Response("Service Unavailable", status_code=self._failure_status)
        if not re.fullmatch(r"\d{2,3}\.0", request.path_params["version"]):
            return _refused(400, "400::API version in the URI is mandatory. URI format: '/cometd/63.0'")
        try:
            body = msgspec.json.decode(await request.body())
        except msgspec.DecodeError:
            return _refused(400, "400::The request body is not JSON")
        messages = body if isinstance(body, list) else [body]
        if not messages or not all(
            isinstance(m, dict) and isinstance(m.get("channel"), str) for m in messages
        ):
            return _refused(400, "400::Every Bayeux message needs a channel")
        header = request.headers.get("authorization")
        if not self.authorize(header):
            return JSONResponse([_unauthorized(m, header) for m in messages], status_code=401)
        replies: list[Message] = []
        browser: str | None = None
        for message in messages:
            channel = message["channel"]
            if channel == "/meta/handshake":
                reply, browser = self._handshake(message)
                replies.append(reply)
                continue
            client = self._clients.get(str(message.get("clientId")))
            if channel not in ("/meta/subscribe", "/meta/unsubscribe", "/meta/connect", "/meta/disconnect"):
                replies.append(_reply(message, False, error=f"400::Channel {channel} is not supported here"))
            elif client is None:
                replies.append(_unknown_client(message))
            elif request.cookies.get(COOKIE) not in self._browsers:
                error = f"400::Client {client.client_id} has established a session, but no {COOKIE} cookie"
                replies.append(_reply(message, False, error=error + " present"))
            elif channel == "/meta/subscribe":
                replies.append(self._subscribe(message, client))
            elif channel == "/meta/unsubscribe":
                client.cursors.pop(str(message.get("subscription")), None)
                replies.append(_reply(message, True, subscription=message.get("subscription")))
            elif channel == "/meta/disconnect":
                self._clients.pop(client.client_id, None)
                replies.append(_reply(message, True))
            else:
                answer = await self._connect(message, client, request, header)
                if answer is None:
                    return Response(status_code=204)  # the caller has gone; nobody reads this
                replies.extend(answer)
        response = JSONResponse(replies)
        if browser is not None:
            response.set_cookie(COOKIE, browser, path="/", httponly=True)
        return response

    def _handshake(self, message: Message) -> tuple[Message, str | None]:
        if "long-polling" not in (message.get("supportedConnectionTypes") or []):
            return _reply(message, False, error="400::Invalid connection type"), None
        self.handshakes += 1
        client = _Client(secrets.token_hex(13), (message.get("ext") or {}).get("replay") is True)
        self._clients[client.client_id] = client
        browser = secrets.token_hex(16)
        self._browsers.add(browser)
        reply = _reply(
            message,
            True,
            clientId=client.client_id,
            version="1.0",
            minimumVersion="1.0",
            supportedConnectionTypes=["long-polling"],
            ext={"replay": True, "payload.format": True},
        )
        return reply, browser

    def _subscribe(self, message: Message, client: _Client) -> Message:
        topic = message.get("subscription")
        base = {"clientId": client.client_id, "subscription": topic}
        if not isinstance(topic, str) or not topic.startswith("/event/"):
            error = f"400::The channel you requested to subscribe to does not exist {{{topic}}}"
            return _reply(message, False, error=error, **base)
        replay_map = (message.get("ext") or {}).get("replay")
        if not client.replay or not isinstance(replay_map, dict):
            requested: Any = -1  # Salesforce ignores a replay map without the handshake's replay extension
        elif topic not in replay_map:
            error = (
                f"400::The replayId for channel {{{topic}}} wasn't found using the provided replay ID map "
                f"{{{replay_map}}}. Ensure that the channel name you provided in the replay map is valid and "
                "matches the channel name used for subscribing."
            )
            return _reply(message, False, error=error, **base)
        else:
            requested = replay_map[topic]
        try:
            replay = int(requested)
        except (TypeError, ValueError):
            replay = -3  # never valid
        retained = self._events.get(topic, deque())
        if replay == -1:
            cursor = self._last_id
        elif replay == -2:
            cursor = retained[0][0] - 1 if retained else self._last_id
        elif any(replay_id == replay for replay_id, _ in retained):
            cursor = replay
        else:
            self.subscriptions.append(Subscription(client.client_id, topic, replay, False))
            error = (
                f"400::The replayId {{{requested}}} you provided was invalid. Please provide a valid ID, "
                "-2 to replay all events, or -1 to replay only new events."
            )
            return _reply(message, False, error=error, **base)
        client.cursors[topic] = cursor
        self.subscriptions.append(Subscription(client.client_id, topic, replay, True))
        return _reply(message, True, **base)

    async def _connect(
        self, message: Message, client: _Client, request: Request, header: str | None
    ) -> list[Message] | None:
        """The events for the client and the connect reply, once there are events or the poll times out;
        None if the caller hung up while waiting."""
        self.connects.append(asyncio.get_running_loop().time())
        at_once = (message.get("advice") or {}).get("timeout") == 0  # CometD's first connect
        deadline = asyncio.get_running_loop().time() + self.timeout
        gone = asyncio.ensure_future(_hung_up(request))
        self.waiting += 1
        self._notify()
        try:
            while True:
                if client.client_id not in self._clients:
                    return [_unknown_client(message)]
                if not self.authorize(header):
                    return [_unauthorized(message, header)]
                events = self._take(client)
                remaining = deadline - asyncio.get_running_loop().time()
                if events or at_once or self._closing or remaining <= 0:
                    advice = {"reconnect": "retry", "interval": 0, "timeout": int(self.timeout * 1000)}
                    reply = _reply(message, True, clientId=client.client_id, advice=advice | self.advice)
                    return [*events, reply]
                change = asyncio.ensure_future(self._wakeup.wait())
                done, _ = await asyncio.wait({change, gone}, timeout=remaining, return_when="FIRST_COMPLETED")
                change.cancel()
                if gone in done:
                    return None
        finally:
            self.waiting -= 1
            gone.cancel()

    def _take(self, client: _Client) -> list[Message]:
        """The events after each of the client's cursors, in replay order; the cursors move past them."""
        found: list[tuple[int, Message]] = []
        for topic, cursor in client.cursors.items():
            fresh = [(i, m) for i, m in self._events.get(topic, ()) if i > cursor]
            if fresh:
                client.cursors[topic] = fresh[-1][0]
                found.extend(fresh)
        return [m for _, m in sorted(found, key=lambda pair: pair[0])]


async def _hung_up(request: Request) -> None:
    """Returns when the caller closes the connection (the body has been read: only a disconnect is left)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _reply(message: Message, successful: bool, **fields: Any) -> Message:
    reply: Message = {"channel": message["channel"], "successful": successful}
    if "id" in message:
        reply["id"] = message["id"]
    if "clientId" in message and "clientId" not in fields:
        reply["clientId"] = message["clientId"]
    return reply | {k: v for k, v in fields.items() if v is not None}


def _unknown_client(message: Message) -> Message:
    return _reply(
        message, False, error="403::Unknown client", advice={"reconnect": "handshake", "interval": 0}
    )


def _unauthorized(message: Message, header: str | None) -> Message:
    reason = "401::Request requires authentication" if header is None else "401::Authentication invalid"
    if message.get("channel") == "/meta/handshake":
        return _reply(
            message,
            False,
            error="403::Handshake denied",
            ext={"sfdc": {"failureReason": reason}},
            advice={"reconnect": "none"},
        )
    return _reply(message, False, error=reason, advice={"reconnect": "none", "interval": 0})


def _refused(status: int, error: str) -> Response:
    return JSONResponse([{"successful": False, "error": error}], status_code=status)
