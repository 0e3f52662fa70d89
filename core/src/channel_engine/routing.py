"""The engine's router and app: the shortest way from a request to the endpoint Starlette would call.

`SegmentRouter` looks up a request's first path segment before trying routes one by one. Starlette tries
every route in order until one matches, and each try costs a regex match: an SFMC execute (`/sfmc/...`)
tried our seven API and webhook routes before the SFMC mount, about a tenth of the event loop's time for that
call. Routes whose path starts with a fixed segment are only tried for paths with that segment; a route whose
first segment is a parameter is tried for every path, in its place. The first route that fully matches is
the one Starlette would pick; anything else (a 405, a redirect, a 404) is Starlette's own handling.

`EngineApp` calls a matched `async def endpoint(request)` itself. Starlette passes every request through
its middleware stack (an error middleware, an exception middleware, the router, then a wrapper that looks
for exception handlers again): about 10 µs a request, a third of what the engine's own code spends on
`POST /v1/messages`. The engine has no middleware and no exception handlers of its own, so for it the stack
only turns an `HTTPException` into its response, which the app does too, and an error into a 500, which
uvicorn does (and logs) when an app raises before it answers. With middleware, exception handlers, a body
limit or debug set, and for anything but a plain endpoint (an ASGI app, a sync function, a route with
middleware, a 404, 405 or redirect), the request goes through Starlette's stack as usual.
"""

from __future__ import annotations

import inspect
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.routing import BaseRoute, Match, Mount, Route, Router, WebSocketRoute, request_response
from starlette.types import Receive, Scope, Send

_PATH_ONLY = (Route, Mount, WebSocketRoute)  # route types whose match depends on the method and path alone
# What Route makes of a function endpoint (routes with middleware or a body limit wrap it in more).
_ENDPOINT_WRAPPER = request_response(lambda request: None).__qualname__  # type: ignore[arg-type,return-value]


def first_segment(path: str) -> str:
    return path[1:].partition("/")[0] if path.startswith("/") else ""


def _fixed_segment(route: BaseRoute) -> str | None:
    """The first segment every path of the route starts with, or None when it can be anything."""
    path = route.path if isinstance(route, Route | Mount) else None
    if not path:
        return None
    segment = first_segment(path)
    return None if not segment or "{" in segment else segment


FOUND_KEPT = 1024  # (method, path) answers endpoint_for keeps; all are forgotten when it is full


class _Found:
    """What `SegmentRouter.endpoint_for` found for one method and path, and the route lists it looked in
    with their lengths then. It can be kept when only the method and path decided it (no Host route)."""

    __slots__ = ("added", "keepable", "route", "sizes")

    def __init__(self, route: Route | None, added: dict[str, Any], lists: list[list[BaseRoute]]) -> None:
        self.route = route
        self.added = added
        self.keepable = all(type(r) in _PATH_ONLY for routes in lists for r in routes)
        self.sizes = [(routes, len(routes)) for routes in lists]

    def current(self) -> bool:
        """Whether no list of routes it was found in has grown or shrunk since."""
        return all(len(routes) == size for routes, size in self.sizes)


