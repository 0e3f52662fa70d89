"""RCS channel for Channel Engine, through Infobip's `POST /rcs/2/messages`.

The hooks below only dispatch; each concern lives in its own module:

- `channels`: the `rcs` channel
- `validation`: the message content shape (documented there) and every check
- `suggestions`, `cards`: suggestions and rich cards, checked and built
- `payload`: request building, batching and splitting
- `reports`: delivery and seen reports, inbound messages and events, click notifications
- `simulator`: the simulator endpoint for `/rcs/2/messages`
- `samples`: the demo campaign's RCS messages
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from channel_engine import Channel, OutboundMessage, Problem, ProviderRequest, Report, WebhookUrls, hookimpl
from channel_engine.simulator import SimulatorEndpoint

from . import samples
from .channels import NAME, RCS
from .payload import build_requests
from .reports import normalize
from .validation import validate


@hookimpl
def register_channels(register: Callable[[Channel], None]) -> None:
    register(RCS)


@hookimpl
def validate_message(message: OutboundMessage) -> list[Problem] | None:
    if message.channel != NAME:
        return None
    return validate(message)


@hookimpl
def build_payload(
    channel: str, messages: list[OutboundMessage], webhooks: WebhookUrls
) -> list[ProviderRequest] | None:
    if channel != NAME:
        return None
    return build_requests(messages, webhooks, RCS.max_batch)


@hookimpl
def normalize_report(channel: str, kind: str, payload: dict[str, Any]) -> list[Report] | None:
    if channel != NAME:
        return None
    return normalize(channel, kind, payload)


@hookimpl
def register_simulator_endpoints(register: Callable[[SimulatorEndpoint], None]) -> None:
    from . import simulator  # the simulator's code loads only when a simulator is built

    for endpoint in simulator.endpoints():
        register(endpoint)


@hookimpl
def sample_message(channel: str, index: int, destination: str, with_link: bool) -> dict[str, Any] | None:
    if channel != NAME:
        return None
    return samples.sample(index, destination, with_link)
