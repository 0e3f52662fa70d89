"""Several engine processes on one Redis, end to end: each message reaches the provider and the host once, a
speed limit holds across processes, and nothing acknowledged is lost when an engine or Redis is SIGKILLed.

Real parts only: `channel-engine serve` subprocesses over loopback HTTP, a real redis-server, and the
simulator as the engines' Infobip account, served from the test process so the test sees every messageId
that reaches the provider, and when.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from channel_engine.config import Settings
from channel_engine.plugins import get_plugin_manager
from channel_engine.secret_box import new_key
from channel_engine.server import bind
from channel_engine.simulator import create_simulator
from channel_engine.simulator.app import Simulator, collect_endpoints
from channel_engine.simulator.endpoints import SimulatedSend, SimulatorEndpoint
from channel_engine.testing.fixtures import redis_prefix
from channel_engine.testing.processes import engine_process
from channel_engine.testing.redis_server import RedisServer
from channel_engine.testing.servers import WebhookReceiver, serve_app

API_KEY = "redis-e2e-key"
ENGINES = 3
# Idle connections are dropped well before uvicorn's 5 s keep-alive ends: reusing one the server is just
# closing fails with "Server disconnected without sending a response".
CLIENT_LIMITS = httpx.Limits(keepalive_expiry=1.0)


# -- the provider: the simulator, counting every messageId that reaches it -----------------------------------


class Arrivals:
    """Every messageId that reached the provider, as often as it came (the simulator keeps each id once
    and answers a repeat REJECTED_DUPLICATE_MESSAGE_ID), and when it first came."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.first_at: dict[str, float] = {}

    def add(self, sends: list[SimulatedSend]) -> None:
        now = time.monotonic()
        for send in sends:
            self.counts[send.message_id] += 1
            self.first_at.setdefault(send.message_id, now)

    @property
    def duplicates(self) -> int:
        return sum(count - 1 for count in self.counts.values())


class CountingEndpoint:
    """A simulator endpoint that tells `arrivals` what each request carries; the rest is the real one."""

    def __init__(self, inner: SimulatorEndpoint, arrivals: Arrivals) -> None:
        self._inner = inner
        self._arrivals = arrivals

    def parse(self, body: dict[str, Any]) -> list[SimulatedSend]:
        sends = self._inner.parse(body)
        self._arrivals.add(sends)
        return sends

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def counting_simulator(arrivals: Arrivals, report_delay: float = 0.01) -> Simulator:
    endpoints = [CountingEndpoint(e, arrivals) for e in collect_endpoints(get_plugin_manager())]
    return create_simulator(
        endpoints,  # type: ignore[arg-type]
        api_keys={API_KEY},
        report_delay=report_delay,
        retry_delay=0.1,
    )


def slow_answers(app: Any, seconds: float) -> Any:
    """`app` answering each POST `seconds` late, after it has taken the request: a provider whose answer is
    still on the wire when an engine dies, so the engine never learns that its messages got through."""

    async def delayed(scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def late_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and scope.get("method") == "POST":
                await asyncio.sleep(seconds)
            await send(message)

        await app(scope, receive, late_send)

    return delayed


# -- the engines ---------------------------------------------------------------------------------------------


class LoadBalancer:
    """What CHANNEL_ENGINE_PUBLIC_URL names in production: Infobip's callbacks go to the engines in turn,
    past one that does not answer (a webhook is safe to repeat: reports are recorded once)."""

    def __init__(self) -> None:
        self.upstreams: list[str] = []
        self._turn = 0
        self._http = httpx.AsyncClient(timeout=30, limits=CLIENT_LIMITS)
        self.app = Starlette(
            routes=[Route("/{path:path}", self._forward, methods=["GET", "POST"])], lifespan=self._lifespan
        )

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        yield
        await self._http.aclose()

    async def _forward(self, request: Request) -> Response:
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k not in ("host", "content-length")}
        for _ in self.upstreams:
            upstream = self.upstreams[self._turn % len(self.upstreams)]
            self._turn += 1
            url = f"{upstream}{request.url.path}?{request.url.query}"
            try:
                answer = await self._http.request(request.method, url, content=body, headers=headers)
            except httpx.TransportError:
                continue
            return Response(answer.content, answer.status_code, media_type=answer.headers.get("content-type"))
        return Response("no engine answered", 502)


@dataclass
class EngineProcess:
    url: str
    process: asyncio.subprocess.Process


