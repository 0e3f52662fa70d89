"""The `rcs` channel: rich messages through Infobip's `POST /rcs/2/messages`."""

from __future__ import annotations

from channel_engine import Channel

SEND_PATH = "/rcs/2/messages"

# Infobip caps a request at 10 MB, not at a number of messages. Identical messages share one entry, so a
# campaign of a thousand fits easily; `payload.py` also splits by size, as one carousel can weigh ~300 kB.
MAX_BATCH = 1000

RCS = Channel(
    name="rcs",
    product="rcs",
    description="RCS through Infobip /rcs/2/messages (text, file, rich card, carousel, suggestions, "
    "SMS failover, seen reports, URL tracking)",
    max_batch=MAX_BATCH,
)
NAME = RCS.name
CHANNELS = (RCS,)
