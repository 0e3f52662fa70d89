"""Agents' messages from Salesforce: a subscription to the org's custom platform event through the Streaming
API (CometD, Bayeux long-polling), resumed from the last replay id the caller saved.

Why CometD: it is plain HTTP and JSON, so httpx is all it needs; the gRPC Pub/Sub API would need grpcio and
Avro. Salesforce serves it at `{instanceUrl}/cometd/{apiVersion}` with `Authorization: Bearer <token>`:

- `/meta/handshake` with `ext: {"replay": true}` gives a clientId and a BAYEUX_BROWSER cookie, which every
  later call of that client sends back (each session keeps its own cookies, whatever else shares `http`);
- `/meta/subscribe` with `ext: {"replay": {topic: id}}`: -1 new events only, -2 every retained event (72 h),
  or the last id handled, for the events after it;
- `/meta/connect`, again and again: a long poll answered as soon as events arrive, or empty after
  `advice.timeout`; `advice.reconnect` says retry (connect again after `advice.interval`), handshake or none;
- `/meta/disconnect` when a session is given up or the stream stops.

Delivery is at least once: each event is handed to `handle` and only then its replay id saved. When `handle`
raises, the id is not saved and the stream subscribes again from the last saved id after a backoff, so the
event comes again; the caller makes handling idempotent.

Recovery: "403::Unknown client" (Salesforce forgot the client) means a new handshake at once; any 401 (HTTP
401, "401::Authentication invalid", or "403::Handshake denied" whose failure reason is a 401) means the
token is dead: `token_rejected()` lets the caller drop it and the next handshake uses a fresh `token()`.
Network errors, 5xx and everything else back off (doubling, capped, with jitter) before a new handshake. A
saved replay id Salesforce no longer retains is refused on subscribe: the stream logs a warning and replays
every retained event instead (-2). The token is never logged.

Known gap: with no saved replay id (a first start, subscribed with -1), events published while the very first
session is down are not replayed, as Salesforce has no id before the first event to resume from.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import msgspec

log = logging.getLogger("channel_engine_servicecloud.streaming")

NEW_EVENTS = -1
ALL_EVENTS = -2
LONG_POLL_SECONDS = 110.0  # Salesforce's advice.timeout, until a reply says otherwise
READ_MARGIN_SECONDS = 30.0  # a long poll silent this long past its timeout counts as a lost connection
CALL_SECONDS = 30.0  # handshake, subscribe
DISCONNECT_SECONDS = 5.0  # a courtesy: the server forgets an idle client within minutes anyway

Message = dict[str, Any]


class _Rehandshake(Exception):
    """The server forgot the client or advised a new handshake: routine, after `advice.interval`."""

    def __init__(self, reason: str, interval: float) -> None:
        super().__init__(reason)
        self.interval = interval


class _AuthRejected(Exception):
    """Salesforce refused the token: the caller drops it and the next handshake uses a new one."""


class _Failure(Exception):
    """Anything else that ends a session (network, 5xx, a failed handler, advice "none"): back off."""


class _Session:
    """One Bayeux client: its token, its clientId and its cookies (Salesforce's BAYEUX_BROWSER)."""

    def __init__(self, http: httpx.AsyncClient, url: str, token: str) -> None:
        self.http = http
        self.url = url
        self.token = token
        self.client_id: str | None = None
        self.cookies = httpx.Cookies()
        self._ids = itertools.count(1)

    async def call(self, message: Message, read_timeout: float) -> list[Message]:
        """Send one Bayeux message; every message of the answer (the reply and any events)."""
        message = {**message, "id": str(next(self._ids))}
        if self.client_id is not None:
            message["clientId"] = self.client_id
        headers = httpx.Headers(self.http.headers)
        headers.update({"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        # Built by hand, not with http.build_request, so that only this session's cookies go with it.
        request = httpx.Request(
            "POST",
            self.url,
            headers=headers,
            content=msgspec.json.encode([message]),
            extensions={"timeout": httpx.Timeout(CALL_SECONDS, read=read_timeout).as_dict()},
        )
        self.cookies.set_cookie_header(request)
        channel = message["channel"]
        try:
            response = await self.http.send(request)
        except httpx.HTTPError as exc:
            raise _Failure(f"{channel}: Salesforce cannot be reached ({type(exc).__name__})") from exc
        self.cookies.extract_cookies(response)
        answer = _messages(response.content)
        if response.status_code == 401:
            raise _AuthRejected(f"{channel}: HTTP 401 {_first_error(answer)}".rstrip())
        if response.status_code != 200:
            raise _Failure(f"{channel}: HTTP {response.status_code} {_first_error(answer)}".rstrip())
        if answer is None:
            raise _Failure(f"{channel}: the answer is not a JSON array of Bayeux messages")
        return answer


class EventStream:
    """Subscribes to `topic` (e.g. "/event/Infobip_Event__e") and hands every event's `data` to `handle`,
    in order, until cancelled. State for health checks and tests: `connected`, `last_replay_id` (the last
    saved), `events_handled`, `last_error`, and `subscribed` (set once a subscribe succeeds)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        instance_url: str,
        api_version: str,
        topic: str,
        token: Callable[[], Awaitable[str]],
        token_rejected: Callable[[], None],
        load_replay: Callable[[], Awaitable[int | None]],
        save_replay: Callable[[int], Awaitable[None]],
        handle: Callable[[dict], Awaitable[None]],
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        name: str = "",
    ) -> None:
        if not topic.startswith("/event/"):
            raise ValueError(f"topic: {topic!r} is not a platform event channel (/event/<Name>__e)")
        self._http = http
        self._url = f"{instance_url.rstrip('/')}/cometd/{api_version}"
        self.topic = topic
        self._token = token
        self._token_rejected = token_rejected
        self._load_replay = load_replay
        self._save_replay = save_replay
        self._handle = handle
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.name = name or topic
        self.connected = False
        self.last_replay_id: int | None = None
        self.events_handled = 0
        self.last_error: str | None = None
        self.subscribed = asyncio.Event()
        self._loaded = False
        # With nothing saved yet, the id of the event a handler failed on: the next subscription replays
        # every retained event (-2) and skips those before it, since no id before it can be named.
        self._floor: int | None = None
        self._failures = 0  # in a row, since the last successful connect or saved event
        self._long_poll = LONG_POLL_SECONDS
        self._interval = 0.0

    async def run(self) -> None:
        """Subscribe, hand over events, recover from every failure; returns only by cancellation."""
        while True:
            delay = 0.0
            try:
                if not self._loaded:
                    self.last_replay_id = await self._load_replay()
                    self._loaded = True
                await self._session()
            except _Rehandshake as exc:
                self._note(str(exc), logging.INFO)
                delay = self._next_delay(exc.interval)
            except _AuthRejected as exc:
                self._note(str(exc), logging.WARNING)
                try:
                    self._token_rejected()
                except Exception:  # the caller's bug must not end the stream
                    log.exception("streaming %s: token_rejected() failed", self.name)
                delay = self._next_delay(0.0)
            except _Failure as exc:
                self._note(str(exc), logging.WARNING)
                self._failures += 1
                delay = self._backoff_delay(self._failures)
            except Exception as exc:  # a bug or a broken callback: keep the stream alive, loudly
                log.exception("streaming %s: unexpected failure", self.name)
                self.last_error = f"{type(exc).__name__}: {exc}"
                self._failures += 1
                delay = self._backoff_delay(self._failures)
            finally:
                self.connected = False
            if delay > 0:
                await asyncio.sleep(delay)

    # -- one session: handshake, subscribe, long polls --------------------------------------------------

    async def _session(self) -> None:
        try:
            token = await self._token()
        except Exception as exc:
            raise _Failure(f"no token ({type(exc).__name__}: {exc})") from exc
        session = _Session(self._http, self._url, token)
        try:
            await self._handshake(session)
            await self._subscribe(session)
            await self._poll(session)
        except (_AuthRejected, _Rehandshake):
            raise  # the server has dropped the client, or will not listen to this token
        except BaseException:
            if session.client_id is not None:
                await self._disconnect(session)
            raise

    async def _handshake(self, session: _Session) -> None:
        reply = await self._exchange(
            session,
            {
                "channel": "/meta/handshake",
                "version": "1.0",
                "minimumVersion": "1.0",
                "supportedConnectionTypes": ["long-polling"],
                "ext": {"replay": True},
            },
            CALL_SECONDS,
        )
        if not reply.get("successful"):
            raise self._refusal(reply, "handshake")
        client_id = reply.get("clientId")
        if not isinstance(client_id, str) or not client_id:
            raise _Failure("/meta/handshake: the reply has no clientId")
        session.client_id = client_id

    async def _subscribe(self, session: _Session) -> None:
        replay = self._resume_from()
        while True:
            message = {"channel": "/meta/subscribe", "subscription": self.topic}
            message["ext"] = {"replay": {self.topic: replay}}
            reply = await self._exchange(session, message, CALL_SECONDS)
            if reply.get("successful"):
                break
            error = str(reply.get("error") or "")
            if replay >= 0 and _stale_replay(error):
                log.warning(
                    "streaming %s: replay id %s is no longer retained (%s); replaying every retained event",
                    self.name,
                    replay,
                    error,
                )
                replay = ALL_EVENTS
                continue
            raise self._refusal(reply, f"subscribe to {self.topic}")
        log.info("streaming %s: subscribed to %s from replay id %s", self.name, self.topic, replay)
        self.connected = True
        self.subscribed.set()

    async def _poll(self, session: _Session) -> None:
        while True:
            if self._interval > 0:
                await asyncio.sleep(self._interval)
            message = {"channel": "/meta/connect", "connectionType": "long-polling"}
            reply = await self._exchange(session, message, self._long_poll + READ_MARGIN_SECONDS)
            if not reply.get("successful"):
                raise self._refusal(reply, "connect")
            reconnect = (reply.get("advice") or {}).get("reconnect", "retry")
            if reconnect == "handshake":
                raise _Rehandshake("/meta/connect: Salesforce advised a new handshake", self._interval)
            if reconnect == "none":
                raise _Failure("/meta/connect: Salesforce advised not to reconnect")
            self._failures = 0  # a full round trip: whatever failed before has recovered

    async def _disconnect(self, session: _Session) -> None:
        try:
            async with asyncio.timeout(DISCONNECT_SECONDS):
                await session.call({"channel": "/meta/disconnect"}, DISCONNECT_SECONDS)
        except Exception as exc:  # TimeoutError included
            log.debug("streaming %s: disconnect failed (%s)", self.name, type(exc).__name__)

    async def _exchange(self, session: _Session, message: Message, read_timeout: float) -> Message:
        """Send a meta message, hand over any events the answer carries (in order), return the reply."""
        channel = message["channel"]
        reply: Message | None = None
        for received in await session.call(message, read_timeout):
            if received.get("channel") == self.topic and "data" in received:
                await self._deliver(received["data"])
            elif received.get("channel") == channel and reply is None:
                reply = received
        if reply is None:
            raise _Failure(f"{channel}: the answer has no {channel} reply")
        self._advise(reply.get("advice"))
        return reply

    # -- events -----------------------------------------------------------------------------------------

    async def _deliver(self, data: Any) -> None:
        event = data.get("event") if isinstance(data, dict) else None
        replay_id = event.get("replayId") if isinstance(event, dict) else None
        if not isinstance(replay_id, int) or isinstance(replay_id, bool):
            log.warning("streaming %s: an event without a replay id on %s was skipped", self.name, self.topic)
            return
        if self._floor is not None and replay_id < self._floor:
            return  # replayed by -2 from before the first event this stream was given
        try:
            await self._handle(data)
        except Exception as exc:
            log.warning(
                "streaming %s: handling event %s failed; it comes again", self.name, replay_id, exc_info=True
            )
            if self.last_replay_id is None:
                self._floor = replay_id
            raise _Failure(f"handling event {replay_id} failed ({type(exc).__name__})") from exc
        self.events_handled += 1
        try:
            await self._save_replay(replay_id)
        except Exception as exc:
            raise _Failure(f"saving replay id {replay_id} failed ({type(exc).__name__})") from exc
        self.last_replay_id = replay_id
        self._floor = None
        self._failures = 0

    def _resume_from(self) -> int:
        if self.last_replay_id is not None:
            return self.last_replay_id
        return ALL_EVENTS if self._floor is not None else NEW_EVENTS

    # -- advice, errors, backoff ------------------------------------------------------------------------

    def _advise(self, advice: Any) -> None:
        """Bayeux advice holds until a later reply changes it."""
        if not isinstance(advice, dict):
            return
        timeout, interval = advice.get("timeout"), advice.get("interval")
        if isinstance(timeout, int | float) and timeout >= 0:
            self._long_poll = timeout / 1000
        if isinstance(interval, int | float) and interval >= 0:
            self._interval = interval / 1000

    def _refusal(self, reply: Message, what: str) -> Exception:
        error = str(reply.get("error") or "unsuccessful, no error given")
        reason = ((reply.get("ext") or {}).get("sfdc") or {}).get("failureReason")
        reconnect = (reply.get("advice") or {}).get("reconnect")
        if error.startswith("401::") or str(reason).startswith("401::"):
            return _AuthRejected(f"{what}: {reason if reason else error}")
        if error.startswith("403::Unknown client") or reconnect == "handshake":
            return _Rehandshake(f"{what}: {error}", self._interval)
        return _Failure(f"{what}: {error}")

    def _note(self, reason: str, level: int) -> None:
        self.last_error = reason
        log.log(level, "streaming %s: %s", self.name, reason)

    def _next_delay(self, interval: float) -> float:
        """A routine new handshake goes at once (after the advised interval); the same in a row backs off."""
        self._failures += 1
        if self._failures == 1:
            return interval
        return max(interval, self._backoff_delay(self._failures - 1))

    def _backoff_delay(self, failures: int) -> float:
        capped = min(self.max_backoff, self.backoff * 2 ** (failures - 1))
        return capped * (0.5 + random.random() / 2)  # jitter: streams of many orgs do not retry in step


def _messages(content: bytes) -> list[Message] | None:
    try:
        decoded = msgspec.json.decode(content)
    except msgspec.DecodeError:
        return None
    if isinstance(decoded, dict):
        decoded = [decoded]
    if not isinstance(decoded, list) or not all(isinstance(m, dict) for m in decoded):
        return None
    return decoded


def _first_error(answer: list[Message] | None) -> str:
    for message in answer or []:
        reason = ((message.get("ext") or {}).get("sfdc") or {}).get("failureReason")
        if reason or message.get("error"):
            return str(reason or message["error"])
    return ""


def _stale_replay(error: str) -> bool:
    """Salesforce's "400::The replayId {42} you provided was invalid. ..." (expired or never existed)."""
    lowered = error.lower()
    return "replayid" in lowered and "invalid" in lowered
