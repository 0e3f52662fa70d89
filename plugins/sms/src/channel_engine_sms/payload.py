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

from collections.abc import Iterator
from itertools import islice
from typing import Any

import msgspec

from channel_engine import ChannelEngineError, OutboundMessage, ProviderRequest, WebhookUrls

from .channels import SEND_PATH
from .validation import INDIA_DLT_KEYS, reseller_code

REPORT_CONTENT_TYPE = "application/json"


def build_requests(
    channel: str, messages: list[OutboundMessage], webhooks: WebhookUrls, max_batch: int
) -> list[ProviderRequest]:
    """The requests that send `messages`: grouped by request-level options (in order of first appearance),
    each group cut into requests of at most `max_batch` messages."""
    groups: dict[bytes, tuple[dict[str, Any], list[OutboundMessage]]] = {}
    for message in messages:
        options = request_options(message, webhooks)
        groups.setdefault(_key(options), (options, []))[1].append(message)
    return [
        _request(channel, chunk, options, webhooks)
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
    options["includeSmsCountInResponse"] = True
    return options


def message_entry(channel: str, message: OutboundMessage, webhooks: WebhookUrls) -> dict[str, Any]:
    """One `messages[]` entry for `message`, without its destinations."""
    content = message.content
    entry: dict[str, Any] = {}
    if message.sender:
        entry["sender"] = message.sender
    body: dict[str, Any] = {"text": content["text"]}
    for key in ("transliteration", "language"):
        if key in content:
            body[key] = content[key]
    entry["content"] = body
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


def _message_options(channel: str, message: OutboundMessage) -> dict[str, Any]:
    content = message.content
    options: dict[str, Any] = {}
    validity = message.options.validity_period
    if validity is not None:
        options["validityPeriod"] = {"amount": validity.amount, "timeUnit": validity.time_unit}
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


def _request(
    channel: str, messages: list[OutboundMessage], options: dict[str, Any], webhooks: WebhookUrls
) -> ProviderRequest:
    entries: dict[bytes, dict[str, Any]] = {}
    for message in messages:
        if not message.id:  # the engine gives every message an id when it accepts it
            raise ChannelEngineError(f"an {channel} message reached build_payload without an id")
        entry = message_entry(channel, message, webhooks)
        merged = entries.setdefault(_key(entry), _with_destinations(entry))
        merged["destinations"].append({"to": message.destination, "messageId": message.id})
    body = {"messages": list(entries.values()), "options": options}
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
