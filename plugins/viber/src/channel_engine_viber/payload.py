"""Builds `POST /viber/2/messages` requests from validated viber messages.

One request carries up to `max_batch` messages. Options Infobip takes per request, not per message, split
the batch: URL shortening and click tracking (`options.tracking`, from the message's `urlOptions`) and the
bulk ID (`options.schedule.bulkId`). Messages that differ only in destination share one `messages[]` entry;
every destination carries the message's own id as `messageId`, so each report finds its message.

Delivery and seen reports both go to the engine's one reports URL (`webhooks.delivery.url` and
`webhooks.seen.url`). `sendingSpeedLimit` is never sent: the engine spaces messages itself.
"""

from __future__ import annotations

from typing import Any

from channel_engine import OutboundMessage, ProviderRequest, WebhookUrls, envelope

from .channels import MAX_BATCH, SEND_PATH
from .validation import failover_validity, kind_of, video_duration

MEDIA_URL_KEY = {"IMAGE": "imageUrl", "VIDEO": "videoUrl", "FILE": "fileUrl"}


def build_requests(
    channel: str, messages: list[OutboundMessage], webhooks: WebhookUrls, max_batch: int = MAX_BATCH
) -> list[ProviderRequest]:
    """The requests that send `messages`, at most `max_batch` messages each (`channel_engine.envelope`)."""
    return envelope.build_requests(
        SEND_PATH,
        channel,
        messages,
        max_batch,
        request_options=lambda message: envelope.schedule_and_tracking(message, webhooks),
        message_entry=lambda message: message_entry(message, webhooks),
    )


def message_entry(message: OutboundMessage, webhooks: WebhookUrls) -> dict[str, Any]:
    """One `messages[]` entry for `message`, without its destinations."""
    entry: dict[str, Any] = {"sender": message.sender, "content": viber_content(message.content)}
    options = message_options(message)
    if options:
        entry["options"] = options
    entry["webhooks"] = envelope.report_webhooks(message, webhooks, seen=True)
    return entry


def viber_content(content: dict[str, Any]) -> dict[str, Any]:
    """Our content shape as Infobip's `content` of its type (TEXT, IMAGE, VIDEO or FILE)."""
    kind = kind_of(content)
    out: dict[str, Any] = {}
    if kind == "FILE":
        out["fileName"] = content["fileName"]
    elif "text" in content:
        out["text"] = content["text"]
    if kind != "TEXT":
        out["mediaUrl"] = content[MEDIA_URL_KEY[kind]]
    if kind == "IMAGE" and "showImageInFullScreen" in content:
        out["showImageInFullScreen"] = content["showImageInFullScreen"]
    if kind == "VIDEO":
        out["mediaDuration"] = video_duration(content["videoDuration"])
        out["thumbnailUrl"] = content["thumbnailUrl"]
    button = content.get("button")
    if button and kind != "FILE":
        out["button"] = {"title": button["title"]}
        if button.get("url"):
            out["button"]["action"] = button["url"]
    out["type"] = kind
    return out


def message_options(message: OutboundMessage) -> dict[str, Any]:
    """The entry's `options`: validity, label, tracking data, campaign reference and SMS failover."""
    content = message.content
    options: dict[str, Any] = {}
    validity = envelope.validity_period(message)
    if validity is not None:
        options["validityPeriod"] = validity
    if content.get("label"):
        options["label"] = content["label"].upper()
    for key in ("trackingData", "campaignReferenceId"):
        if content.get(key):
            options[key] = content[key]
    failover = content.get("smsFailover")
    if failover:
        sms: dict[str, Any] = {}
        if failover.get("sender"):
            sms["sender"] = failover["sender"]
        sms["text"] = failover["text"]
        if "validityPeriod" in failover:
            sms["validityPeriod"] = failover_validity(failover["validityPeriod"])
        options["smsFailover"] = sms
    return options
