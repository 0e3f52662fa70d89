"""The `whatsapp` channel and the Infobip endpoints it sends through.

Template messages go to `POST /whatsapp/1/message/template`, many to a request (`messages[]`). Free-form
messages (within the 24-hour customer service window) each have their own endpoint and go one per request.
"""

from __future__ import annotations

from channel_engine import Channel

PRODUCT = "whatsapp"
TEMPLATE = "TEMPLATE"
TEMPLATE_PATH = "/whatsapp/1/message/template"
# content.type -> the endpoint of a free-form message of that type
FREE_FORM_PATHS = {
    "TEXT": "/whatsapp/1/message/text",
    "IMAGE": "/whatsapp/1/message/image",
    "DOCUMENT": "/whatsapp/1/message/document",
    "VIDEO": "/whatsapp/1/message/video",
    "AUDIO": "/whatsapp/1/message/audio",
    "LOCATION": "/whatsapp/1/message/location",
}
CONTENT_TYPES = (TEMPLATE, *FREE_FORM_PATHS)

# Infobip documents no cap on the template endpoint's `messages[]`. WhatsApp's default throughput is 80
# messages a second per sender, so a hundred is about a second of sending: a failed request retries a small,
# bounded amount of work.
MAX_BATCH = 100

WHATSAPP = Channel(
    name="whatsapp",
    product=PRODUCT,
    description="WhatsApp through Infobip: template messages (bulk, header, placeholders, buttons, URL "
    "tracking) and free-form text, image, document, video, audio and location messages",
    max_batch=MAX_BATCH,
)
NAME = WHATSAPP.name
CHANNELS = (WHATSAPP,)
