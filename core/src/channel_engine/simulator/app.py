"""The simulator: an ASGI app that answers Infobip's send endpoints and sends reports back like Infobip.

    sim = create_simulator([NewGenEndpoint("/sms/3/messages", "sms")], api_keys={"key"})
    # serve sim.app (its lifespan starts the report sender), send to it, then:
    await sim.wait_reported(message_ids)

What happens to each message depends on its destination's last three digits (`outcomes.py`). A
messageId seen before is answered REJECTED_DUPLICATE_MESSAGE_ID and reported no second time. The send
answer never waits for reports: they are queued for the background `Reporter`.

`GET /-/simulator/outcomes` lists the magic destinations; `GET /-/simulator/stats` the counters.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING, Any

import httpx
import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import PluginError
from ..reports import infobip_time
from .apierrors import api_error
from .endpoints import Outcome, RequestViolation, SimulatedSend, SimulatorEndpoint
from .links import DEFAULT_SHORT_DOMAIN, Shortener, ShortLink, find_urls
from .outcomes import REJECTED_DUPLICATE_MESSAGE_ID, Magic, magic_for, magic_table
from .reporter import CLICK, INBOUND, REPORT, SEEN, Job, Reporter

if TYPE_CHECKING:
    from ..plugins import Plugins

_decode = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode


class Simulator:
    """An Infobip stand-in: `.app` to serve, `start()`/`stop()` for its report sender, and what it saw.

    Inspection: `accepted` (messageId -> SimulatedSend, the latest `max_remembered`), `requests`,
    `duplicates`, `refused` (requests answered 429/500 on purpose), `links` and `delivered_text` (messageId
    -> short links / the text as shortened), `reporter` (its `posts`, `posted`, `failures`, `dropped`) and
    `wait_reported()`."""

    def __init__(
        self,
        endpoints: Iterable[SimulatorEndpoint],
        *,
        api_keys: set[str],
        report_delay: float = 0.05,
        bucket_size: int = 100,
        inbound_url: str | None = None,
        http: httpx.AsyncClient | None = None,
        retry_delay: float = 0.5,
        max_attempts: int = 10,
        short_domain: str = DEFAULT_SHORT_DOMAIN,
        max_remembered: int | None = 500_000,
        routes: Iterable[Route] = (),
    ) -> None:
        self.endpoints: dict[str, SimulatorEndpoint] = {}
        for endpoint in endpoints:
            other = self.endpoints.get(endpoint.path)
            if other is not None:
                raise ValueError(f"two simulator endpoints for {endpoint.path}: {other!r} and {endpoint!r}")
            self.endpoints[endpoint.path] = endpoint
        self.api_keys = frozenset(api_keys)
        self.report_delay = report_delay
        self.inbound_url = inbound_url  # "{channel}" in it is replaced by the endpoint's channel
        self.reporter = Reporter(
            bucket_size=bucket_size, http=http, retry_delay=retry_delay, max_attempts=max_attempts
        )
        self.shortener = Shortener(short_domain)
        self.accepted: dict[str, SimulatedSend] = {}
        # Only the latest `max_remembered` sends are kept (and checked for duplicate ids), so a long load
        # test does not grow without bound; None keeps all.
        self.max_remembered = max_remembered
        self._arrival: deque[str] = deque()
        self.links: dict[str, list[ShortLink]] = {}
        self.delivered_text: dict[str, str] = {}
        self.requests = 0
        self.accepted_total = 0  # distinct messages accepted since start (not capped like `accepted`)
        self._accept_waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self.duplicates = 0
        self.refused = 0
        self._failed_once: set[str] = set()
        served = [
            Route(path, self._route(endpoint), methods=["POST"]) for path, endpoint in self.endpoints.items()
        ]
        served += [Route(r.path, self._guarded(r.endpoint), methods=r.methods) for r in routes]
        served += [
            Route("/account/1/balance", self._balance, methods=["GET"]),
            Route("/-/simulator/outcomes", self._outcomes, methods=["GET"]),
            Route("/-/simulator/stats", self._stats, methods=["GET"]),
        ]
        self.app = Starlette(routes=served, lifespan=self._lifespan)

    # --- life cycle and inspection ---

    async def start(self) -> None:
        await self.reporter.start()

    async def stop(self) -> None:
        await self.reporter.stop()

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    async def wait_reported(
        self, message_ids: Iterable[str] | None = None, timeout: float | None = 10.0
    ) -> None:
        """Return once every report, click and reply of these messages (default: of all messages so far)
        has been posted (or given up on, see `reporter.dropped`). A named message the simulator has not
        accepted yet is waited for first: an engine may not have sent it when this is called (it would
        otherwise count as a message with nothing to report, which counts as done). Raises TimeoutError
        after `timeout` seconds."""
        async with asyncio.timeout(timeout):
            if message_ids is not None:
                message_ids = list(message_ids)
                await self._accepted_when(lambda: all(m in self.accepted for m in message_ids))
            await self.reporter.wait(message_ids)

    async def wait_accepted(self, count: int, timeout: float | None = 10.0) -> None:
        """Return once `count` distinct messages have been accepted since start."""
        async with asyncio.timeout(timeout):
            await self._accepted_when(lambda: self.accepted_total >= count)

    async def _accepted_when(self, done: Callable[[], bool]) -> None:
        if done():
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiter = (done, future)
        self._accept_waiters.append(waiter)
        try:
            await future
        finally:
            self._accept_waiters.remove(waiter)

    def _wake_accept_waiters(self) -> None:
        for done, future in self._accept_waiters:
            if not future.done() and done():
                future.set_result(None)

    def stats(self) -> dict[str, int]:
        r = self.reporter
        return {
            "requests": self.requests,
            "accepted": len(self.accepted),
            "duplicates": self.duplicates,
            "refused": self.refused,
            "posts": r.posts,
            "posted": r.posted,
            "failures": r.failures,
            "dropped": r.dropped,
            "pending": r.pending,
        }

    async def _balance(self, request: Request) -> Response:
        """Infobip's account balance: what a host checks an API key and base URL with."""
        if not self._authorized(request.headers.get("authorization")):
            return api_error(401)
        return JSONResponse({"balance": 1000.0, "currency": "EUR"})

    async def _outcomes(self, request: Request) -> Response:
        return JSONResponse(magic_table())

    async def _stats(self, request: Request) -> Response:
        return JSONResponse(self.stats())

    # --- the send endpoints ---

    def _route(self, endpoint: SimulatorEndpoint):  # type: ignore[no-untyped-def]
        async def send(request: Request) -> Response:
            return await self.handle_send(endpoint, request)

        return send

    def _guarded(self, endpoint: Any):  # type: ignore[no-untyped-def]
        """A plugin's route (`register_simulator_routes`), answered 401 like Infobip without the API key."""

        async def guarded(request: Request) -> Response:
            self.requests += 1
            if not self._authorized(request.headers.get("authorization")):
                return api_error(401)
            return await endpoint(request)

        return guarded

    def _authorized(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, key = header.partition(" ")
        return scheme.lower() == "app" and key.strip() in self.api_keys

    async def handle_send(self, endpoint: SimulatorEndpoint, request: Request) -> Response:
        self.requests += 1
        if not self._authorized(request.headers.get("authorization")):
            return api_error(401)
        raw = await request.body()
        try:
            body = _decode(raw)
        except msgspec.DecodeError as exc:
            return api_error(400, [("body", f"malformed JSON: {exc}")])
        if not isinstance(body, dict):
            return api_error(400, [("body", "must be a JSON object")])
        try:
            sends = endpoint.parse(body)
        except RequestViolation as exc:
            return api_error(400, exc.violations)
        except ValueError as exc:
            return api_error(400, [("", str(exc))])
        magics = [magic_for(send.to) for send in sends]
        refuse = self._refusal(sends, magics)
        if refuse:
            self.refused += 1
            return api_error(refuse)
        bulk_id = next((s.bulk_id for s in sends if s.bulk_id), None) or str(uuid.uuid4())
        statuses = self._accept(endpoint, sends, magics, bulk_id)
        return Response(_encode(endpoint.response(sends, statuses, bulk_id)), media_type="application/json")

    def _refusal(self, sends: list[SimulatedSend], magics: list[Magic]) -> int | None:
        """The HTTP status the whole request fails with, the first time it carries a 995/996 messageId."""
        first = [(s.message_id, m.http_error) for s, m in zip(sends, magics, strict=True) if m.http_error]
        first = [(mid, status) for mid, status in first if mid not in self._failed_once]
        if not first:
            return None
        status = min(status for _, status in first if status is not None)  # 429 before 500
        # Only the messages whose failure this is count as failed: a 996 beside a 995 fails on the retry.
        self._failed_once.update(mid for mid, s in first if s == status)
        return status

    def _remember(self, message_id: str) -> None:
        if self.max_remembered is None:
            return
        arrival = self._arrival
        arrival.append(message_id)
        if len(arrival) > self.max_remembered:
            oldest = arrival.popleft()
            self.accepted.pop(oldest, None)
            self.links.pop(oldest, None)
            self.delivered_text.pop(oldest, None)

    def _accept(
        self, endpoint: SimulatorEndpoint, sends: list[SimulatedSend], magics: list[Magic], bulk_id: str
    ) -> list[Outcome]:
        """Record the sends, queue their reports, and return their submit statuses."""
        now = asyncio.get_running_loop().time()
        sent_at = infobip_time(time.time())
        soon: list[Job] = []  # due after report_delay
        # due after twice report_delay: final reports that follow an intermediate one, seen reports, clicks,
        # replies
        later: list[Job] = []
        statuses: list[Outcome] = []
        accepted = self.accepted
        count_messages = getattr(endpoint, "count_messages", None)
        for send, magic in zip(sends, magics, strict=True):
            send.bulk_id = send.bulk_id or bulk_id
            mid = send.message_id
            if mid in accepted:
                self.duplicates += 1
                statuses.append(REJECTED_DUPLICATE_MESSAGE_ID)
                continue
            accepted[mid] = send
            self.accepted_total += 1
            self._remember(mid)
            statuses.append(magic.submit)
            links: list[ShortLink] = []
            if send.shorten_url and send.text:
                text, links = self.shortener.shorten(
                    send.text, custom_domain=send.custom_domain, remove_protocol=send.remove_protocol
                )
                if links:
                    self.links[mid] = links
                    self.delivered_text[mid] = text
                    if count_messages is not None:
                        send.message_count = count_messages(text)
            if magic.final is None:
                continue
            dlr_url = send.delivery_url
            if dlr_url:
                final = Job(REPORT, dlr_url, endpoint, send, sent_at=sent_at, outcome=magic.final)
                if magic.intermediate is not None and send.intermediate_report:
                    soon.append(
                        Job(REPORT, dlr_url, endpoint, send, sent_at=sent_at, outcome=magic.intermediate)
                    )
                    later.append(final)
                else:
                    soon.append(final)
            if magic.seen and send.seen_url:
                later.append(Job(SEEN, send.seen_url, endpoint, send, sent_at=sent_at))
            if magic.clicks and send.track_clicks and send.tracking_url:
                urls = [link.url for link in links] if links else find_urls(send.text)
                later += [
                    Job(CLICK, send.tracking_url, endpoint, send, sent_at=sent_at, detail=url) for url in urls
                ]
            if magic.reply and self.inbound_url:
                mo_url = self.inbound_url.replace("{channel}", endpoint.channel)
                mo_id = str(uuid.uuid4())
                later.append(
                    Job(INBOUND, mo_url, endpoint, send, sent_at=sent_at, detail=magic.reply, ref=mo_id)
                )
        self._wake_accept_waiters()
        if soon:
            self.reporter.schedule(now + self.report_delay, soon)
        if later:
            self.reporter.schedule(now + 2 * self.report_delay, later)
        return statuses


def create_simulator(
    endpoints: list[SimulatorEndpoint],
    *,
    api_keys: set[str],
    report_delay: float = 0.05,
    bucket_size: int = 100,
    inbound_url: str | None = None,
    http: httpx.AsyncClient | None = None,
    **options: Any,
) -> Simulator:
    """A simulator serving `endpoints`. Reports go out `report_delay` seconds after the send, at most
    `bucket_size` to a POST; replies (destinations ending 998) go to `inbound_url`. Pass `http` to share an
    httpx client (the simulator then leaves closing it to you). `options`: `retry_delay` (the first retry's
    backoff, doubled each time), `max_attempts` (per report), `short_domain` (of short links),
    `max_remembered` (sends kept in `accepted` and checked for duplicates; None for all)."""
    return Simulator(
        endpoints,
        api_keys=api_keys,
        report_delay=report_delay,
        bucket_size=bucket_size,
        inbound_url=inbound_url,
        http=http,
        **options,
    )


def collect_endpoints(plugins: Plugins) -> list[SimulatorEndpoint]:
    """Every endpoint the plugins register; two plugins registering one path is a PluginError."""
    found: dict[str, tuple[SimulatorEndpoint, str]] = {}
    for impl in plugins.hook.register_simulator_endpoints.get_hookimpls():

        def register(endpoint: SimulatorEndpoint, _owner: str = impl.plugin_name) -> None:
            path = getattr(endpoint, "path", None)
            if not isinstance(path, str) or not callable(getattr(endpoint, "parse", None)):
                raise PluginError(
                    f"plugin {_owner!r} registered {endpoint!r}, which is not a SimulatorEndpoint"
                )
            if path in found:
                first = found[path][1]
                raise PluginError(
                    f"simulator endpoint {path} is registered by two plugins: {first!r} and {_owner!r}"
                )
            found[path] = (endpoint, _owner)

        impl.function(register=register)
    return [endpoint for endpoint, _ in found.values()]


def collect_routes(plugins: Plugins) -> list[Route]:
    """Every other Infobip API the plugins serve in the simulator; two plugins on one path and method is a
    PluginError."""
    found: dict[tuple[str, str], tuple[Route, str]] = {}
    for impl in plugins.hook.register_simulator_routes.get_hookimpls():

        def register(route: Route, _owner: str = impl.plugin_name) -> None:
            if not isinstance(route, Route):
                raise PluginError(f"plugin {_owner!r} registered {route!r}, which is not a starlette Route")
            for method in sorted((route.methods or {"GET"}) - {"HEAD"}) or ["GET"]:
                if (route.path, method) in found:
                    first = found[(route.path, method)][1]
                    raise PluginError(
                        f"simulator route {method} {route.path} is registered by two plugins: {first!r} and "
                        f"{_owner!r}"
                    )
                found[(route.path, method)] = (route, _owner)

        impl.function(register=register)
    return list({id(route): route for route, _ in found.values()}.values())


def simulator_from_plugins(plugins: Plugins, **kw: Any) -> Simulator:
    """A simulator for every send endpoint the installed plugins register (`register_simulator_endpoints`)
    and every other Infobip API they serve in it (`register_simulator_routes`).

    Keyword arguments are `create_simulator`'s."""
    return create_simulator(collect_endpoints(plugins), routes=collect_routes(plugins), **kw)
