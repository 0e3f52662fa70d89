"""Builds `POST /mms/2/messages` requests from validated MMS messages.

One request carries up to `max_batch` messages. Options Infobip takes per request, not per message, split
the batch: URL shortening and click tracking (`options.tracking`, from the message's `urlOptions`) and the
bulk ID (`options.schedule.bulkId`). Messages that differ only in destination share one `messages[]` entry
with several destinations; every destination carries the message's own id as `messageId`, so each report
finds its message.

Segments keep the host's order: a text segment becomes `{"type": "TEXT", "text"}`, a media segment a
`LINK` with `contentUrl` and its `contentType` (`media.segment_content_type`). The SMS failover and the
South Korean reseller code go to `options`; the reseller code goes to the failover SMS too, which is sent to
the same number. `sendingSpeedLimit` is never sent: the engine spaces messages itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

import msgspec

from channel_engine import ChannelEngineError, OutboundMessage, ProviderRequest, WebhookUrls

from .channels import SEND_PATH
from .media import TEXT, segment_content_type
from .validation import reseller_code

REPORT_CONTENT_TYPE = "application/json"


def build_requests(
    messages: list[OutboundMessage], webhooks: WebhookUrls, max_batch: int
) -> list[ProviderRequest]:
    """The requests that send `messages`: grouped by request-level options (in order of first appearance),
    each group cut into requests of at most `max_batch` messages."""
    groups: dict[bytes, tuple[dict[str, Any], list[OutboundMessage]]] = {}
    for message in messages:
        options = request_options(message, webhooks)
        groups.setdefault(_key(options), (options, []))[1].append(message)
    return [
        _request(chunk, options, webhooks)
        for options, members in groups.values()
        for chunk in _chunks(members, max_batch)
    ]


def request_options(message: OutboundMessage, webhooks: WebhookUrls) -> dict[str, Any]:
    """The request-level `options` this message needs; messages with different ones go apart."""
    options: dict[str, Any] = {}
    if message.options.bulk_id:
        options["schedule"] = {"bulkId": message.options.bulk_id}
    url = message.options.url_options
    if url is not None:
        tracking: dict[str, Any] = {"shortenUrl": url.shorten_url, "trackClicks": url.track_clicks}
        if url.track_clicks:
            tracking["trackingUrl"] = url.tracking_url or webhooks.clicks
        tracking["removeProtocol"] = url.remove_protocol
        if url.custom_domain:
            tracking["customDomain"] = url.custom_domain
        options["tracking"] = tracking
    return options


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
    hooks: dict[str, Any] = {
        "delivery": {"url": webhooks.reports, "intermediateReport": True},
        "contentType": REPORT_CONTENT_TYPE,
    }
    if message.options.callback_data is not None:
        hooks["callbackData"] = message.options.callback_data
    entry["webhooks"] = hooks
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
    validity = message.options.validity_period
    if validity is not None:
        options["validityPeriod"] = {"amount": validity.amount, "timeUnit": validity.time_unit}
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


def _request(
    messages: list[OutboundMessage], options: dict[str, Any], webhooks: WebhookUrls
) -> ProviderRequest:
    entries: dict[bytes, dict[str, Any]] = {}
    for message in messages:
        if not message.id:  # the engine gives every message an id when it accepts it
            raise ChannelEngineError("an mms message reached build_payload without an id")
        entry = message_entry(message, webhooks)
        merged = entries.setdefault(_key(entry), _with_destinations(entry))
        merged["destinations"].append({"to": message.destination, "messageId": message.id})
    body: dict[str, Any] = {"messages": list(entries.values())}
    if options:
        body["options"] = options
    ids = [d["messageId"] for entry in body["messages"] for d in entry["destinations"]]
    return ProviderRequest(path=SEND_PATH, body=body, message_ids=ids)


def _with_destinations(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry with an empty `destinations` list after `sender`, where Infobip's examples have it."""
    out: dict[str, Any] = {}
    if "sender" in entry:
        out["sender"] = entry["sender"]
    out["destinations"] = []
    out.update((k, v) for k, v in entry.items() if k != "sender")
    return out


def _key(value: dict[str, Any]) -> bytes:
    return msgspec.json.encode(value, order="sorted")


def _chunks(items: list[OutboundMessage], size: int) -> Iterator[list[OutboundMessage]]:
    it = iter(items)
    while chunk := list(islice(it, max(size, 1))):
        yield chunk
