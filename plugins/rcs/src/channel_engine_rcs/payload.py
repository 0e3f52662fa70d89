"""Builds `POST /rcs/2/messages` requests from validated rcs messages.

Options Infobip takes per request, not per message, split a batch: URL shortening and click tracking
(`options.tracking`, from the message's `urlOptions`) and the bulk ID (`options.schedule.bulkId`). Messages
that differ only in destination share one `messages[]` entry; every destination carries the message's own
id as `messageId`, so each report finds its message. A request carries at most `max_batch` messages and
stays under Infobip's 10 MB body limit (a carousel can weigh hundreds of kilobytes).

`options.messageOrdering.respectOrder` is always false: Infobip defaults it to true, and then refuses a
request whose messages go to different destinations. Our messages are independent of each other.
`sendingSpeedLimit` is never sent: the engine spaces messages itself. Delivery AND seen reports go to the
engine's reports URL.
"""

from __future__ import annotations

from typing import Any

import msgspec

from channel_engine import ChannelEngineError, OutboundMessage, ProviderRequest, WebhookUrls

from .cards import card_payload
from .channels import SEND_PATH
from .suggestions import suggestions_payload
from .validation import content_type

REPORT_CONTENT_TYPE = "application/json"
DEFAULT_ORIENTATION, DEFAULT_ALIGNMENT, DEFAULT_CARD_WIDTH = "VERTICAL", "LEFT", "MEDIUM"
# Infobip refuses bodies over 10 MB; our estimate of a body's size is exact but for commas, so this leaves
# plenty of room.
MAX_BODY_BYTES = 9_000_000

_encode = msgspec.json.Encoder(order="sorted").encode


def build_requests(
    messages: list[OutboundMessage], webhooks: WebhookUrls, max_batch: int
) -> list[ProviderRequest]:
    """The requests that send `messages`: grouped by request-level options (in order of first appearance),
    each group packed into requests of at most `max_batch` messages and MAX_BODY_BYTES."""
    groups: dict[bytes, tuple[dict[str, Any], list[OutboundMessage]]] = {}
    for message in messages:
        options = request_options(message, webhooks)
        groups.setdefault(_encode(options), (options, []))[1].append(message)
    requests: list[ProviderRequest] = []
    for options, members in groups.values():
        requests += _pack(members, options, webhooks, max(max_batch, 1))
    return requests


def request_options(message: OutboundMessage, webhooks: WebhookUrls) -> dict[str, Any]:
    """The request-level `options` this message needs; messages with different ones go apart."""
    options: dict[str, Any] = {}
    if message.options.bulk_id:
        options["schedule"] = {"bulkId": message.options.bulk_id}
    url = message.options.url_options
    if url is not None:
        tracking = {"shortenUrl": url.shorten_url, "trackClicks": url.track_clicks}
        if url.track_clicks:  # clicks come back to the engine unless the host names its own receiver
            tracking["trackingUrl"] = url.tracking_url or webhooks.clicks
        tracking["removeProtocol"] = url.remove_protocol
        if url.custom_domain:
            tracking["customDomain"] = url.custom_domain
        options["tracking"] = tracking
    options["messageOrdering"] = {"respectOrder": False}
    return options


def message_entry(message: OutboundMessage, webhooks: WebhookUrls) -> dict[str, Any]:
    """One `messages[]` entry for `message`, without its destinations."""
    entry: dict[str, Any] = {}
    if message.sender:
        entry["sender"] = message.sender
    entry["content"] = content_payload(message.content)
    options = _message_options(message)
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


def content_payload(content: dict[str, Any]) -> dict[str, Any]:
    """Infobip's `content` for our valid content (see validation.py for ours)."""
    kind = content_type(content)
    if kind == "TEXT":
        out: dict[str, Any] = {"text": content["text"]}
    elif kind == "FILE":
        out = {"file": {"url": content["fileUrl"]}}
        if "thumbnailUrl" in content:
            out["thumbnail"] = {"url": content["thumbnailUrl"]}
    elif kind == "CARD":
        out = {
            "orientation": content.get("orientation", DEFAULT_ORIENTATION),
            "alignment": content.get("alignment", DEFAULT_ALIGNMENT),
            "content": card_payload(content["card"]),
        }
    else:
        out = {
            "cardWidth": content.get("cardWidth", DEFAULT_CARD_WIDTH),
            "contents": [card_payload(card) for card in content["cards"]],
        }
    if content.get("suggestions"):
        out["suggestions"] = suggestions_payload(content["suggestions"])
    out["type"] = kind
    return out


def _message_options(message: OutboundMessage) -> dict[str, Any]:
    options: dict[str, Any] = {}
    validity = message.options.validity_period
    if validity is not None:
        options["validityPeriod"] = {"amount": validity.amount, "timeUnit": validity.time_unit}
    if message.content.get("campaignReferenceId"):
        options["campaignReferenceId"] = message.content["campaignReferenceId"]
    failover = message.content.get("smsFailover")
    if failover:
        sms: dict[str, Any] = {}
        if failover.get("sender"):
            sms["sender"] = failover["sender"]
        sms["text"] = failover["text"]
        options["smsFailover"] = sms
    return options


def _pack(
    messages: list[OutboundMessage], options: dict[str, Any], webhooks: WebhookUrls, max_batch: int
) -> list[ProviderRequest]:
    """The requests of one options group: entries merged by content, cut by message count and body size."""
    requests: list[ProviderRequest] = []
    batch = _Batch(options)
    for message in messages:
        if not message.id:  # the engine gives every message an id when it accepts it
            raise ChannelEngineError("an rcs message reached build_payload without an id")
        entry = message_entry(message, webhooks)
        key = _encode(entry)
        destination = {"to": message.destination, "messageId": message.id}
        if batch.count and (batch.count >= max_batch or not batch.fits(key, destination)):
            requests.append(batch.request())
            batch = _Batch(options)
        batch.add(key, entry, destination)
    if batch.count:
        requests.append(batch.request())
    return requests


class _Batch:
    """One request being filled, with the size its JSON body will have."""

    ENTRY_OVERHEAD = len(b',"destinations":[]') + 1  # the key our entries lack until packed, and a comma

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        self.entries: dict[bytes, dict[str, Any]] = {}
        self.count = 0
        self.size = len(_encode({"messages": [], "options": options}))

    def _cost(self, key: bytes, destination: dict[str, Any]) -> int:
        cost = len(_encode(destination)) + 1
        return cost if key in self.entries else cost + len(key) + self.ENTRY_OVERHEAD

    def fits(self, key: bytes, destination: dict[str, Any]) -> bool:
        return self.size + self._cost(key, destination) <= MAX_BODY_BYTES

    def add(self, key: bytes, entry: dict[str, Any], destination: dict[str, Any]) -> None:
        self.size += self._cost(key, destination)
        if key not in self.entries:
            self.entries[key] = _with_destinations(entry)
        self.entries[key]["destinations"].append(destination)
        self.count += 1

    def request(self) -> ProviderRequest:
        body = {"messages": list(self.entries.values()), "options": self.options}
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
