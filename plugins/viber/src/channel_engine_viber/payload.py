"""Builds `POST /viber/2/messages` requests from validated viber messages.

One request carries up to `max_batch` messages. Options Infobip takes per request, not per message, split
the batch: URL shortening and click tracking (`options.tracking`, from the message's `urlOptions`) and the
bulk ID (`options.schedule.bulkId`). Messages that differ only in destination share one `messages[]` entry;
every destination carries the message's own id as `messageId`, so each report finds its message.

Delivery and seen reports both go to the engine's one reports URL (`webhooks.delivery.url` and
`webhooks.seen.url`). `sendingSpeedLimit` is never sent: the engine spaces messages itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

import msgspec

from channel_engine import ChannelEngineError, OutboundMessage, ProviderRequest, WebhookUrls

from .channels import SEND_PATH
from .validation import failover_validity, kind_of, video_duration

REPORT_CONTENT_TYPE = "application/json"
MEDIA_URL_KEY = {"IMAGE": "imageUrl", "VIDEO": "videoUrl", "FILE": "fileUrl"}


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
    entry: dict[str, Any] = {"sender": message.sender, "content": viber_content(message.content)}
    options = message_options(message)
    if options:
        entry["options"] = options
    hooks: dict[str, Any] = {
        "delivery": {"url": webhooks.reports, "intermediateReport": True},
        "seen": {"url": webhooks.reports},
        "contentType": REPORT_CONTENT_TYPE,
    }
    if message.options.callback_data is not None:
        hooks["callbackData"] = message.options.callback_data
    entry["webhooks"] = hooks
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
    validity = message.options.validity_period
    if validity is not None:
        options["validityPeriod"] = {"amount": validity.amount, "timeUnit": validity.time_unit}
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


def _request(
    messages: list[OutboundMessage], options: dict[str, Any], webhooks: WebhookUrls
) -> ProviderRequest:
    entries: dict[bytes, dict[str, Any]] = {}
    for message in messages:
        if not message.id:  # the engine gives every message an id when it accepts it
            raise ChannelEngineError("a viber message reached build_payload without an id")
        entry = message_entry(message, webhooks)
        key = _key(entry)
        if key not in entries:  # destinations go after the sender, where Infobip's examples have them
            entries[key] = {"sender": entry.pop("sender"), "destinations": [], **entry}
        entries[key]["destinations"].append({"to": message.destination, "messageId": message.id})
    body: dict[str, Any] = {"messages": list(entries.values())}
    if options:
        body["options"] = options
    ids = [d["messageId"] for entry in body["messages"] for d in entry["destinations"]]
    return ProviderRequest(path=SEND_PATH, body=body, message_ids=ids)


def _key(value: dict[str, Any]) -> bytes:
    return msgspec.json.encode(value, order="sorted")


def _chunks(items: list[OutboundMessage], size: int) -> Iterator[list[OutboundMessage]]:
    it = iter(items)
    while chunk := list(islice(it, max(size, 1))):
        yield chunk