def free_port() -> int:
    sock = bind()
    port = sock.getsockname()[1]
    sock.close()
    return port


async def start_engine(stack: AsyncExitStack, env: dict[str, str]) -> EngineProcess:
    """One `channel-engine serve` on a free port, stopped when `stack` closes. The port is free when we
    look but may be taken before the engine binds it (other tests run too): then another one is tried."""
    tries = 3
    while True:
        tries -= 1
        port = free_port()
        try:
            process = await stack.enter_async_context(engine_process(env, port))
        except RuntimeError as exc:
            if tries and "Address already in use" in str(exc):
                continue
            raise
        return EngineProcess(f"http://127.0.0.1:{port}", process)


@asynccontextmanager
async def engines(
    tmp_path: Path, redis_url: str, provider_url: str, **extra_env: str
) -> AsyncIterator[list[EngineProcess]]:
    """ENGINES `channel-engine serve` processes on one Redis prefix, each with its own data directory, the
    same secret key, and a load balancer in front of them for Infobip's callbacks."""
    balancer = LoadBalancer()
    async with AsyncExitStack() as stack:
        public_url = await stack.enter_async_context(serve_app(balancer.app))
        shared = {
            "CHANNEL_ENGINE_STORE": f"{redis_url}?prefix={redis_prefix(tmp_path)}",
            "CHANNEL_ENGINE_SECRET_KEY": new_key(),
            "CHANNEL_ENGINE_INFOBIP_BASE_URL": provider_url,
            "CHANNEL_ENGINE_INFOBIP_API_KEY": API_KEY,
            "CHANNEL_ENGINE_PUBLIC_URL": public_url,
            **extra_env,
        }
        procs = await asyncio.gather(
            *(
                start_engine(stack, {**shared, "CHANNEL_ENGINE_DATA_DIR": str(tmp_path / f"engine{i}")})
                for i in range(ENGINES)
            )
        )
        balancer.upstreams = [p.url for p in procs]
        yield procs


def api_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=30, limits=CLIENT_LIMITS)


def sms(i: int, **fields: Any) -> dict[str, Any]:
    """One SMS to a destination the simulator delivers (only suffixes 991-999 do anything else)."""
    return {"channel": "sms", "destination": f"4179{i:07d}", "content": {"text": f"Message {i}"}, **fields}


