"""The `viber` channel: Viber Business Messages through Infobip's `POST /viber/2/messages`."""

from __future__ import annotations

from channel_engine import Channel

NAME = "viber"
SEND_PATH = "/viber/2/messages"

# Infobip documents no cap on `messages[]` per request. A thousand destinations keep one body at a few
# hundred kilobytes, and a failed request retries a bounded amount of work (as for SMS).
MAX_BATCH = 1000

VIBER = Channel(
    name=NAME,
    product="viber",
    description="Viber Business Messages through Infobip /viber/2/messages (text, image, video, file, "
    "call-to-action button, SMS failover, seen reports, click tracking)",
    max_batch=MAX_BATCH,
)

CHANNELS = (VIBER,)
