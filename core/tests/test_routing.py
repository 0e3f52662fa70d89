"""SegmentRouter picks the route Starlette's own router picks, for every kind of path: fixed first segments,
a parameter as the first segment (tried for every path, in its place), mounts, a route added after the
first request, 405s, slash redirects, 404s and a root path."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route, Router

from channel_engine.routing import SegmentRouter, first_segment


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
    app = Starlette()
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
