"""Builds `POST /rcs/2/messages` requests from validated rcs messages.

`channel_engine.envelope` does what every new-gen channel shares: messages are grouped by the options
Infobip takes per request, not per message (URL shortening and click tracking from the message's
`urlOptions`, the bulk ID), messages that differ only in destination share one `messages[]` entry, and
every destination carries the message's own id as `messageId`, so each report finds its message. What is
RCS's own is the size cut: a request carries at most `max_batch` messages AND stays under Infobip's 10 MB
body limit (a carousel can weigh hundreds of kilobytes), so the messages are first cut into runs that fit,
and the envelope builds one request of each run.

`options.messageOrdering.respectOrder` is always false: Infobip defaults it to true, and then refuses a
request whose messages go to different destinations. Our messages are independent of each other.
`sendingSpeedLimit` is never sent: the engine spaces messages itself. Delivery AND seen reports go to the
engine's reports URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from channel_engine import OutboundMessage, ProviderRequest, WebhookUrls, envelope

from .cards import card_payload
from .channels import MAX_BATCH, SEND_PATH
from .suggestions import suggestions_payload
from .validation import content_type

DEFAULT_ORIENTATION, DEFAULT_ALIGNMENT, DEFAULT_CARD_WIDTH = "VERTICAL", "LEFT", "MEDIUM"
# Infobip refuses bodies over 10 MB; our estimate of a body's size is exact but for commas, so this leaves
# plenty of room.
MAX_BODY_BYTES = 9_000_000

_encode = msgspec.json.Encoder(order="sorted").encode


def build_requests(
    channel: str, messages: list[OutboundMessage], webhooks: WebhookUrls, max_batch: int = MAX_BATCH
) -> list[ProviderRequest]:
    """The requests that send `messages`: grouped by request-level options (in order of first appearance),
    each group packed into requests of at most `max_batch` messages and MAX_BODY_BYTES."""
    entries = {id(message): message_entry(message, webhooks) for message in messages}
    return [
        request
        for options, run in _runs(messages, entries, webhooks, max(max_batch, 1))
        for request in envelope.build_requests(
            SEND_PATH,
            channel,
            run,
            max_batch,
            request_options=lambda _message, options=options: options,
            message_entry=lambda message: entries[id(message)],
        )
    ]


def request_options(message: OutboundMessage, webhooks: WebhookUrls) -> dict[str, Any]:
    """The request-level `options` this message needs; messages with different ones go apart."""
    return envelope.schedule_and_tracking(message, webhooks) | {"messageOrdering": {"respectOrder": False}}


def message_entry(message: OutboundMessage, webhooks: WebhookUrls) -> dict[str, Any]:
    """One `messages[]` entry for `message`, without its destinations."""
    entry: dict[str, Any] = {}
    if message.sender:
        entry["sender"] = message.sender
    entry["content"] = content_payload(message.content)
    options = _message_options(message)
    if options:
        entry["options"] = options
    entry["webhooks"] = envelope.report_webhooks(message, webhooks, seen=True)
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
    validity = envelope.validity_period(message)
    if validity is not None:
        options["validityPeriod"] = validity
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


def _runs(
    messages: list[OutboundMessage],
    entries: dict[int, dict[str, Any]],
    webhooks: WebhookUrls,
    max_batch: int,
) -> Iterator[tuple[dict[str, Any], list[OutboundMessage]]]:
    """The messages cut into runs of one request each: grouped by request options, each group cut by
    message count and body size."""
    groups: dict[bytes, tuple[dict[str, Any], list[OutboundMessage]]] = {}
    for message in messages:
        options = request_options(message, webhooks)
        groups.setdefault(_encode(options), (options, []))[1].append(message)
    for options, members in groups.values():
        batch = _Batch(options)
        for message in members:
            key = _encode(entries[id(message)])
            if batch.messages and (len(batch.messages) >= max_batch or not batch.fits(key, message)):
                yield options, batch.messages
                batch = _Batch(options)
            batch.add(key, message)
        if batch.messages:
            yield options, batch.messages


class _Batch:
    """The messages of one request being filled, with the size its JSON body will have."""

    ENTRY_OVERHEAD = len(b',"destinations":[]') + 1  # the key our entries lack until packed, and a comma

    def __init__(self, options: dict[str, Any]) -> None:
        self.messages: list[OutboundMessage] = []
        self.keys: set[bytes] = set()
        self.size = len(_encode({"messages": [], "options": options}))

    def _cost(self, key: bytes, message: OutboundMessage) -> int:
        cost = len(_encode({"to": message.destination, "messageId": message.id})) + 1
        return cost if key in self.keys else cost + len(key) + self.ENTRY_OVERHEAD

    def fits(self, key: bytes, message: OutboundMessage) -> bool:
        return self.size + self._cost(key, message) <= MAX_BODY_BYTES

    def add(self, key: bytes, message: OutboundMessage) -> None:
        self.size += self._cost(key, message)
        self.keys.add(key)
        self.messages.append(message)