def batches(messages: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [messages[i : i + size] for i in range(0, len(messages), size)]


async def post_batch(http: httpx.AsyncClient, url: str, batch: list[dict[str, Any]]) -> list[str]:
    """POST one batch; the ids of the acknowledged messages (202), or raise."""
    response = await http.post(f"{url}/v1/messages", json={"messages": batch})
    assert response.status_code == 202, response.text
    return [m["id"] for m in response.json()["messages"]]


async def post_round_robin(
    http: httpx.AsyncClient, urls: list[str], messages: list[dict[str, Any]], size: int
) -> list[str]:
    """The messages in batches of `size`, spread over the engines in turn, all at once."""
    parts = batches(messages, size)
    acked = await asyncio.gather(*(post_batch(http, urls[i % len(urls)], b) for i, b in enumerate(parts)))
    return [mid for ids in acked for mid in ids]


async def message_views(http: httpx.AsyncClient, urls: list[str], ids: list[str]) -> list[dict[str, Any]]:
    """GET /v1/messages/{id} for each id, asking the engines in turn: any of them knows every message."""
    responses = await asyncio.gather(
        *(http.get(f"{urls[i % len(urls)]}/v1/messages/{mid}") for i, mid in enumerate(ids))
    )
    return [r.json() for r in responses]


async def healthz(http: httpx.AsyncClient, url: str) -> dict[str, Any] | None:
    """The engine's /healthz body when it can reach its store, else None."""
    try:
        response = await http.get(f"{url}/healthz")
    except httpx.TransportError:
        return None
    return response.json() if response.status_code == 200 else None


async def wait_healthy(http: httpx.AsyncClient, urls: list[str], timeout: float = 15.0) -> None:
    """Until every engine reaches Redis again. Polled: a reconnection announces itself nowhere."""
    async with asyncio.timeout(timeout):
        while None in await asyncio.gather(*(healthz(http, url) for url in urls)):
            await asyncio.sleep(0.05)


async def wait_outbox_empty(http: httpx.AsyncClient, url: str, timeout: float = 15.0) -> None:
    """Until every stored report has been handed to its host, so no more calls to the host are coming."""
    async with asyncio.timeout(timeout):
        while ((await healthz(http, url)) or {}).get("outbox", 1) > 0:
            await asyncio.sleep(0.05)


def messages_in_state(metrics: str, state: str) -> int:
    found = re.search(rf'channel_engine_messages\{{state="{state}"\}} (\S+)', metrics)
    return int(float(found.group(1))) if found else 0


def assert_all_delivered(views: Iterable[dict[str, Any]]) -> None:
    not_delivered = [(v.get("id"), v.get("state")) for v in views if v.get("state") != "DELIVERED"]
    assert not not_delivered, f"not DELIVERED: {not_delivered[:10]} ({len(not_delivered)} in all)"


def speed_limit(per_minute: int, key: str) -> dict[str, Any]:
    return {"options": {"speedLimit": {"amount": per_minute, "timeUnit": "MINUTE", "key": key}}}


async def post_during_outage(
    http: httpx.AsyncClient, urls: list[str], parts: list[list[dict[str, Any]]]
) -> tuple[list[str], list[list[dict[str, Any]]]]:
    """POST each batch once while Redis is down: the ids acknowledged anyway (none expected: an
    acknowledged message must be durable) and the batches refused (an error status or no answer)."""
    acked: list[str] = []
    refused = []
    for i, batch in enumerate(parts):
        try:
            response = await http.post(f"{urls[i % len(urls)]}/v1/messages", json={"messages": batch})
        except httpx.TransportError:
            refused.append(batch)
            continue
        if response.status_code == 202:
            acked += [m["id"] for m in response.json()["messages"]]
        else:
            assert response.status_code >= 500, response.text
            refused.append(batch)
    return acked, refused


# -- the tests -----------------------------------------------------------------------------------------------


async def test_three_processes_send_each_message_and_report_it_to_the_host_exactly_once(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    total = 300
    arrivals = Arrivals()
    simulator = counting_simulator(arrivals)
    receiver = WebhookReceiver()
    async with (
        serve_app(simulator.app) as provider_url,
        serve_app(receiver.app) as host_url,
        engines(tmp_path, redis_server.url, provider_url) as procs,
        api_client() as http,
    ):
        urls = [e.url for e in procs]
        notify = {"host": {"name": "api", "context": {"notifyUrl": f"{host_url}/reports"}}}
        ids = await post_round_robin(http, urls, [sms(i, **notify) for i in range(total)], size=25)
        assert len(set(ids)) == total

        await simulator.wait_accepted(total, timeout=30)
        await simulator.wait_reported(ids, timeout=30)
        await receiver.wait_for(lambda got: len(got) >= total, timeout=30)
        await wait_outbox_empty(http, urls[1])
        views = await message_views(http, urls, ids)

    assert arrivals.counts == Counter(ids), "each message reaches the provider once, and only ours do"
    assert_all_delivered(views)
    reports = receiver.bodies("/reports")  # one report per call: our normalized report
    delivered = Counter(r["messageId"] for r in reports if r.get("statusGroup") == "DELIVERED")
    assert delivered == Counter(ids), "the host gets each message's DELIVERED report once"
    assert len(reports) == total, "and nothing else"


async def test_a_speed_limit_is_one_schedule_across_processes(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    total, per_minute = 40, 1200  # one message every 50 ms, whichever process sends it
    interval = 60 / per_minute
    arrivals = Arrivals()
    simulator = counting_simulator(arrivals)
    async with (
        serve_app(simulator.app) as provider_url,
        engines(tmp_path, redis_server.url, provider_url) as procs,
        api_client() as http,
    ):
        messages = [sms(i, **speed_limit(per_minute, "one-pace")) for i in range(total)]
        ids = await post_round_robin(http, [e.url for e in procs], messages, size=4)
        await simulator.wait_accepted(total, timeout=30)

    assert arrivals.counts == Counter(ids)
    times = sorted(arrivals.first_at[mid] for mid in ids)
    span = times[-1] - times[0]
    print(f"\nspeed limit: {total} messages over {span:.2f} s (the schedule: {(total - 1) * interval:.2f} s)")
    # Each process pacing only its own share would take about a third of the schedule. The tolerance is
    # for the first send, which may leave later than it was due (a new connection, a busy machine).
    assert span >= (total - 1) * interval - 5 * interval


async def test_a_process_killed_mid_campaign_loses_nothing_and_repeats_only_what_was_on_the_wire(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    total, per_minute = 240, 6000  # one message every 10 ms: the campaign lasts about 2.4 s
    lease = 2.0
    arrivals = Arrivals()
    # Delivery reports slower than the lease, as Infobip's often are: what the victim had on the wire is
    # still SENDING when its lease ends, so it is sent again and the provider sees the repeat.
    simulator = counting_simulator(arrivals, report_delay=lease + 0.5)
    # A 100 ms answer keeps a few requests of each process on the wire at any moment.
    provider = slow_answers(simulator.app, 0.1)
    async with (
        serve_app(provider) as provider_url,
        engines(tmp_path, redis_server.url, provider_url, CHANNEL_ENGINE_LEASE_SECONDS=str(lease)) as procs,
        api_client() as http,
    ):
        urls = [e.url for e in procs]
        messages = [sms(i, **speed_limit(per_minute, "kill")) for i in range(total)]
        ids = await post_round_robin(http, urls, messages, size=20)

        await simulator.wait_accepted(total // 3, timeout=30)
        victim, survivors = procs[-1], urls[:-1]
        victim.process.kill()
        await victim.process.wait()
        # What can be repeated: messages SENDING at the kill (the victim's, and the survivors' own).
        in_flight = messages_in_state((await http.get(f"{survivors[0]}/metrics")).text, "SENDING")
        reached_before_kill = len(arrivals.counts)
        assert reached_before_kill < total, "the kill must come mid-campaign"

        await simulator.wait_accepted(total, timeout=30)
        await simulator.wait_reported(ids, timeout=30)
        views = await message_views(http, survivors, ids)

    settings = Settings()  # the defaults the engines ran with
    wire_bound = settings.dispatch_batch * settings.provider_concurrency
    print(
        f"\nkill: {reached_before_kill}/{total} had reached the provider, {in_flight} SENDING at the kill; "
        f"duplicates at the provider: {arrivals.duplicates} (bounds: {in_flight}, {wire_bound})"
    )
    assert set(arrivals.counts) == set(ids), "every acknowledged message reaches the provider"
    assert_all_delivered(views)
    assert arrivals.duplicates <= in_flight <= wire_bound


async def test_redis_killed_and_restarted_mid_campaign_loses_nothing_acknowledged(tmp_path: Path) -> None:
    total, per_minute = 240, 6000
    redis = RedisServer(tmp_path / "redis").start()  # our own: the other tests' server must not die
    arrivals = Arrivals()
    simulator = counting_simulator(arrivals)
    # Our own ids make a retried POST idempotent, as the README tells clients: nothing is stored twice.
    messages = [sms(i, id=f"outage-{i:04d}", **speed_limit(per_minute, "outage")) for i in range(total)]
    before, during = messages[: total // 2], messages[total // 2 :]
    try:
        async with (
            serve_app(simulator.app) as provider_url,
            engines(tmp_path, redis.url, provider_url, CHANNEL_ENGINE_LEASE_SECONDS="2") as procs,
            api_client() as http,
        ):
            urls = [e.url for e in procs]
            acked = await post_round_robin(http, urls, before, size=20)
            await simulator.wait_accepted(total // 6, timeout=30)

            redis.kill()
            reached_before_outage = len(arrivals.counts)
            acked_anyway, refused = await post_during_outage(http, urls, batches(during, 20))
            acked += acked_anyway
            assert refused, "with Redis down, intake must refuse: it cannot store durably"

            redis.start()  # the same port and append-only file
            await wait_healthy(http, urls)
            # What was not acknowledged, sent again: once Redis answers, the first try must be accepted
            # (every process's pooled connections died with Redis and must reconnect, not fail once each).
            for i, batch in enumerate(refused):
                acked += await post_batch(http, urls[i % len(urls)], batch)

            ids = [m["id"] for m in messages]
            await simulator.wait_accepted(total, timeout=30)
            await simulator.wait_reported(ids, timeout=30)
            views = await message_views(http, urls, ids)
    finally:
        redis.stop()

    print(
        f"\nredis outage: {reached_before_outage}/{total} had reached the provider, {len(refused)} batches "
        f"refused during it; duplicates at the provider: {arrivals.duplicates}"
    )
    assert sorted(acked) == sorted(ids)
    assert set(arrivals.counts) == set(ids), "every acknowledged message reaches the provider"
    assert_all_delivered(views)
