"""The platform event subscription over real HTTP against the loopback Streaming API fake: events in order
and exactly once, a restart resuming after the last saved replay id, redelivery when handling fails, a
rejected token replaced, a forgotten client handshaking again, a replay id too old falling back to -2,
5xx backed off; and the fake's own Bayeux answers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from channel_engine.testing.servers import serve_app
from channel_engine_servicecloud.streaming import EventStream
from channel_engine_servicecloud.testing.fake_streaming import FakeStreamingApi

TOPIC = "/event/Infobip_Event__e"
TOKEN = "token-for-the-streaming-tests-1"


def agent_message(text: str) -> dict[str, Any]:
    return {
        "EventType__c": "Interaction",
        "Payload__c": f'{{"conversationIdentifier": "c-1", "text": "{text}"}}',
    }


class Caller:
    """What the plugin gives an EventStream: a saved replay id, a handler recording what it got (failing on
    request), and tokens from a list (recording which were issued and how often one was rejected)."""

    def __init__(self, saved: int | None = None, tokens: tuple[str, ...] = (TOKEN,)) -> None:
        self.saved = saved
        self.saves: list[int] = []
        self.attempts: list[int] = []  # replay ids handed to handle(), failed ones included
        self.handled: list[dict[str, Any]] = []
        self.fail: Callable[[int], bool] = lambda replay_id: False
        self.saved_when_failed: list[int | None] = []
        self.tokens = list(tokens)
        self.issued: list[str] = []
        self.rejected = 0
        self._changed = asyncio.Condition()

    @property
    def handled_ids(self) -> list[int]:
        return [data["event"]["replayId"] for data in self.handled]

    async def token(self) -> str:
        async with self._changed:
            self.issued.append(self.tokens[min(len(self.issued), len(self.tokens) - 1)])
            self._changed.notify_all()
            return self.issued[-1]

    def token_rejected(self) -> None:
        self.rejected += 1

    async def load(self) -> int | None:
        return self.saved

    async def save(self, replay_id: int) -> None:
        async with self._changed:
            self.saved = replay_id
            self.saves.append(replay_id)
            self._changed.notify_all()

    async def handle(self, data: dict[str, Any]) -> None:
        replay_id = data["event"]["replayId"]
        async with self._changed:
            self.attempts.append(replay_id)
            self._changed.notify_all()
            if self.fail(replay_id):
                self.saved_when_failed.append(self.saved)
                raise RuntimeError("the handler broke")
            self.handled.append(data)

    async def wait_for(self, done: Callable[[], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(done)

    async def wait_saved(self, replay_id: int) -> None:
        await self.wait_for(lambda: self.saved == replay_id)


@pytest.fixture
def tokens_accepted() -> set[str]:
    return {TOKEN}


@pytest.fixture
def fake(tokens_accepted: set[str]) -> FakeStreamingApi:
    return FakeStreamingApi(lambda header: header in {f"Bearer {t}" for t in tokens_accepted})


@pytest.fixture
async def url(fake: FakeStreamingApi) -> AsyncIterator[str]:
    async with serve_app(Starlette(routes=fake.routes)) as base:
        yield base


@contextlib.asynccontextmanager
async def streaming(url: str, caller: Caller) -> AsyncIterator[EventStream]:
    """An EventStream running in a task until the block ends; a crash of run() fails the test."""
    async with httpx.AsyncClient() as http:
        stream = EventStream(
            http,
            instance_url=url,
            api_version="63.0",
            topic=TOPIC,
            token=caller.token,
            token_rejected=caller.token_rejected,
            load_replay=caller.load,
            save_replay=caller.save,
            handle=caller.handle,
            backoff=0.01,
            max_backoff=0.05,
            name="00D000000000001AAA",
        )
        task = asyncio.create_task(stream.run())
        try:
            yield stream
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def started(stream: EventStream) -> None:
    await asyncio.wait_for(stream.subscribed.wait(), 10)


# -- delivery -----------------------------------------------------------------------------------------------


async def test_events_before_and_after_subscribing_arrive_in_order_exactly_once(
    fake: FakeStreamingApi, url: str
) -> None:
    seen = fake.publish(TOPIC, agent_message("already handled"))
    before = [fake.publish(TOPIC, agent_message(f"before {i}")) for i in range(2)]
    fake.publish("/event/Other_Event__e", agent_message("another channel"))
    caller = Caller(saved=seen)
    async with streaming(url, caller) as stream:
        await started(stream)
        after = [fake.publish(TOPIC, agent_message(f"after {i}")) for i in range(2)]
        await caller.wait_saved(after[-1])
        # One more event through the same connection: had anything come twice, it would sit before it.
        last = fake.publish(TOPIC, agent_message("last"))
        await caller.wait_saved(last)

        assert caller.handled_ids == [*before, *after, last]
        assert caller.saves == [*before, *after, last]
        assert stream.events_handled == 5 and stream.last_replay_id == last and stream.connected
        assert stream.last_error is None
        first = caller.handled[0]
        assert first["payload"]["EventType__c"] == "Interaction" and "CreatedDate" in first["payload"]
        assert first["payload"]["Payload__c"].startswith('{"conversationIdentifier"')
        assert isinstance(first["event"]["EventUuid"], str) and first["schema"]
    assert [(s.replay_id, s.accepted) for s in fake.subscriptions] == [(seen, True)]
    assert fake.handshakes == 1
    await fake.wait_until(lambda: fake.client_ids == [])  # a stopped stream disconnects its client


async def test_nothing_saved_means_new_events_only(fake: FakeStreamingApi, url: str) -> None:
    fake.publish(TOPIC, agent_message("before the first start"))
    caller = Caller(saved=None)
    async with streaming(url, caller) as stream:
        await started(stream)
        new = fake.publish(TOPIC, agent_message("new"))
        await caller.wait_saved(new)
    assert caller.handled_ids == [new]
    assert [s.replay_id for s in fake.subscriptions] == [-1]


async def test_a_restart_resumes_after_the_last_saved_event(fake: FakeStreamingApi, url: str) -> None:
    caller = Caller(saved=None)
    async with streaming(url, caller) as stream:
        await started(stream)
        first = [fake.publish(TOPIC, agent_message(f"first run {i}")) for i in range(2)]
        await caller.wait_saved(first[-1])
    missed = [fake.publish(TOPIC, agent_message(f"while down {i}")) for i in range(3)]

    async with streaming(url, caller) as stream:  # a new EventStream, loading the saved replay id
        await started(stream)
        await caller.wait_saved(missed[-1])
        later = fake.publish(TOPIC, agent_message("after the restart"))
        await caller.wait_saved(later)
    assert caller.handled_ids == [*first, *missed, later]
    assert [s.replay_id for s in fake.subscriptions] == [-1, first[-1]]


# -- handler failures ---------------------------------------------------------------------------------------


async def test_a_failed_handler_gets_the_event_again_and_its_id_is_not_saved(
    fake: FakeStreamingApi, url: str
) -> None:
    caller = Caller(saved=None)
    async with streaming(url, caller) as stream:
        await started(stream)
        ids = [fake.publish(TOPIC, agent_message(f"m{i}")) for i in range(3)]
        caller.fail = lambda replay_id: replay_id == ids[1] and caller.attempts.count(ids[1]) == 1
        await caller.wait_saved(ids[2])
        assert stream.last_error is not None and f"handling event {ids[1]} failed" in stream.last_error

    assert caller.saved_when_failed == [ids[0]]  # not saved past the event that failed
    assert caller.attempts == [ids[0], ids[1], ids[1], ids[2]]
    assert caller.handled_ids == ids and caller.saves == ids
    assert [s.replay_id for s in fake.subscriptions] == [-1, ids[0]]  # resubscribed from the last saved


async def test_a_failure_before_anything_was_saved_replays_from_that_event(
    fake: FakeStreamingApi, url: str
) -> None:
    old = fake.publish(TOPIC, agent_message("retained, from before the first start"))
    caller = Caller(saved=None)
    async with streaming(url, caller) as stream:
        await started(stream)
        ids = [fake.publish(TOPIC, agent_message(f"m{i}")) for i in range(2)]
        caller.fail = lambda replay_id: caller.attempts.count(ids[0]) == 1
        await caller.wait_saved(ids[1])
    assert caller.attempts == [ids[0], ids[0], ids[1]]
    assert caller.handled_ids == ids and old not in caller.attempts
    assert [s.replay_id for s in fake.subscriptions] == [-1, -2]


# -- recovery -----------------------------------------------------------------------------------------------


async def test_a_token_revoked_while_connected_is_replaced(
    fake: FakeStreamingApi, url: str, tokens_accepted: set[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caller = Caller(saved=None, tokens=(TOKEN, "token-for-the-streaming-tests-2"))
    async with streaming(url, caller) as stream:
        await started(stream)
        first = fake.publish(TOPIC, agent_message("with the first token"))
        await caller.wait_saved(first)
        await fake.wait_until(lambda: fake.waiting == 1)

        tokens_accepted.clear()
        tokens_accepted.add("token-for-the-streaming-tests-2")
        fake.recheck_authorization()  # the waiting long poll answers "401::Authentication invalid"
        await fake.wait_until(lambda: len(fake.subscriptions) == 2)
        second = fake.publish(TOPIC, agent_message("with the second token"))
        await caller.wait_saved(second)
        assert stream.last_error == "connect: 401::Authentication invalid"

    assert caller.rejected == 1
    assert caller.issued == [TOKEN, "token-for-the-streaming-tests-2"]
    assert caller.handled_ids == [first, second]
    assert fake.subscriptions[1].replay_id == first and fake.handshakes == 2
    assert "token-for-the-streaming-tests" not in caplog.text


async def test_a_token_refused_at_the_handshake_is_replaced(
    fake: FakeStreamingApi, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caller = Caller(saved=None, tokens=("token-that-expired-0000", TOKEN))
    async with streaming(url, caller) as stream:
        await started(stream)
        event = fake.publish(TOPIC, agent_message("hello"))
        await caller.wait_saved(event)
        assert stream.last_error == "/meta/handshake: HTTP 401 401::Authentication invalid"
    assert caller.rejected == 1 and caller.issued == ["token-that-expired-0000", TOKEN]
    assert fake.handshakes == 1  # the refused one never got a client
    assert "token-that-expired" not in caplog.text and TOKEN not in caplog.text


async def test_a_forgotten_client_handshakes_again_and_resumes(fake: FakeStreamingApi, url: str) -> None:
    caller = Caller(saved=None)
    async with streaming(url, caller) as stream:
        await started(stream)
        first = fake.publish(TOPIC, agent_message("before"))
        await caller.wait_saved(first)
        await fake.wait_until(lambda: fake.waiting == 1)

        fake.drop_clients()  # the waiting long poll answers "403::Unknown client"
        during = fake.publish(TOPIC, agent_message("while the client was unknown"))
        await fake.wait_until(lambda: fake.handshakes == 2 and len(fake.subscriptions) == 2)
        after = fake.publish(TOPIC, agent_message("after"))
        await caller.wait_saved(after)
        assert stream.last_error == "connect: 403::Unknown client" and stream.connected

    assert caller.handled_ids == [first, during, after]
    assert fake.subscriptions[1].replay_id == first
    assert caller.rejected == 0 and caller.issued == [TOKEN, TOKEN]


async def test_connect_advice_is_honoured(fake: FakeStreamingApi, url: str) -> None:
    caller = Caller(saved=None)
    async with streaming(url, caller) as stream:
        await started(stream)
        handled = [fake.publish(TOPIC, agent_message("first"))]
        await caller.wait_saved(handled[-1])
        await fake.wait_until(lambda: fake.waiting == 1)

        # interval: the next connect waits that long after the reply.
        fake.advice = {"interval": 300}
        connects = len(fake.connects)
        handled.append(fake.publish(TOPIC, agent_message("interval")))
        published_at = asyncio.get_running_loop().time()
        await fake.wait_until(lambda: len(fake.connects) > connects)
        assert fake.connects[connects] - published_at >= 0.29

        # reconnect "handshake": a new handshake, resubscribing from the last saved event.
        await fake.wait_until(lambda: fake.waiting == 1)
        fake.advice = {"reconnect": "handshake", "interval": 0}
        handled.append(fake.publish(TOPIC, agent_message("handshake")))
        await fake.wait_until(lambda: fake.handshakes == 2 and fake.waiting == 1)
        fake.advice = {}
        assert stream.last_error == "/meta/connect: Salesforce advised a new handshake"

        # reconnect "none": given up, backed off, then a new handshake all the same.
        fake.advice = {"reconnect": "none"}
        handled.append(fake.publish(TOPIC, agent_message("none")))
        await fake.wait_until(lambda: fake.handshakes == 3 and fake.waiting == 1)
        fake.advice = {}
        assert stream.last_error == "/meta/connect: Salesforce advised not to reconnect"

        handled.append(fake.publish(TOPIC, agent_message("last")))
        await caller.wait_saved(handled[-1])
    assert caller.handled_ids == handled and caller.rejected == 0
    assert [s.replay_id for s in fake.subscriptions] == [-1, handled[2], handled[3]]


async def test_a_replay_id_too_old_falls_back_to_every_retained_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeStreamingApi(lambda header: header == f"Bearer {TOKEN}", retention=3)
    ids = [fake.publish(TOPIC, agent_message(f"m{i}")) for i in range(5)]
    caller = Caller(saved=ids[0])  # no longer retained: only the last three are
    async with serve_app(Starlette(routes=fake.routes)) as url, streaming(url, caller) as stream:
        await started(stream)
        await caller.wait_saved(ids[-1])
    assert caller.handled_ids == ids[2:]
    assert [(s.replay_id, s.accepted) for s in fake.subscriptions] == [(ids[0], False), (-2, True)]
    warning = next(
        r for r in caplog.records if r.name.endswith(".streaming") and r.levelno == logging.WARNING
    )
    assert f"replay id {ids[0]} is no longer retained" in warning.getMessage()


async def test_server_errors_are_backed_off_and_retried(fake: FakeStreamingApi, url: str) -> None:
    fake.fail_next(3, status=503)
    caller = Caller(saved=None)
    async with streaming(url, caller) as stream:
        await started(stream)
        assert stream.last_error == "/meta/handshake: HTTP 503"
        event = fake.publish(TOPIC, agent_message("after the outage"))
        await caller.wait_saved(event)
    assert fake.handshakes == 1 and caller.rejected == 0


async def test_an_unreachable_instance_is_retried_until_stopped() -> None:
    caller = Caller(saved=None)
    async with serve_app(Starlette()) as url:
        pass  # the port is closed again: nothing listens there now
    async with streaming(url, caller) as stream:
        await caller.wait_for(lambda: len(caller.issued) >= 3)  # each attempt asks for a token
        assert not stream.connected and not stream.subscribed.is_set()
        assert stream.last_error == "/meta/handshake: Salesforce cannot be reached (ConnectError)"


def test_the_topic_must_be_a_platform_event_channel() -> None:
    caller = Caller()
    with pytest.raises(ValueError, match="topic: 'Infobip_Event__e' is not a platform event channel"):
        EventStream(
            httpx.AsyncClient(),
            instance_url="https://example.my.salesforce.com",
            api_version="63.0",
            topic="Infobip_Event__e",
            token=caller.token,
            token_rejected=caller.token_rejected,
            load_replay=caller.load,
            save_replay=caller.save,
            handle=caller.handle,
        )


# -- the fake's Bayeux answers ------------------------------------------------------------------------------


async def bayeux(
    http: httpx.AsyncClient, url: str, message: dict[str, Any], token: str | None = TOKEN
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.post(f"{url}/cometd/63.0", json=[message], headers=headers)
    return response.status_code, response.json()


async def test_the_fake_answers_like_salesforce(fake: FakeStreamingApi, url: str) -> None:
    fake.timeout = 0.05  # an idle long poll comes back empty after this long
    handshake = {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}
    async with httpx.AsyncClient() as http:
        status, body = await bayeux(http, url, handshake, token=None)
        assert status == 401 and body[0]["error"] == "403::Handshake denied"
        assert body[0]["ext"]["sfdc"]["failureReason"] == "401::Request requires authentication"

        status, body = await bayeux(http, url, {**handshake, "ext": {"replay": True}})
        assert status == 200 and body[0]["successful"] and http.cookies.get("BAYEUX_BROWSER")
        client_id = body[0]["clientId"]

        subscribe = {"channel": "/meta/subscribe", "clientId": client_id, "subscription": TOPIC}
        async with httpx.AsyncClient() as cookieless:
            _, body = await bayeux(cookieless, url, {**subscribe, "ext": {"replay": {TOPIC: -1}}})
        assert "no BAYEUX_BROWSER cookie present" in body[0]["error"]

        _, body = await bayeux(http, url, {**subscribe, "ext": {"replay": {TOPIC: 42}}})
        assert body[0]["error"].startswith("400::The replayId {42} you provided was invalid.")
        _, body = await bayeux(http, url, {**subscribe, "ext": {"replay": {TOPIC: -1}}})
        assert body[0]["successful"]

        connect = {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling"}
        _, body = await bayeux(http, url, connect)
        assert body == [
            {
                "channel": "/meta/connect",
                "successful": True,
                "clientId": client_id,
                "advice": {"reconnect": "retry", "interval": 0, "timeout": 50},
            }
        ]
        replay_id = fake.publish(TOPIC, agent_message("hi"))
        _, body = await bayeux(http, url, connect)
        assert [m["channel"] for m in body] == [TOPIC, "/meta/connect"]
        assert body[0]["data"]["event"]["replayId"] == replay_id

        _, body = await bayeux(http, url, {"channel": "/meta/disconnect", "clientId": client_id})
        assert body[0]["successful"]
        _, body = await bayeux(http, url, connect)
        assert body[0]["error"] == "403::Unknown client" and body[0]["advice"]["reconnect"] == "handshake"
        status, body = await bayeux(http, url, connect, token="another-token")
        assert status == 401 and body[0]["error"] == "401::Authentication invalid"
