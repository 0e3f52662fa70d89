"""Builds `POST /sms/3/messages` requests from validated sms and lms messages.

One request carries up to the channel's `max_batch` messages. Options that Infobip takes per request, not
per message, split the batch: URL shortening and click tracking (`options.tracking`, from the message's
`urlOptions`) and the bulk ID (`options.schedule.bulkId`). Messages that differ only in destination share
one `messages[]` entry with several destinations; every destination carries the message's own id as
`messageId`, so each report finds its message.

`sendingSpeedLimit` is never sent: the engine spaces messages itself, and Infobip would add its own delay
on top. `includeSmsCountInResponse` is always on, so the answer says how many parts each message took.
"""

from __future__ import annotations

from typing import Any

from channel_engine import OutboundMessage, ProviderRequest, WebhookUrls, envelope
from channel_engine.checks import reseller_code

from .channels import MAX_BATCH, SEND_PATH
from .footer import message_text
from .validation import INDIA_DLT_KEYS


def build_requests(
    channel: str, messages: list[OutboundMessage], webhooks: WebhookUrls, max_batch: int = MAX_BATCH
) -> list[ProviderRequest]:
    """The requests that send `messages`, at most `max_batch` messages each (`channel_engine.envelope`)."""
    return envelope.build_requests(
        SEND_PATH,
        channel,
        messages,
        max_batch,
        request_options=lambda message: request_options(message, webhooks),
        message_entry=lambda message: message_entry(channel, message, webhooks),
    )


def request_options(message: OutboundMessage, webhooks: WebhookUrls) -> dict[str, Any]:
    """The request-level `options` this message needs; messages with different ones go apart."""
    return envelope.schedule_and_tracking(message, webhooks) | {"includeSmsCountInResponse": True}


def message_entry(channel: str, message: OutboundMessage, webhooks: WebhookUrls) -> dict[str, Any]:
    """One `messages[]` entry for `message`, without its destinations."""
    content = message.content
    entry: dict[str, Any] = {}
    if message.sender:
        entry["sender"] = message.sender
    # With a WhatsApp footer the text ends with its wa.me link; Infobip shortens that one like any URL.
    body: dict[str, Any] = {"text": message_text(content)}
    for key in ("transliteration", "language"):
        if key in content:
            body[key] = content[key]
    entry["content"] = body
    options = _message_options(channel, message)
    if options:
        entry["options"] = options
    entry["webhooks"] = envelope.report_webhooks(message, webhooks)
    return entry


def _message_options(channel: str, message: OutboundMessage) -> dict[str, Any]:
    content = message.content
    options: dict[str, Any] = {}
    validity = envelope.validity_period(message)
    if validity is not None:
        options["validityPeriod"] = validity
    regional: dict[str, Any] = {}
    dlt = content.get("indiaDlt")
    if dlt:
        regional["indiaDlt"] = {key: dlt[key] for key in INDIA_DLT_KEYS if dlt.get(key) is not None}
    korea: dict[str, Any] = {}
    if channel == "lms":
        korea["title"] = content["title"]
    code = reseller_code((content.get("southKorea") or {}).get("resellerCode"))
    if code is not None:
        korea["resellerCode"] = code
    if korea:
        regional["southKorea"] = korea
    if regional:
        options["regional"] = regional
    if content.get("campaignReferenceId"):
        options["campaignReferenceId"] = content["campaignReferenceId"]
    return options
