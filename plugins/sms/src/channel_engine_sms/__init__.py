"""SMS and LMS channels for Channel Engine, through Infobip's `POST /sms/3/messages`.

`plugin` (the entry point) answers the hooks for these two channels; each concern lives in its own module:

- `channels`: the `sms` and `lms` channels
- `segments`: GSM-7 / UCS-2 encoding and SMS part counting
- `validation`: the message content shape (documented there) and every check, with SFMC status texts
- `payload`: request building, batching and splitting
- `reports`: delivery reports (legacy and v3), click notifications and inbound SMS
- `simulator`: the simulator endpoint for `/sms/3/messages`
- `samples`: the demo campaign's SMS and LMS messages
"""

from __future__ import annotations

from channel_engine import ChannelPlugin
from channel_engine.segments import SegmentCount, count_segments

from . import samples, simulator
from .channels import CHANNELS
from .payload import build_requests
from .reports import normalize
from .validation import validate

__all__ = ["SegmentCount", "count_segments", "plugin"]

plugin = ChannelPlugin(
    CHANNELS,
    validate=validate,
    build=build_requests,
    normalize=normalize,
    endpoints=simulator.endpoints,
    sample=samples.sample,
)
