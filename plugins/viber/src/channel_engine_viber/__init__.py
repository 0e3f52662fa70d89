"""The Viber channel of Channel Engine: Viber Business Messages through Infobip's `POST /viber/2/messages`.

The hooks below only dispatch; each concern lives in its own module:

- `channels`: the `viber` channel
- `validation`: the message content shape (documented there) and every check, with SFMC status texts
- `payload`: request building and batching
- `reports`: delivery and seen reports, click notifications and inbound Viber messages
- `media`: the network check of media URLs (`check_message`, for `POST /v1/messages/check`)
- `simulator`: the simulator endpoint for `/viber/2/messages`
- `samples`: the demo campaign's Viber messages
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from channel_engine import Channel, OutboundMessage, Problem, ProviderRequest, Report, WebhookUrls, hookimpl
from channel_engine.simulator import SimulatorEndpoint

from . import samples, simulator
from .channels import MAX_BATCH, NAME, VIBER
from .media import check_media
from .payload import build_requests
from .reports import normalize
from .validation import validate


@hookimpl
def register_channels(register: Callable[[Channel], None]) -> None:
    register(VIBER)


@hookimpl
def validate_message(message: OutboundMessage) -> list[Problem] | None:
    if message.channel != NAME:
        return None
    return validate(message)


@hookimpl
def check_message(message: OutboundMessage) -> Awaitable[list[Problem]] | None:
    if message.channel != NAME:
        return None
    return check_media(message)


@hookimpl
def build_payload(
    channel: str, messages: list[OutboundMessage], webhooks: WebhookUrls
) -> list[ProviderRequest] | None:
    if channel != NAME:
        return None
    return build_requests(messages, webhooks, MAX_BATCH)


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
