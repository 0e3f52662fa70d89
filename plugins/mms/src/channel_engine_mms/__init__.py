"""The MMS channel for Channel Engine, through Infobip's `POST /mms/2/messages`.

`plugin` (the entry point) answers the hooks for the `mms` channel; each concern lives in its own module:

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

from channel_engine import ChannelPlugin

from . import samples, simulator
from .channels import CHANNELS
from .payload import build_requests
from .reports import normalize
from .sizes import check_message
from .validation import validate

__all__ = ["plugin"]

plugin = ChannelPlugin(
    CHANNELS,
    validate=validate,
    check=check_message,
    build=build_requests,
    normalize=normalize,
    endpoints=simulator.endpoints,
    sample=samples.sample,
)
