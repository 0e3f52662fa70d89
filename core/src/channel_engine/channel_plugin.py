"""`ChannelPlugin`: the hooks of a channel plugin, each answering only for the plugin's own channels.

A channel plugin writes its concerns as plain functions and hands them over; the entry point names the
instance (`sms = "channel_engine_sms:plugin"`):

    plugin = ChannelPlugin(
        CHANNELS,
        validate=validate,                 # (message) -> problems
        build=build_requests,              # (channel, messages, webhooks) -> requests
        normalize=normalize,               # (channel, kind, payload) -> reports
        endpoints=simulator.endpoints,     # () -> simulator endpoints
        sample=samples.sample,             # (channel, index, destination, with_link) -> wire message
    )

Optional: `check` (message) -> awaitable of problems, `parse_response` (channel, request, body) ->
outcomes, `routes` () -> starlette Routes of the channel's other Infobip APIs for the simulator (a
sender's template list). A hook whose function is not given answers None, as a plugin without that hook
would. `endpoints` and `routes` may also be "module:function" paths: the module is imported only when a
simulator is built, so an engine that talks to the real Infobip never loads the plugin's simulator code.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from .hookspecs import hookimpl
from .models import OutboundMessage, Problem, ProviderRequest, Report, SendOutcome, WebhookUrls
from .registry import Channel

if TYPE_CHECKING:
    from starlette.routing import Route

    from .simulator.endpoints import SimulatorEndpoint


def _load(factory: Callable[[], Any] | str) -> Callable[[], Any]:
    """A factory given directly, or as a "module:function" path imported now."""
    if isinstance(factory, str):
        module, _, function = factory.partition(":")
        return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]
    return factory


class ChannelPlugin:
    def __init__(
        self,
        channels: Iterable[Channel],
        *,
        validate: Callable[[OutboundMessage], list[Problem]],
        build: Callable[[str, list[OutboundMessage], WebhookUrls], list[ProviderRequest]],
        normalize: Callable[[str, str, dict[str, Any]], list[Report]],
        endpoints: Callable[[], Iterable[SimulatorEndpoint]] | str = tuple,
        sample: Callable[[str, int, str, bool], dict[str, Any]] | None = None,
        check: Callable[[OutboundMessage], Awaitable[list[Problem]]] | None = None,
        parse_response: Callable[[str, ProviderRequest, dict[str, Any]], list[SendOutcome]] | None = None,
        routes: Callable[[], Iterable[Route]] | str = tuple,
    ) -> None:
        self.channels = tuple(channels)
        self.names = frozenset(c.name for c in self.channels)
        self._validate = validate
        self._build = build
        self._normalize = normalize
        self._endpoints = endpoints
        self._sample = sample
        self._check = check
        self._parse_response = parse_response
        self._routes = routes

    def __repr__(self) -> str:
        return f"ChannelPlugin({', '.join(sorted(self.names))})"

    @hookimpl
    def register_channels(self, register: Callable[[Channel], None]) -> None:
        for channel in self.channels:
            register(channel)

    @hookimpl
    def validate_message(self, message: OutboundMessage) -> list[Problem] | None:
        return self._validate(message) if message.channel in self.names else None

    @hookimpl
    def check_message(self, message: OutboundMessage) -> Awaitable[list[Problem]] | None:
        if self._check is None or message.channel not in self.names:
            return None
        return self._check(message)

    @hookimpl
    def build_payload(
        self, channel: str, messages: list[OutboundMessage], webhooks: WebhookUrls
    ) -> list[ProviderRequest] | None:
        return self._build(channel, messages, webhooks) if channel in self.names else None

    @hookimpl
    def parse_send_response(
        self, channel: str, request: ProviderRequest, body: dict[str, Any]
    ) -> list[SendOutcome] | None:
        if self._parse_response is None or channel not in self.names:
            return None
        return self._parse_response(channel, request, body)

    @hookimpl
    def normalize_report(self, channel: str, kind: str, payload: dict[str, Any]) -> list[Report] | None:
        return self._normalize(channel, kind, payload) if channel in self.names else None

    @hookimpl
    def register_simulator_endpoints(self, register: Callable[[SimulatorEndpoint], None]) -> None:
        for endpoint in _load(self._endpoints)():
            register(endpoint)

    @hookimpl
    def register_simulator_routes(self, register: Callable[[Route], None]) -> None:
        for route in _load(self._routes)():
            register(route)

    @hookimpl
    def sample_message(
        self, channel: str, index: int, destination: str, with_link: bool
    ) -> dict[str, Any] | None:
        if self._sample is None or channel not in self.names:
            return None
        return self._sample(channel, index, destination, with_link)
