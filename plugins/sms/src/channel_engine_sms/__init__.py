"""SMS and LMS channels for Channel Engine, through Infobip's `POST /sms/3/messages`.

`plugin` (the entry point) answers the hooks for these two channels; each concern lives in its own module:

- `channels`: the `sms` and `lms` channels
- `validation`: the message content shape (documented there) and every check, with SFMC status texts
- `footer`: the WhatsApp link footer of conversational campaigns (`content.whatsAppFooter`)
- `payload`: request building, batching and splitting
- `reports`: delivery reports (legacy and v3), click notifications and inbound SMS
- `simulator`: the simulator endpoint for `/sms/3/messages`
- `samples`: the demo campaign's SMS and LMS messages

Parts are counted by the core's `count_segments` (GSM-7 / UCS-2, re-exported here) on `message_text`, the text
as sent: `content.text` plus the WhatsApp footer when there is one.
"""

from __future__ import annotations

from channel_engine import ChannelPlugin
from channel_engine.segments import SegmentCount, count_segments

from . import samples, simulator
from .channels import CHANNELS
from .footer import message_text, whatsapp_link
from .payload import build_requests
from .reports import normalize
from .validation import validate

__all__ = ["SegmentCount", "count_segments", "message_text", "plugin", "whatsapp_link"]

plugin = ChannelPlugin(
    CHANNELS,
    validate=validate,
    build=build_requests,
    normalize=normalize,
    endpoints=simulator.endpoints,
    sample=samples.sample,
)
