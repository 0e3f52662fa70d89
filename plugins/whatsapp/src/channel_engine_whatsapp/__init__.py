"""The WhatsApp channel of Channel Engine, through Infobip's `/whatsapp/1/message/*` endpoints.

`plugin` (the entry point) answers the hooks for this channel; each concern lives in its own module:

- `channels`: the `whatsapp` channel and its endpoints (template, and one per free-form type)
- `validation`: the message content shape (documented there) and every check, with SFMC status texts;
  `templates` checks template content, `fields` what templates and free-form messages share
- `payload`: request building (bulk templates, one request per free-form message) and Infobip's answers
- `reports`: delivery and seen reports, click notifications and inbound messages
- `simulator`: the simulator's WhatsApp endpoints, in WhatsApp's own formats
- `samples`: the demo campaign's WhatsApp messages
"""

from __future__ import annotations

from channel_engine import ChannelPlugin

from . import samples
from .channels import CHANNELS
from .payload import build_requests, parse_response
from .reports import normalize
from .validation import validate

__all__ = ["plugin"]


plugin = ChannelPlugin(
    CHANNELS,
    validate=validate,
    build=build_requests,
    normalize=normalize,
    endpoints="channel_engine_whatsapp.simulator:endpoints",  # loaded only when a simulator is built
    sample=samples.sample,
    parse_response=parse_response,
    routes="channel_engine_whatsapp.simulator_templates:routes",  # template list, sender quality
)
