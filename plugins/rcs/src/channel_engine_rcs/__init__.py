"""RCS channel for Channel Engine, through Infobip's `POST /rcs/2/messages`.

`plugin` (the entry point) answers the hooks for the `rcs` channel; each concern lives in its own module:

- `channels`: the `rcs` channel
- `validation`: the message content shape (documented there) and every check
- `suggestions`, `cards`: suggestions and rich cards, checked and built
- `payload`: request building, batching and splitting
- `reports`: delivery and seen reports, inbound messages and events, click notifications
- `simulator`: the simulator endpoint for `/rcs/2/messages`
- `samples`: the demo campaign's RCS messages
"""

from __future__ import annotations

from channel_engine import ChannelPlugin

from . import samples
from .channels import CHANNELS
from .payload import build_requests
from .reports import normalize
from .validation import validate

__all__ = ["plugin"]


plugin = ChannelPlugin(
    CHANNELS,
    validate=validate,
    build=build_requests,
    normalize=normalize,
    endpoints="channel_engine_rcs.simulator:endpoints",  # loaded only when a simulator is built
    sample=samples.sample,
)
