"""The engine's router: it looks up a request's first path segment before trying routes one by one.

Starlette tries every route in order until one matches, and each try costs a regex match: an SFMC execute
(`/sfmc/...`) tried our seven API and webhook routes before the SFMC mount, about a tenth of the event
loop's time for that call. Routes whose path starts with a fixed segment are only tried for paths with that
segment; a route whose first segment is a parameter is tried for every path, in its place. The first route
that fully matches is the one Starlette would pick; anything else (a 405, a redirect, a 404) is Starlette's
own handling.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import Receive, Scope, Send


def first_segment(path: str) -> str:
    return path[1:].partition("/")[0] if path.startswith("/") else ""


def _fixed_segment(route: BaseRoute) -> str | None:
    """The first segment every path of the route starts with, or None when it can be anything."""
    path = route.path if isinstance(route, Route | Mount) else None
    if not path:
        return None
    segment = first_segment(path)
    return None if not segment or "{" in segment else segment


class SegmentRouter(Router):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._indexed = -1  # how many routes the index covers
        self._by_segment: dict[str, list[BaseRoute]] = {}
        self._anywhere: list[BaseRoute] = []

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

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self._candidates(scope):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self)
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await super().app(scope, receive, send)
