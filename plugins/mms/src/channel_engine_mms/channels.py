"""The `mms` channel: Infobip's `POST /mms/2/messages` (the new-gen envelope: `messages[].destinations[]`,
`content.title` and `content.messageSegments`)."""

from __future__ import annotations

from channel_engine import Channel

SEND_PATH = "/mms/2/messages"
NAME = "mms"

# The spec caps neither `messages[]` nor `destinations[]`. A thousand messages keep one body at a few hundred
# kilobytes (media travel as URLs), and a failed request retries a bounded amount of work.
MAX_BATCH = 1000

MMS = Channel(
    name=NAME,
    product="mms",
    description="MMS through Infobip /mms/2/messages: title, text and media by URL, SMS failover, "
    "click tracking",
    max_batch=MAX_BATCH,
)

CHANNELS = (MMS,)
