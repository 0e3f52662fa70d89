"""The MMS channel for Channel Engine, through Infobip's `POST /mms/2/messages`.

The hooks below only dispatch; each concern lives in its own module:

- `channels`: the `mms` channel
- `media`: the kinds of media segment and the MIME type each travels with
- `validation`: the message content shape (documented there) and every check
- `payload`: request building, batching and splitting
- `sizes`: the media size check behind `POST /v1/messages/check` (300 KB, 1 MB in the US and Canada)
- `reports`: delivery reports (current and older format), click notifications and inbound MMS
- `simulator`: the simulator endpoint for `/mms/2/messages`
- `samples`: the demo campaign's MMS
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from channel_engine import Channel, OutboundMessage, Problem, ProviderRequest, Report, WebhookUrls, hookimpl
from channel_engine.simulator import SimulatorEndpoint

from . import samples, simulator
from .channels import MMS, NAME
from .payload import build_requests
from .reports import normalize
from .sizes import check_sizes
from .validation import validate


@hookimpl
def register_channels(register: Callable[[Channel], None]) -> None:
    register(MMS)


@hookimpl
def validate_message(message: OutboundMessage) -> list[Problem] | None:
    if message.channel != NAME:
        return None
    return validate(message)


@hookimpl
def check_message(message: OutboundMessage) -> Awaitable[list[Problem]] | None:
    if message.channel != NAME:
        return None
    return check_sizes(message.content)


@hookimpl
def build_payload(
    channel: str, messages: list[OutboundMessage], webhooks: WebhookUrls
) -> list[ProviderRequest] | None:
    if channel != NAME:
        return None
    return build_requests(messages, webhooks, MMS.max_batch)


@hookimpl
def normalize_report(channel: str, kind: str, payload: dict[str, Any]) -> list[Report] | None:
    if channel != NAME:
        return None
    return normalize(channel, kind, payload)


@hookimpl
def register_simulator_endpoints(register: Callable[[SimulatorEndpoint], None]) -> None:
    for endpoint in simulator.endpoints():
        register(endpoint)


@hookimpl
def sample_message(channel: str, index: int, destination: str, with_link: bool) -> dict[str, Any] | None:
    if channel != NAME:
        return None
    return samples.sample(index, destination, with_link)
