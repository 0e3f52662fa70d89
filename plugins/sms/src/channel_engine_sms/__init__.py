"""SMS and LMS channels for Channel Engine, through Infobip's `POST /sms/3/messages`.

The hooks below only dispatch; each concern lives in its own module:

- `channels`: the `sms` and `lms` channels
- `segments`: GSM-7 / UCS-2 encoding and SMS part counting
- `validation`: the message content shape (documented there) and every check, with SFMC status texts
- `payload`: request building, batching and splitting
- `reports`: delivery reports (legacy and v3), click notifications and inbound SMS
- `simulator`: the simulator endpoint for `/sms/3/messages`
- `samples`: the demo campaign's SMS and LMS messages
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from channel_engine import Channel, OutboundMessage, Problem, ProviderRequest, Report, WebhookUrls, hookimpl
from channel_engine.segments import SegmentCount, count_segments
from channel_engine.simulator import SimulatorEndpoint

from . import samples, simulator
from .channels import CHANNELS, NAMES
from .payload import build_requests
from .reports import normalize
from .validation import validate

__all__ = ["SegmentCount", "count_segments"]

_MAX_BATCH = {channel.name: channel.max_batch for channel in CHANNELS}


@hookimpl
def register_channels(register: Callable[[Channel], None]) -> None:
    for channel in CHANNELS:
        register(channel)


@hookimpl
def validate_message(message: OutboundMessage) -> list[Problem] | None:
    if message.channel not in NAMES:
        return None
    return validate(message)


@hookimpl
def build_payload(
    channel: str, messages: list[OutboundMessage], webhooks: WebhookUrls
) -> list[ProviderRequest] | None:
    if channel not in NAMES:
        return None
    return build_requests(channel, messages, webhooks, _MAX_BATCH[channel])


@hookimpl
def normalize_report(channel: str, kind: str, payload: dict[str, Any]) -> list[Report] | None:
    if channel not in NAMES:
        return None
    return normalize(channel, kind, payload)


@hookimpl
def register_simulator_endpoints(register: Callable[[SimulatorEndpoint], None]) -> None:
    for endpoint in simulator.endpoints():
        register(endpoint)


@hookimpl
def sample_message(channel: str, index: int, destination: str, with_link: bool) -> dict[str, Any] | None:
    if channel not in NAMES:
        return None
    return samples.sample(channel, index, destination, with_link)
