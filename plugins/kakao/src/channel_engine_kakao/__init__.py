"""Kakao AlimTalk and ChinguTalk channels for Channel Engine, through Infobip's `POST /kakao-alim/1/messages`
and `POST /kakao-chingu/1/messages`.

The hooks below only dispatch; each concern lives in its own module:

- `channels`: the `kakao-alim` and `kakao-chingu` channels and their send paths
- `validation`: the content shapes (documented there) and every check, with SFMC status texts
- `buttons`: the button types of each API, their checks and their request objects
- `failover`: the SMS failover block
- `payload`: request building and batching
- `reports`: delivery reports and (ChinguTalk) click notifications
- `simulator`: the simulator's endpoints for both paths (loaded only when the simulator asks)
- `samples`: the demo campaign's messages
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from channel_engine import Channel, OutboundMessage, Problem, ProviderRequest, Report, WebhookUrls, hookimpl

from . import samples
from .channels import CHANNELS, NAMES
from .payload import build_requests
from .reports import normalize
from .validation import validate

if TYPE_CHECKING:
    from channel_engine.simulator import SimulatorEndpoint

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
    from . import simulator  # the simulator's code loads only when a simulator is built

    for endpoint in simulator.endpoints():
        register(endpoint)


@hookimpl
def sample_message(channel: str, index: int, destination: str, with_link: bool) -> dict[str, Any] | None:
    if channel not in NAMES:
        return None
    return samples.sample(channel, index, destination, with_link)