class SegmentRouter(Router):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._indexed = -1  # how many routes the index covers
        self._by_segment: dict[str, list[BaseRoute]] = {}
        self._anywhere: list[BaseRoute] = []
        self._found: dict[tuple[str, str, str], _Found] = {}  # see endpoint_for

    def _candidates(self, scope: Scope) -> list[BaseRoute]:
        if self._indexed != len(self.routes):  # routes are added after the app is made (the simulator)
            self._index()
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]  # as Starlette's routes see it
        return self._by_segment.get(first_segment(path), self._anywhere)

    def _index(self) -> None:
        routes = list(self.routes)
        fixed = [_fixed_segment(route) for route in routes]
        self._anywhere = [route for route, seg in zip(routes, fixed, strict=True) if seg is None]
        self._by_segment = {
            segment: [route for route, seg in zip(routes, fixed, strict=True) if seg in (segment, None)]
            for segment in {seg for seg in fixed if seg is not None}
        }
        self._indexed = len(routes)

    def endpoint_for(self, scope: Scope) -> tuple[Route, dict[str, Any]] | None:
        """The route of a plain `async def endpoint(request)` that Starlette would call for this request,
        through any mounts, with what its matching adds to the scope; None when Starlette's handling is
        needed for it.

        Matching an SFMC execute (a mount, then a route, each a regular expression) cost about 7 µs, a
        tenth of the execute. When only paths and methods decide (routes and mounts, no hosts), the answer
        for a method and path is kept, and used while no list of routes it was found in has grown."""
        key = (scope["method"], scope.get("root_path", ""), scope["path"])
        known = self._found.get(key)
        if known is None or not known.current():
            known = self._walk(scope)
            if known.keepable:
                if len(self._found) >= FOUND_KEPT:
                    self._found.clear()
                self._found[key] = known
        if known.route is None:
            return None
        added = dict(known.added)
        added["path_params"] = dict(added["path_params"])  # the endpoint's own, as Starlette makes them
        return known.route, added

    def _walk(self, scope: Scope) -> _Found:
        routes, added = self._candidates(scope), {}
        lists: list[list[BaseRoute]] = [self.routes]
        while True:
            matched = _first_full_match(routes, {**scope, **added} if added else scope)
            if matched is None:
                return _Found(None, {}, lists)
            route, child_scope = matched
            added.update(child_scope)
            if isinstance(route, Mount) and _routes_alone(route.app):
                routes = route.routes
                lists.append(routes)
            elif isinstance(route, Route) and _calls_endpoint_alone(route):
                return _Found(route, added, lists)
            else:
                return _Found(None, {}, lists)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched = _first_full_match(self._candidates(scope), scope) if scope["type"] == "http" else None
        if matched is None:  # a partial match (405), a redirect or a 404: Starlette's own handling
            await super().app(scope, receive, send)
            return
        route, child_scope = matched
        scope.setdefault("router", self)
        scope["route"] = route
        scope.update(child_scope)
        await route.handle(scope, receive, send)


def _first_full_match(routes: list[BaseRoute], scope: Scope) -> tuple[BaseRoute, Scope] | None:
    """The first route that fully matches, tried in Starlette's order, and what it adds to the scope."""
    for route in routes:
        match, child_scope = route.matches(scope)
        if match is Match.FULL:
            return route, child_scope
    return None


def _routes_alone(app: Any) -> bool:
    """Whether `app` is a router with no middleware of its own (a mount's `routes=`, not an app)."""
    return isinstance(app, Router) and getattr(app, "middleware_stack", None) == app.app


def _calls_endpoint_alone(route: Route) -> bool:
    """Whether all that Starlette does for this route is awaiting its endpoint and sending the response."""
    wrapped_alone = getattr(route.app, "__qualname__", None) == _ENDPOINT_WRAPPER
    return wrapped_alone and inspect.iscoroutinefunction(route.endpoint)  # a sync one runs in a thread


class EngineApp(Starlette):
    """Starlette, calling plain endpoints itself when its middleware stack has nothing to do for them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._exceptions = ExceptionMiddleware(self.router)  # for its default HTTPException response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        router = self.router
        lean = isinstance(router, SegmentRouter) and _routes_alone(router) and self._stack_is_default()
        if lean and scope["type"] == "http":
            found = router.endpoint_for(scope)
            if found is not None:
                route, added = found
                scope.update(added)
                scope["app"] = self
                scope.setdefault("router", router)
                scope["route"] = route
                request = Request(scope, receive, send)
                try:
                    response = await route.endpoint(request)
                except HTTPException as exc:
                    response = await self._exceptions.http_exception(request, exc)
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def _stack_is_default(self) -> bool:
        body_limit = getattr(self, "max_body_size", None)  # Starlette 1.x
        return not (self.user_middleware or self.exception_handlers or self.debug or body_limit)
