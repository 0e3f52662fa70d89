"""The Viber channel of Channel Engine: Viber Business Messages through Infobip's `POST /viber/2/messages`.

`plugin` (the entry point) answers the hooks for this channel; each concern lives in its own module:

- `channels`: the `viber` channel
- `validation`: the message content shape (documented there) and every check, with SFMC status texts
- `payload`: request building and batching
- `reports`: delivery and seen reports, click notifications and inbound Viber messages
- `media`: the network check of media URLs (`check_message`, for `POST /v1/messages/check`)
- `simulator`: the simulator endpoint for `/viber/2/messages`
- `samples`: the demo campaign's Viber messages
"""

from __future__ import annotations

from channel_engine import ChannelPlugin

from . import samples, simulator
from .channels import CHANNELS
from .media import check_media
from .payload import build_requests
from .reports import normalize
from .validation import validate

__all__ = ["plugin"]

plugin = ChannelPlugin(
    CHANNELS,
    validate=validate,
    check=check_media,
    build=build_requests,
    normalize=normalize,
    endpoints=simulator.endpoints,
    sample=samples.sample,
)
