"""Checks a WhatsApp message before the engine accepts it.

`content.type` says what kind of message it is. A template message can be sent at any time:

    {
      "type": "TEMPLATE",
      "templateName": "order_shipped",        # required: lowercase letters, digits, _ (<= 512)
      "language": "en_GB",                    # required: as the template was registered
      "header": {"type": "IMAGE", "mediaUrl": "https://..."},   # only if the template has one:
                        # TEXT {placeholder} | IMAGE, VIDEO {mediaUrl} | DOCUMENT {mediaUrl, filename}
                        # | LOCATION {latitude, longitude}
      "placeholders": ["Ana", "https://shop.example.com/track/123"],   # body {{1}}, {{2}}... in order
      "buttons": [                            # the template's fillable buttons, in its registered order
        {"type": "QUICK_REPLY", "parameter": "stop-promos"},   # payload, <= 128
        {"type": "URL", "parameter": "track/123"},             # dynamic URL suffix (at most two)
        {"type": "COPY_CODE", "parameter": "SPRING15"}         # coupon code, <= 15 (at most one)
      ]
    }

Free-form messages go only inside the 24-hour customer service window (after the end user last wrote):

    {"type": "TEXT", "text": "...", "previewUrl": true}               # text 1-4096
    {"type": "IMAGE", "mediaUrl": "https://...", "caption": "..."}   # caption <= 3000
    {"type": "VIDEO", "mediaUrl": "https://...", "caption": "..."}
    {"type": "DOCUMENT", "mediaUrl": "https://...", "caption": "...", "filename": "menu.pdf"}
    {"type": "AUDIO", "mediaUrl": "https://...", "voice": false}
    {"type": "LOCATION", "latitude": 45.81, "longitude": 15.98, "name": "...", "address": "..."}

Each free-form type may also carry `replyToMessageId` (the inbound message it answers). Any other key is
refused, so a misspelt field never silently drops out of the request.

The sender is the registered WhatsApp sender number and is required ("Error: Invalid from field"); the
destination is a phone number in international format or a WhatsApp business-scoped user ID (BSUID,
`US.1349120865530274191`). Options Infobip's WhatsApp endpoints do not take (a validity period; a bulk ID or
URL options where the endpoint has none) are warnings: the message goes, without them.
"""

from __future__ import annotations

import re
from typing import Any

from channel_engine import OutboundMessage, Problem, problem, warning
from channel_engine.checks import (
    INTERNATIONAL_NUMBER,
    check_callback_data,
    check_destination,
    check_keys,
    check_text,
    check_url_options,
)

from .channels import CONTENT_TYPES, FREE_FORM_PATHS, TEMPLATE
from .fields import check_flag, check_location, check_media_url
from .templates import check_template

BSUID = re.compile(r"[A-Z]{2}(?:\.[A-Za-z0-9]+)+")  # Meta's business-scoped user ID, e.g. US.13491208655
DESTINATION_MAX = 150  # `to` maxLength in the spec
TEXT_MAX = 4096  # TextContent.text maxLength
CAPTION_MAX = 3000  # caption maxLength of images, videos and documents
FILENAME_MAX = 240  # DocumentContent.filename maxLength
PLACE_TEXT_MAX = 1000  # LocationContent name and address maxLength
URL_IN_TEXT = re.compile(r"https?://\S", re.IGNORECASE)

FREE_FORM_KEYS = {
    "TEXT": ("type", "text", "previewUrl", "replyToMessageId"),
    "IMAGE": ("type", "mediaUrl", "caption", "replyToMessageId"),
    "VIDEO": ("type", "mediaUrl", "caption", "replyToMessageId"),
    "DOCUMENT": ("type", "mediaUrl", "caption", "filename", "replyToMessageId"),
    "AUDIO": ("type", "mediaUrl", "voice", "replyToMessageId"),
    "LOCATION": ("type", "latitude", "longitude", "name", "address", "replyToMessageId"),
}
# The endpoints whose spec has no `urlOptions`: there is no text to shorten links in.
UNTRACKED_TYPES = frozenset({"AUDIO", "LOCATION"})


def validate(message: OutboundMessage) -> list[Problem]:
    """Every problem of a whatsapp message, in field order; [] when it may be sent. Warnings do not refuse."""
    kind = content_type(message)
    problems = _destination(message.destination)
    problems += _sender(message.sender)
    problems += _content(message.content)
    problems += _url_options(message, kind)
    problems += check_callback_data(message)
    problems += _options_not_sent(message, kind)
    return problems


