"""Builds `POST /mms/2/messages` requests from validated MMS messages.

The new-gen envelope (`channel_engine.envelope`) does the batching: one request carries up to `max_batch`
messages; options Infobip takes per request, not per message, split the batch (URL shortening and click
tracking, `options.tracking`, and the bulk ID, `options.schedule.bulkId`); messages that differ only in
destination share one `messages[]` entry with several destinations, each carrying the message's own id as
`messageId`, so each report finds its message. This module supplies the MMS message entry.

Segments keep the host's order: a text segment becomes `{"type": "TEXT", "text"}`, a media segment a
`LINK` with `contentUrl` and its `contentType` (`media.segment_content_type`). The SMS failover and the
South Korean reseller code go to `options`; the reseller code goes to the failover SMS too, which is sent to
the same number. `sendingSpeedLimit` is never sent: the engine spaces messages itself.
"""

from __future__ import annotations

from typing import Any

from channel_engine import OutboundMessage, ProviderRequest, WebhookUrls, envelope
from channel_engine.checks import reseller_code

from .channels import MAX_BATCH, SEND_PATH
from .media import TEXT, segment_content_type


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
    content = message.content
    entry: dict[str, Any] = {}
    if message.sender:
        entry["sender"] = message.sender
    body: dict[str, Any] = {}
    if content.get("title") is not None:
        body["title"] = content["title"]
    body["messageSegments"] = [segment_entry(segment) for segment in content["segments"]]
    entry["content"] = body
    options = _message_options(message)
    if options:
        entry["options"] = options
    entry["webhooks"] = envelope.report_webhooks(message, webhooks)
    return entry


def segment_entry(segment: dict[str, Any]) -> dict[str, Any]:
    """Infobip's segment for one of ours."""
    if segment["type"] == TEXT:
        return {"type": "TEXT", "text": segment["text"]}
    out: dict[str, Any] = {"type": "LINK", "contentUrl": segment["url"]}
    content_type = segment_content_type(segment)
    if content_type:
        out["contentType"] = content_type
    if segment.get("contentId"):
        out["contentId"] = segment["contentId"]
    return out


def _message_options(message: OutboundMessage) -> dict[str, Any]:
    content = message.content
    options: dict[str, Any] = {}
    validity = envelope.validity_period(message)
    if validity is not None:
        options["validityPeriod"] = validity
    code = reseller_code((content.get("southKorea") or {}).get("resellerCode"))
    regional = {"southKorea": {"resellerCode": code}} if code is not None else None
    failover = content.get("smsFailover")
    if failover:
        sms: dict[str, Any] = {}
        if failover.get("sender"):
            sms["sender"] = failover["sender"]
        sms["text"] = failover["text"]
        if regional:
            sms["regional"] = regional
        options["smsFailover"] = sms
    if regional:
        options["regional"] = regional
    if content.get("campaignReferenceId"):
        options["campaignReferenceId"] = content["campaignReferenceId"]
    return options
