"""Building requests in Infobip's "new-gen" send envelope, shared by SMS v3, Viber v2, Kakao, MMS v2 and
RCS v2:

    {"messages": [{"sender", "destinations": [{"to", "messageId"}], "content", "options", "webhooks"}],
     "options": {"schedule": {"bulkId"}, "tracking": {...}, ...}}

`build_requests` groups messages by their request-level `options` (in order of first appearance), cuts each
group into requests of at most `max_batch` messages, and merges messages that differ only in destination
into one `messages[]` entry; every destination carries the message's own id as `messageId`, so each
report finds its message. A channel supplies the two shapes that are its own: the request options and the
message entry (without destinations).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

import msgspec

from .errors import ChannelEngineError
from .models import OutboundMessage, ProviderRequest, WebhookUrls

REPORT_CONTENT_TYPE = "application/json"

Shape = Callable[[OutboundMessage], dict[str, Any]]


def build_requests(
    path: str,
    channel: str,
    messages: list[OutboundMessage],
    max_batch: int,
    *,
    request_options: Shape,
    message_entry: Shape,
) -> list[ProviderRequest]:
    groups: dict[bytes, tuple[dict[str, Any], list[OutboundMessage]]] = {}
    for message in messages:
        options = request_options(message)
        groups.setdefault(_key(options), (options, []))[1].append(message)
    return [
        _request(path, channel, chunk, options, message_entry)
        for options, members in groups.values()
        for chunk in chunks(members, max_batch)
    ]


def schedule_and_tracking(message: OutboundMessage, webhooks: WebhookUrls) -> dict[str, Any]:
    """Request-level `options.schedule.bulkId` and `options.tracking` (URL shortening and click tracking,
    clicks to our clicks URL unless the host names its own), as the message asks."""
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


def report_webhooks(
    message: OutboundMessage, webhooks: WebhookUrls, *, seen: bool = False, intermediate: bool = True
) -> dict[str, Any]:
    """A message's `webhooks`: delivery reports (and seen reports, for channels with read receipts) to our
    one reports URL, JSON, with the message's callback data."""
    hooks: dict[str, Any] = {
        "delivery": {"url": webhooks.reports, "intermediateReport": intermediate},
        "contentType": REPORT_CONTENT_TYPE,
    }
    if message.options.callback_data is not None:
        hooks["callbackData"] = message.options.callback_data
    if seen:
        hooks["seen"] = {"url": webhooks.reports}
    return hooks


def validity_period(message: OutboundMessage) -> dict[str, Any] | None:
    validity = message.options.validity_period
    if validity is None:
        return None
    return {"amount": validity.amount, "timeUnit": validity.time_unit}


def _request(
    path: str,
    channel: str,
    messages: list[OutboundMessage],
    options: dict[str, Any],
    message_entry: Shape,
) -> ProviderRequest:
    entries: dict[bytes, dict[str, Any]] = {}
    for message in messages:
        if not message.id:  # the engine gives every message an id when it accepts it
            raise ChannelEngineError(f"a message of channel {channel} reached build_payload without an id")
        entry = message_entry(message)
        merged = entries.setdefault(_key(entry), _with_destinations(entry))
        merged["destinations"].append({"to": message.destination, "messageId": message.id})
    body: dict[str, Any] = {"messages": list(entries.values())}
    if options:
        body["options"] = options
    ids = [d["messageId"] for entry in body["messages"] for d in entry["destinations"]]
    return ProviderRequest(path=path, body=body, message_ids=ids)


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


def chunks(items: list[OutboundMessage], size: int) -> Iterator[list[OutboundMessage]]:
    """`items` in order, cut into lists of at most `size` (batching for APIs outside the envelope too)."""
    it = iter(items)
    while chunk := list(islice(it, max(size, 1))):
        yield chunk
