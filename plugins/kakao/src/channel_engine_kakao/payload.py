"""Builds `POST /kakao-alim/1/messages` and `POST /kakao-chingu/1/messages` requests from validated messages.

One request carries up to the channel's `max_batch` messages. Options Infobip takes per request split the
batch: the bulk ID (`options.schedule.bulkId`, both APIs) and, on ChinguTalk only, URL shortening and click
tracking (`options.tracking`, from the message's `urlOptions`). Messages that differ only in destination share
one `messages[]` entry; every destination carries the message's own id as `messageId`.

Each entry asks for delivery reports at the engine's reports URL (`webhooks.delivery.url`, intermediate
reports on) and carries callbackData, validity period, campaign reference, ChinguTalk targeting and the SMS
failover. Not sent: `sendingSpeedLimit` (the engine spaces messages itself), and
`receiveTriggeredFailoverReports` (left off, so a message with SMS failover gets one report, its final one).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

import msgspec

from channel_engine import ChannelEngineError, OutboundMessage, ProviderRequest, WebhookUrls

from .buttons import button_entry
from .channels import ALIM, SEND_PATHS
from .failover import failover_entry

REPORT_CONTENT_TYPE = "application/json"


def build_requests(
    channel: str, messages: list[OutboundMessage], webhooks: WebhookUrls, max_batch: int
) -> list[ProviderRequest]:
    """The requests that send `messages`: grouped by request-level options (in order of first appearance),
    each group cut into requests of at most `max_batch` messages."""
    groups: dict[bytes, tuple[dict[str, Any], list[OutboundMessage]]] = {}
    for message in messages:
        options = request_options(channel, message, webhooks)
        groups.setdefault(_key(options), (options, []))[1].append(message)
    return [
        _request(channel, chunk, options, webhooks)
        for options, members in groups.values()
        for chunk in _chunks(members, max_batch)
    ]


def request_options(channel: str, message: OutboundMessage, webhooks: WebhookUrls) -> dict[str, Any]:
    """The request-level `options` this message needs; messages with different ones go apart."""
    options: dict[str, Any] = {}
    if message.options.bulk_id:
        options["schedule"] = {"bulkId": message.options.bulk_id}
    url = message.options.url_options
    if url is not None and channel != ALIM.name:  # validation refuses urlOptions on AlimTalk
        tracking: dict[str, Any] = {"shortenUrl": url.shorten_url, "trackClicks": url.track_clicks}
        if url.track_clicks:
            tracking["trackingUrl"] = url.tracking_url or webhooks.clicks
        tracking["removeProtocol"] = url.remove_protocol
        if url.custom_domain:
            tracking["customDomain"] = url.custom_domain
        options["tracking"] = tracking
    return options


def message_entry(channel: str, message: OutboundMessage, webhooks: WebhookUrls) -> dict[str, Any]:
    """One `messages[]` entry for `message`, with an empty `destinations` list."""
    entry: dict[str, Any] = {
        "sender": message.sender,
        "destinations": [],
        "content": content(channel, message),
    }
    options = _message_options(channel, message)
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
    validity = message.options.validity_period
    if validity is not None:
        options["validityPeriod"] = {"amount": validity.amount, "timeUnit": validity.time_unit}
    if ours.get("campaignReferenceId") is not None:
        options["campaignReferenceId"] = ours["campaignReferenceId"]
    if ours.get("smsFailover") is not None:
        options["smsFailover"] = failover_entry(ours["smsFailover"])
    if ours.get("targeting") is not None:
        options["targeting"] = ours["targeting"]
    return options


def _request(
    channel: str, messages: list[OutboundMessage], options: dict[str, Any], webhooks: WebhookUrls
) -> ProviderRequest:
    entries: dict[bytes, dict[str, Any]] = {}
    for message in messages:
        if not message.id:  # the engine gives every message an id when it accepts it
            raise ChannelEngineError(f"a {channel} message reached build_payload without an id")
        entry = message_entry(channel, message, webhooks)
        merged = entries.setdefault(_key(entry), entry)
        merged["destinations"].append({"to": message.destination, "messageId": message.id})
    body: dict[str, Any] = {"messages": list(entries.values())}
    if options:
        body["options"] = options
    ids = [d["messageId"] for entry in body["messages"] for d in entry["destinations"]]
    return ProviderRequest(path=SEND_PATHS[channel], body=body, message_ids=ids)


def _key(value: dict[str, Any]) -> bytes:
    return msgspec.json.encode(value, order="sorted")


def _chunks(items: list[OutboundMessage], size: int) -> Iterator[list[OutboundMessage]]:
    it = iter(items)
    while chunk := list(islice(it, max(size, 1))):
        yield chunk