def content_type(message: OutboundMessage) -> str | None:
    kind = message.content.get("type")
    return kind if kind in CONTENT_TYPES else None


def _destination(destination: str | None) -> list[Problem]:
    if destination and len(destination) <= DESTINATION_MAX and BSUID.fullmatch(destination):
        return []
    return check_destination(destination)


def _sender(sender: str | None) -> list[Problem]:
    path = "$.sender"
    if sender is None or not sender.strip():
        reason = (
            "sender is missing: WhatsApp sends from your registered WhatsApp sender number, in "
            "international format (e.g. 441134960000)"
        )
    elif not INTERNATIONAL_NUMBER.fullmatch(sender):
        reason = (
            f"sender {sender!r} is not a WhatsApp sender number: the registered number in international "
            "format, country code first, 7 to 15 digits"
        )
    else:
        return []
    return [problem("invalid_sender", path, reason)]


def _content(content: dict[str, Any]) -> list[Problem]:
    kind = content.get("type")
    path = "$.content.type"
    if kind is None:
        return [
            problem(
                "missing_field",
                path,
                "content.type is missing: TEMPLATE for an approved template, or TEXT, IMAGE, VIDEO, "
                "DOCUMENT, AUDIO or LOCATION for a free-form message inside the 24-hour customer service "
                "window",
            )
        ]
    if kind not in CONTENT_TYPES:
        return [
            problem("invalid_field", path, f"content.type {kind!r} is not one of {', '.join(CONTENT_TYPES)}")
        ]
    if kind == TEMPLATE:
        return check_template(content)
    return _free_form(kind, content)


def _free_form(kind: str, content: dict[str, Any]) -> list[Problem]:
    problems = check_keys(content, FREE_FORM_KEYS[kind], "$.content", f"a {kind} message's content")
    if kind == "TEXT":
        problems += _text(content)
    elif kind == "LOCATION":
        problems += check_location(content, "$.content")
        for key in ("name", "address"):
            problems += check_text(content.get(key), f"$.content.{key}", limit=PLACE_TEXT_MAX, required=False)
    else:
        problems += check_media_url(content.get("mediaUrl"), "$.content.mediaUrl", kind.lower())
        if "caption" in content:
            problems += check_text(content["caption"], "$.content.caption", limit=CAPTION_MAX)
        if "filename" in content:
            problems += check_text(
                content["filename"], "$.content.filename", limit=FILENAME_MAX, code="invalid_field"
            )
        problems += check_flag(content.get("voice"), "$.content.voice")
    reply_to = content.get("replyToMessageId")
    if reply_to is not None and (not isinstance(reply_to, str) or not reply_to.strip()):
        problems.append(
            problem(
                "invalid_field",
                "$.content.replyToMessageId",
                "content.replyToMessageId must be the messageId of an inbound message",
            )
        )
    return problems


def _text(content: dict[str, Any]) -> list[Problem]:
    text = content.get("text")
    problems = check_text(text, "$.content.text", limit=TEXT_MAX)
    problems += check_flag(content.get("previewUrl"), "$.content.previewUrl")
    if content.get("previewUrl") is True and isinstance(text, str) and not URL_IN_TEXT.search(text):
        problems.append(
            problem(
                "invalid_field",
                "$.content.previewUrl",
                "previewUrl is true but content.text has no http:// or https:// URL to preview",
            )
        )
    return problems


def _url_options(message: OutboundMessage, kind: str | None) -> list[Problem]:
    if message.options.url_options is None:
        return []
    if kind in UNTRACKED_TYPES:
        return [
            warning(
                "invalid_field",
                "$.options.urlOptions",
                f"a {kind} message has no text to shorten or track links in: urlOptions is not sent",
            )
        ]
    return check_url_options(message)


def _options_not_sent(message: OutboundMessage, kind: str | None) -> list[Problem]:
    found = []
    if message.options.validity_period is not None:
        found.append(
            warning(
                "invalid_field",
                "$.options.validityPeriod",
                "Infobip's WhatsApp endpoints take no validity period: it is not sent",
            )
        )
    if message.options.bulk_id is not None and kind in FREE_FORM_PATHS:
        found.append(
            warning(
                "invalid_field",
                "$.options.bulkId",
                "bulkId is sent with template messages only: a free-form message goes alone, without one",
            )
        )
    return found
