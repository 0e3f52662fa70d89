"""The two channels this plugin provides. Both send through Infobip's `POST /sms/3/messages`."""

from __future__ import annotations

from channel_engine import Channel

SEND_PATH = "/sms/3/messages"

# Infobip documents no cap on `messages[]` per request. A thousand destinations keep one body at a few
# hundred kilobytes, and a failed request retries a bounded amount of work.
MAX_BATCH = 1000

SMS = Channel(
    name="sms",
    product="sms",
    description="SMS through Infobip /sms/3/messages (GSM-7 or UCS-2, multipart, click tracking, India DLT)",
    max_batch=MAX_BATCH,
)
LMS = Channel(
    name="lms",
    product="sms",
    description="Korean long SMS (LMS): an SMS with a title (options.regional.southKorea) and reseller code",
    max_batch=MAX_BATCH,
)
CHANNELS = (SMS, LMS)
NAMES = frozenset(c.name for c in CHANNELS)
