"""SegmentRouter picks the route Starlette's own router picks, for every kind of path: fixed first segments,
a parameter as the first segment (tried for every path, in its place), mounts, a route added after the
first request, 405s, slash redirects, 404s and a root path. EngineApp, which calls plain endpoints itself,
answers every request as Starlette does, over real HTTP: HTTPExceptions, errors, sync endpoints, routes and
apps with middleware."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Host, Mount, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from channel_engine.routing import EngineApp, SegmentRouter, first_segment
from channel_engine.testing.servers import serve_app


def answer(name: str):
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse(f"{name} {dict(request.path_params)}")

    return endpoint


def routes() -> list:
    return [
        Route("/v1/messages", answer("messages"), methods=["POST"]),
        Route("/v1/messages/{id}", answer("message"), methods=["GET"]),
        Route("/healthz", answer("health")),
        Route("/{tenant}/status", answer("tenant status")),  # a parameter first: tried for every path
        Route("/webhooks/{channel}/{kind}", answer("webhook"), methods=["POST"]),
        Mount("/sfmc", routes=[Route("/{mid}/message/execute", answer("execute"), methods=["POST"])]),
        Route("/sfmc/{mid}/status", answer("never: the mount takes all of /sfmc/")),
    ]


def app_with(router_class: type[Router]) -> Starlette:
    app = EngineApp() if router_class is SegmentRouter else Starlette()
    app.router = router_class(routes())
    return app


REQUESTS = [
    ("POST", "/v1/messages"),
    ("GET", "/v1/messages"),  # 405: a partial match
    ("GET", "/v1/messages/abc"),
    ("GET", "/healthz"),
    ("GET", "/healthz/"),  # redirected to /healthz
    ("GET", "/acme/status"),
    ("GET", "/sfmc/status"),  # the parameter route, though "sfmc" is a fixed segment of others
    ("POST", "/sfmc/100/message/execute"),
    ("GET", "/sfmc/100/message/execute"),  # 405 inside the mount
    ("GET", "/sfmc/100/status"),
    ("POST", "/webhooks/sms/delivery"),
    ("GET", "/nowhere/at/all"),  # 404
    ("GET", "/later"),  # added after the first request
    ("GET", "/"),
]


async def answers(app: Starlette, root_path: str = "") -> list[tuple[int, str]]:
    transport = httpx.ASGITransport(app=app, root_path=root_path)
    out = []
    async with httpx.AsyncClient(transport=transport, base_url="http://engine") as client:
        for i, (method, path) in enumerate(REQUESTS):
            if i == len(REQUESTS) - 2:
                app.router.routes.append(Route("/later", answer("later")))
            response = await client.request(method, root_path + path, follow_redirects=False)
            out.append((response.status_code, response.text if response.status_code < 300 else ""))
    return out


@pytest.mark.parametrize("root_path", ["", "/engine"])
async def test_segment_router_picks_what_starlettes_router_picks(root_path: str) -> None:
    ours = await answers(app_with(SegmentRouter), root_path)
    theirs = await answers(app_with(Router), root_path)

    assert ours == theirs
    # And the answers are the interesting ones, not all 404s.
    assert ours[0] == (200, "messages {}") and ours[1][0] == 405 and ours[4][0] in (307, 308)
    assert ours[6] == (200, "tenant status {'tenant': 'sfmc'}")
    assert ours[7] == (200, "execute {'mid': '100'}") and ours[8][0] == 405
    assert ours[9][0] == ours[11][0] == 404
    assert ours[12] == (200, "later {}")


def test_first_segment() -> None:
    assert [first_segment(p) for p in ("/sfmc/1/x", "/healthz", "/", "", "relative")] == [
        "sfmc",
        "healthz",
        "",
        "",
        "",
    ]


# -- EngineApp's own way to plain endpoints ---------------------------------------------------------------


class Tagged:
    """Middleware that adds a header to every answer, to show it ran."""

    def __init__(self, app: ASGIApp, tag: str) -> None:
        self.app, self.tag = app, tag

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def tagged(message: dict) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-tag", self.tag.encode())]
            await send(message)

        await self.app(scope, receive, tagged)


async def who(request: Request) -> Response:
    """What an endpoint sees of the request, the app and the route."""
    app_is_ours = request.app is request.scope["router"].owner
    return PlainTextResponse(
        f"{request.method} {request.url.path} {dict(request.path_params)} "
        f"{request.scope['route'].path} {app_is_ours} {request.url_for('who', mid='7')}"
    )


async def teapot(request: Request) -> Response:
    raise HTTPException(418, "short and stout", headers={"x-reason": "tea"})


async def nothing(request: Request) -> Response:
    raise HTTPException(204)


async def broken(request: Request) -> Response:
    raise RuntimeError("the endpoint broke")


def sync_endpoint(request: Request) -> Response:
    return PlainTextResponse("sync")


async def echo(request: Request) -> Response:
    return PlainTextResponse(await request.body())


def lane_routes() -> list:
    return [
        Route("/who/{id}", who, methods=["GET", "POST"]),
        Mount("/sfmc", routes=[Route("/{mid}/who", who, name="who")]),
        Mount("/tagged", routes=[Route("/x", echo)], middleware=[Middleware(Tagged, tag="mount")]),
        Route("/route-tagged", echo, middleware=[Middleware(Tagged, tag="route")]),
        Route("/teapot", teapot),
        Route("/nothing", nothing),
        Route("/broken", broken),
        Route("/sync", sync_endpoint),
        Route("/echo", echo, methods=["POST"]),
    ]


LANE_REQUESTS = [
    ("GET", "/who/1"),
    ("POST", "/who/2?x=1"),
    ("GET", "/sfmc/100/who"),
    ("GET", "/tagged/x"),
    ("GET", "/route-tagged"),
    ("GET", "/teapot"),
    ("GET", "/nothing"),
    ("GET", "/broken"),
    ("GET", "/sync"),
    ("POST", "/echo"),
    ("GET", "/echo"),  # 405
    ("GET", "/who"),  # 404
]
THROUGH_STACK = ["/tagged/x", "/route-tagged", "/sync", "/echo", "/who"]  # the 405 and 404 too


def lane_app(app_class: type[Starlette], **options: object) -> Starlette:
    app = app_class(**options)  # type: ignore[arg-type]
    app.router = SegmentRouter(lane_routes())
    app.router.owner = app  # type: ignore[attr-defined]
    return app


def count_stack_calls(app: Starlette) -> list[str]:
    """The paths of the requests that went through Starlette's middleware stack."""
    calls: list[str] = []
    stack = app.build_middleware_stack()

    async def recording(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            calls.append(scope["path"])
        await stack(scope, receive, send)

    app.middleware_stack = recording
    return calls


async def lane_answers(app: Starlette) -> list[tuple[int, str, str | None, str | None]]:
    async with serve_app(app) as url, httpx.AsyncClient(base_url=url) as client:
        out = []
        for method, path in LANE_REQUESTS:
            response = await client.request(method, path, content=b"body" if method == "POST" else None)
            text = response.text.replace(url, "URL")
            tag, reason = response.headers.get("x-tag"), response.headers.get("x-reason")
            out.append((response.status_code, text, tag, reason))
        return out


async def test_engine_app_answers_as_starlette_and_skips_only_its_stack() -> None:
    ours = lane_app(EngineApp)
    calls = count_stack_calls(ours)

    answers = await lane_answers(ours)

    assert answers == await lane_answers(lane_app(Starlette))
    assert answers[0] == (200, "GET /who/1 {'id': '1'} /who/{id} True URL/sfmc/7/who", None, None)
    assert answers[2] == (200, "GET /sfmc/100/who {'mid': '100'} /{mid}/who True URL/sfmc/7/who", None, None)
    assert [a[2] for a in answers[3:5]] == ["mount", "route"]
    assert answers[5] == (418, "short and stout", None, "tea") and answers[6][0] == 204
    assert answers[7] == (500, "Internal Server Error", None, None)
    assert answers[8][1] == "sync" and answers[9][1] == "body" and answers[10][0] == 405
    assert answers[11][0] == 404
    # Plain async endpoints (an error and an HTTPException included) never met the stack; the rest did.
    assert sorted(set(calls)) == sorted(THROUGH_STACK)


async def test_engine_app_with_middleware_takes_the_stack_for_everything() -> None:
    app = lane_app(EngineApp, middleware=[Middleware(Tagged, tag="app")])
    calls = count_stack_calls(app)

    answers = await lane_answers(app)

    assert all(a[2] is not None and a[2].endswith("app") for a in answers if a[0] == 200)
    assert len(calls) == len(LANE_REQUESTS)


async def test_engine_app_keeps_answers_only_while_they_hold() -> None:
    """The way to an endpoint is kept per method and path: a route added later, in a mount or at the top,
    is found all the same; with a Host route the Host header decides, as in Starlette."""
    mount = Mount("/sfmc", routes=[Route("/{mid}/who", who, name="who")])
    app = EngineApp()
    app.router = SegmentRouter([Route("/late/{id}", answer("late"))])
    app.router.owner = app  # type: ignore[attr-defined]
    app.router.routes.append(mount)
    async with serve_app(app) as url, httpx.AsyncClient(base_url=url) as client:
        first = [(await client.get(path)).status_code for path in ("/sfmc/1/thing", "/sfmc/1/who")]
        mount.routes.insert(0, Route("/{mid}/thing", answer("thing")))
        app.router.routes.insert(0, Route("/sfmc/1/who", answer("shadowing")))
        later = [(await client.get(path)).text for path in ("/sfmc/1/thing", "/sfmc/1/who")]
    assert first == [404, 200]
    assert later == ["thing {'mid': '1'}", "shadowing {}"]

    def hosted(app_class: type[Starlette]) -> Starlette:
        app = app_class()
        app.router = SegmentRouter(
            [
                Host("api.example", app=Router([Route("/x", answer("api host"))])),
                Route("/x", answer("any host")),
            ]
        )
        return app

    async def by_host(app: Starlette) -> list[str]:
        async with serve_app(app) as url, httpx.AsyncClient(base_url=url) as client:
            return [(await client.get("/x", headers={"host": h})).text for h in ("b", "api.example", "b")]

    assert (
        await by_host(hosted(EngineApp))
        == await by_host(hosted(Starlette))
        == ["any host {}", "api host {}", "any host {}"]
    )
