"""Kakao AlimTalk and ChinguTalk channels for Channel Engine, through Infobip's `POST /kakao-alim/1/messages`
and `POST /kakao-chingu/1/messages`.

`plugin` (the entry point) answers the hooks for these two channels; each concern lives in its own module:

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
    endpoints="channel_engine_kakao.simulator:endpoints",  # loaded only when a simulator is built
    sample=samples.sample,
)
