"""The WhatsApp channel of Channel Engine, through Infobip's `/whatsapp/1/message/*` endpoints.

The hooks below only dispatch; each concern lives in its own module:

- `channels`: the `whatsapp` channel and its endpoints (template, and one per free-form type)
- `validation`: the message content shape (documented there) and every check, with SFMC status texts;
  `templates` checks template content, `fields` what templates and free-form messages share
- `payload`: request building (bulk templates, one request per free-form message) and Infobip's answers
- `reports`: delivery and seen reports, click notifications and inbound messages
- `simulator`: the simulator's WhatsApp endpoints, in WhatsApp's own formats
- `samples`: the demo campaign's WhatsApp messages
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from channel_engine import (
    Channel,
    OutboundMessage,
    Problem,
    ProviderRequest,
    Report,
    SendOutcome,
    WebhookUrls,
    hookimpl,
)
from channel_engine.simulator import SimulatorEndpoint

from . import samples
from .channels import NAME, WHATSAPP
from .payload import build_requests, parse_response
from .reports import normalize
from .validation import validate


@hookimpl
def register_channels(register: Callable[[Channel], None]) -> None:
    register(WHATSAPP)


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
    return build_requests(messages, webhooks, WHATSAPP.max_batch)


@hookimpl
def parse_send_response(
    channel: str, request: ProviderRequest, body: dict[str, Any]
) -> list[SendOutcome] | None:
    if channel != NAME:
        return None
    return parse_response(request, body)


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
