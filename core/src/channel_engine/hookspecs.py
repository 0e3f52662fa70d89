"""The whole plugin surface of Channel Engine.

pluggy is synchronous. Hooks that do I/O (`deliver_report`) return an awaitable instead of being `async`:
on a `firstresult` hook an `async def` implementation would always count as an answer, even one that meant
to decline.

Channel hooks are called for every message; an implementation answers only for the channels it
registered and returns None for the others.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import argparse

    from starlette.routing import Route

    from .hosting import HostApp, HostServices
    from .models import OutboundMessage, Problem, ProviderRequest, Report, SendOutcome, WebhookUrls
    from .registry import Channel, Host
    from .simulator.endpoints import SimulatorEndpoint

PROJECT = "channel_engine"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_channels(register: Callable[[Channel], None]) -> None:
    """Call `register(Channel(...))` for every channel this plugin provides.

    A channel name claimed by two plugins stops the engine at start-up."""


@hookspec
def register_hosts(register: Callable[[Host], None]) -> None:
    """Call `register(Host(...))` for every host (a platform that sends through us) this plugin provides."""


@hookspec
def register_host_apps(register: Callable[[HostApp], None], services: HostServices) -> None:
    """Call `register(HostApp(prefix, routes, start, stop))` for the HTTP endpoints a host serves (an SFMC
    activity's `execute`, a configuration API) and the background work it runs while the engine runs.

    `services` is the engine as a host sees it: intake, the host's own stored data, sealed secrets. Two
    plugins registering one prefix stop the engine at start-up."""


@hookspec
def register_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `channel-engine <name>` subcommands: `add(name, help=...)` returns an argparse parser; give it
    `set_defaults(func=...)`, a callable taking the parsed arguments and returning the exit code."""


@hookspec
def validate_message(message: OutboundMessage) -> list[Problem] | None:
    """Check a message before it is accepted. Every implementation runs; their problems are combined.

    Return the problems found (an empty list when the message is fine), or None when the message's channel
    is not yours. A message with any problem is refused, with each problem's field path and reason."""


@hookspec(firstresult=True)
def shorten_urls(message: OutboundMessage) -> OutboundMessage | None:
    """Rewrite the URLs in a message with your own shortener or tracker, before its payload is built.

    Return the rewritten message, or None to leave URLs as they are (Infobip then shortens and tracks them
    itself when the message's `urlOptions` ask for it). Stops at the first non-None answer."""


@hookspec(firstresult=True)
def build_payload(
    channel: str, messages: list[OutboundMessage], webhooks: WebhookUrls
) -> list[ProviderRequest] | None:
    """Turn validated messages of one channel and one account into Infobip requests.

    `webhooks` holds this engine's URLs for the channel's delivery reports and click notifications: put
    them in the payload so reports come back to us.

    Put as many messages into one request as the API allows; split where request-level options differ.
    Every destination must carry the message's own `id` as its messageId. Return None when `channel` is not
    yours. Raise ChannelEngineError to fail the messages with its sentence as the reason. Stops at the first
    non-None answer."""


@hookspec(firstresult=True)
def parse_send_response(
    channel: str, request: ProviderRequest, body: dict[str, Any]
) -> list[SendOutcome] | None:
    """Read Infobip's 200 answer to a request this channel built: one outcome per message.

    Return None when `channel` is not yours; the core reads the common shape (`messages[].messageId` and
    `status`). Stops at the first non-None answer."""


@hookspec(firstresult=True)
def normalize_report(channel: str, kind: str, payload: dict[str, Any]) -> list[Report] | None:
    """Turn one webhook body from Infobip into normalized reports.

    `kind` is the webhook the body arrived at: "reports" (delivery and seen reports share one URL),
    "clicks" or "inbound". `channel` is the channel named in the webhook URL. Return None when the channel is
    not yours; the core's generic parser answers last. Stops at the first non-None answer."""


@hookspec(firstresult=True)
def deliver_report(host: str, report: Report, message: OutboundMessage | None) -> Awaitable[None] | None:
    """Hand a report or inbound message to the host that owns the message.

    Return an awaitable that completes once the host has it (raise to have it retried later), or None when
    `host` is not yours. Stops at the first non-None answer."""


@hookspec
def check_message(message: OutboundMessage) -> Awaitable[list[Problem]] | None:
    """Deeper checks that need the network, such as the size of the media behind a URL. They run when a
    host asks `POST /v1/messages/check` (before it saves a message design), never on the send path.

    Return an awaitable of problems (usually warnings, see `channel_engine.warning`; an empty list when all
    is well), or None when the message's channel is not yours. Every implementation runs."""


@hookspec
def register_simulator_endpoints(register: Callable[[SimulatorEndpoint], None]) -> None:
    """Call `register(endpoint)` for every Infobip send endpoint your channels use, so the built-in
    simulator answers it like Infobip and sends back reports in that channel's format."""


@hookspec
def register_simulator_routes(register: Callable[[Route], None]) -> None:
    """Call `register(starlette.routing.Route(...))` for every Infobip API other than a send endpoint that
    your plugin calls (a sender's template list, a conversation's history), so the built-in simulator
    answers it like Infobip. The simulator checks the `App <key>` header before your endpoint runs."""


@hookspec(firstresult=True)
def sample_message(channel: str, index: int, destination: str, with_link: bool) -> dict[str, Any] | None:
    """A realistic message of your channel for the demo campaign, as a host would POST it to
    `/v1/messages` (wire format: `channel`, `destination`, `sender`, `content`, `options`).

    `index` varies the content; `with_link` asks for a URL with click tracking on (`options.urlOptions`),
    where the channel tracks clicks. You may rewrite `destination` into your channel's number format if
    you keep its last three digits (they pick the simulator's outcome). The message must pass your own
    validation. Return None when `channel`
    is not yours; a channel without a sample is left out of the demo. Stops at the first non-None answer."""
