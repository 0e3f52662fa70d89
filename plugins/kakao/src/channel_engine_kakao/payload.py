"""Builds `POST /kakao-alim/1/messages` and `POST /kakao-chingu/1/messages` requests from validated messages.

One request carries up to the channel's `max_batch` messages. Options Infobip takes per request split the
batch: the bulk ID (`options.schedule.bulkId`, both APIs) and, on ChinguTalk only, URL shortening and click
tracking (`options.tracking`, from the message's `urlOptions`). Messages that differ only in destination share
one `messages[]` entry; every destination carries the message's own id as `messageId`
(`channel_engine.envelope` does the grouping, cutting and merging).

Each entry asks for delivery reports at the engine's reports URL (`webhooks.delivery.url`, intermediate
reports on) and carries callbackData, validity period, campaign reference, ChinguTalk targeting and the SMS
failover. Not sent: `sendingSpeedLimit` (the engine spaces messages itself), and
`receiveTriggeredFailoverReports` (left off, so a message with SMS failover gets one report, its final one).
"""

from __future__ import annotations

from typing import Any

from channel_engine import OutboundMessage, ProviderRequest, WebhookUrls, envelope

from .buttons import button_entry
from .channels import ALIM, MAX_BATCH, SEND_PATHS
from .failover import failover_entry


def build_requests(
    channel: str, messages: list[OutboundMessage], webhooks: WebhookUrls, max_batch: int = MAX_BATCH
) -> list[ProviderRequest]:
    """The requests that send `messages`, at most `max_batch` messages each (`channel_engine.envelope`)."""
    return envelope.build_requests(
        SEND_PATHS[channel],
        channel,
        messages,
        max_batch,
        request_options=lambda message: request_options(channel, message, webhooks),
        message_entry=lambda message: message_entry(channel, message, webhooks),
    )


def request_options(channel: str, message: OutboundMessage, webhooks: WebhookUrls) -> dict[str, Any]:
    """The request-level `options` this message needs; messages with different ones go apart."""
    options = envelope.schedule_and_tracking(message, webhooks)
    if channel == ALIM.name:  # validation refuses urlOptions on AlimTalk: never a tracking block there
        options.pop("tracking", None)
    return options


def message_entry(channel: str, message: OutboundMessage, webhooks: WebhookUrls) -> dict[str, Any]:
    """One `messages[]` entry for `message`, without destinations (the envelope adds them)."""
    entry: dict[str, Any] = {"sender": message.sender, "content": content(channel, message)}
    options = _message_options(channel, message)
    if options:
        entry["options"] = options
    entry["webhooks"] = envelope.report_webhooks(message, webhooks)
    return entry


def content(channel: str, message: OutboundMessage) -> dict[str, Any]:
    """Infobip's `content` of a validated message."""
    ours = message.content
    body: dict[str, Any]
    if channel == ALIM.name:
        body = {"type": "TEMPLATE", "templateCode": ours["templateCode"], "text": ours["text"]}
        if ours.get("title") is not None:
            body["title"] = ours["title"]
    else:
        image = ours.get("image")
        body = {"type": "IMAGE_FREE_FORM" if image else "TEXT_FREE_FORM", "text": ours["text"]}
        if image:
            body["image"] = {key: image[key] for key in ("url", "link") if image.get(key) is not None}
    if ours.get("buttons"):
        body["buttons"] = [button_entry(button) for button in ours["buttons"]]
    if ours.get("groupKey") is not None:
        body["groupKey"] = ours["groupKey"]
    return body


def _message_options(channel: str, message: OutboundMessage) -> dict[str, Any]:
    ours = message.content
    options: dict[str, Any] = {}
    validity = envelope.validity_period(message)
    if validity is not None:
        options["validityPeriod"] = validity
    if ours.get("campaignReferenceId") is not None:
        options["campaignReferenceId"] = ours["campaignReferenceId"]
    if ours.get("smsFailover") is not None:
        options["smsFailover"] = failover_entry(ours["smsFailover"])
    if ours.get("targeting") is not None:
        options["targeting"] = ours["targeting"]
    return options
