"""Infobip's "new-gen" send envelope, shared by SMS v3, Viber v2, Kakao, MMS v2 and RCS v2.

Request (WIRE-FORMATS 1.3, 1.6-1.9):

    {"messages": [{"sender", "destinations": [{"to", "messageId"}], "content": {"text", ...},
                   "options": {...},
                   "webhooks": {"delivery": {"url", "intermediateReport", "notify"}, "contentType",
                                "callbackData"}}],
     "options": {"schedule": {"bulkId", ...}, "tracking": {"shortenUrl", "trackClicks", "trackingUrl",
                                                          "removeProtocol", "customDomain"}}}

Answers: the v3 200 body, v3 delivery reports (`results[]`, WIRE-FORMATS 2.2), seen reports (Viber and
RCS, to `webhooks.seen.url`; 2.3), the flat click
notification (2.4) and the channel's inbound message (2.5: SMS puts the end user in `from`, Viber and RCS
in `sender`).
"""

from __future__ import annotations

import uuid
from typing import Any

from ..segments import binary_sms_count, sms_count
from .endpoints import Outcome, RequestViolation, SimulatedSend

CALLBACK_DATA_MAX = 4000
MESSAGE_ID_MAX = 200
BULK_ID_MAX = 100
SEEN_CHANNELS = frozenset({"viber", "rcs"})  # new-gen channels with read receipts (`webhooks.seen`)


def status_body(o: Outcome) -> dict[str, Any]:
    """Infobip's `status` object."""
    return {
        "groupId": o.group_id,
        "groupName": o.group_name,
        "id": o.id,
        "name": o.name,
        "description": o.description,
    }


def error_body(o: Outcome) -> dict[str, Any]:
    """Infobip's `error` object."""
    return {
        "groupId": o.error_group_id,
        "groupName": o.error_group_name,
        "id": o.error_id,
        "name": o.error_name,
        "description": o.error_description,
        "permanent": o.error_permanent,
    }


def seen_entry(send: SimulatedSend, sent_at: str, seen_at: str) -> dict[str, Any]:
    """A seen report entry as WhatsApp, Viber and RCS write it: no status; `from` is our sender, `to` the
    end user who read the message."""
    entry: dict[str, Any] = {"messageId": send.message_id}
    if send.sender:
        entry["from"] = send.sender
    entry |= {"to": send.to, "sentAt": sent_at, "seenAt": seen_at}
    return entry


def _content_text(content: dict[str, Any]) -> str | None:
    text = content.get("text")
    if isinstance(text, str):
        return text
    segments = content.get("messageSegments")  # MMS
    if isinstance(segments, list):
        parts = [s["text"] for s in segments if isinstance(s, dict) and isinstance(s.get("text"), str)]
        return "\n".join(parts) if parts else None
    return None


def _split_keyword(text: str) -> tuple[str, str]:
    """Infobip's `keyword` and `cleanText`: the first word (upper-cased) and the rest."""
    word, _, rest = text.strip().partition(" ")
    return word.upper(), rest.strip()


def _destinations(at: str, destinations: list[Any]) -> list[tuple[str, Any]]:
    """Each destination with its path; an MMS group (`{"group": [...]}`) counts as its members."""
    out: list[tuple[str, Any]] = []
    for j, destination in enumerate(destinations):
        dat = f"{at}.destinations[{j}]"
        group = destination.get("group") if isinstance(destination, dict) else None
        if isinstance(group, list) and group:
            out += [(f"{dat}.group[{k}]", member) for k, member in enumerate(group)]
        else:
            out.append((dat, destination))
    return out


class NewGenEndpoint:
    """A `SimulatorEndpoint` for one new-gen send path, e.g. `NewGenEndpoint("/sms/3/messages", "sms")`.

    `channel` picks the channel-specific details: "sms" counts SMS parts from the text, every other channel
    counts one message per destination; "viber", "rcs" and "mms" render their own inbound shapes."""

    def __init__(
        self, path: str, channel: str, *, price_per_message: float = 0.01, currency: str = "EUR"
    ) -> None:
        self.path = path
        self.channel = channel
        self.price_per_message = price_per_message
        self.currency = currency

    def __repr__(self) -> str:
        return f"NewGenEndpoint({self.path!r}, {self.channel!r})"

    # --- requests ---

    def count_messages(self, text: str | None) -> int:
        return sms_count(text) if self.channel == "sms" else 1

    def parse(self, body: dict[str, Any]) -> list[SimulatedSend]:
        violations: list[tuple[str, str]] = []
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise RequestViolation([("messages", "must not be empty")])
        options = body.get("options")
        options = options if isinstance(options, dict) else {}
        schedule = options.get("schedule") if isinstance(options.get("schedule"), dict) else {}
        bulk_id = schedule.get("bulkId")
        if bulk_id is not None and (not isinstance(bulk_id, str) or not 0 < len(bulk_id) <= BULK_ID_MAX):
            violations.append(("options.schedule.bulkId", f"size must be between 1 and {BULK_ID_MAX}"))
        tracking = options.get("tracking")
        # The spec's defaults (shortenUrl and trackClicks true) apply once the block is present.
        track: dict[str, Any] | None = tracking if isinstance(tracking, dict) else None

        sends: list[SimulatedSend] = []
        for i, message in enumerate(messages):
            at = f"messages[{i}]"
            if not isinstance(message, dict):
                violations.append((at, "must not be null"))
                continue
            content = message.get("content")
            text: str | None = None
            count = 1
            if not isinstance(content, dict):
                violations.append((f"{at}.content", "must not be null"))
            else:
                text = _content_text(content)
                hex_text = content.get("hex")
                if isinstance(hex_text, str) and hex_text:
                    count = binary_sms_count(hex_text) if self.channel == "sms" else 1
                elif text is not None and text.strip():
                    count = self.count_messages(text)
                elif "type" not in content and "messageSegments" not in content:
                    violations.append((f"{at}.content.text", "must not be blank"))
            webhooks = message.get("webhooks") if isinstance(message.get("webhooks"), dict) else {}
            delivery = webhooks.get("delivery") if isinstance(webhooks.get("delivery"), dict) else {}
            url = delivery.get("url") if delivery.get("notify", True) is not False else None
            seen = webhooks.get("seen") if isinstance(webhooks.get("seen"), dict) else {}
            seen_url = seen.get("url") if self.channel in SEEN_CHANNELS else None
            callback_data = webhooks.get("callbackData")
            if callback_data is not None and (
                not isinstance(callback_data, str) or len(callback_data) > CALLBACK_DATA_MAX
            ):
                violations.append(
                    (f"{at}.webhooks.callbackData", f"size must be between 0 and {CALLBACK_DATA_MAX}")
                )
            sender = message.get("sender")
            destinations = message.get("destinations")
            if not isinstance(destinations, list) or not destinations:
                violations.append((f"{at}.destinations", "must not be empty"))
                continue
            for dat, destination in _destinations(at, destinations):
                if not isinstance(destination, dict):
                    violations.append((dat, "must not be null"))
                    continue
                to = destination.get("to")
                if not isinstance(to, str) or not to.strip():
                    violations.append((f"{dat}.to", "must not be blank"))
                    continue
                message_id = destination.get("messageId")
                if message_id is None:
                    message_id = str(uuid.uuid4())
                elif not isinstance(message_id, str) or not 0 < len(message_id) <= MESSAGE_ID_MAX:
                    violations.append((f"{dat}.messageId", f"size must be between 1 and {MESSAGE_ID_MAX}"))
                    continue
                sends.append(
                    SimulatedSend(
                        message_id=message_id,
                        to=to,
                        sender=sender if isinstance(sender, str) else None,
                        bulk_id=bulk_id,
                        text=text,
                        delivery_url=url if isinstance(url, str) and url else None,
                        seen_url=seen_url if isinstance(seen_url, str) and seen_url else None,
                        intermediate_report=delivery.get("intermediateReport") is True,
                        tracking_url=track.get("trackingUrl") if track else None,
                        track_clicks=bool(track.get("trackClicks", True)) if track else False,
                        shorten_url=bool(track.get("shortenUrl", True)) if track else False,
                        remove_protocol=bool(track.get("removeProtocol", False)) if track else False,
                        custom_domain=track.get("customDomain") if track else None,
                        callback_data=callback_data,
                        message_count=count,
                    )
                )
        if violations:
            raise RequestViolation(violations)
        return sends

    # --- answers ---

    def response(
        self, sends: list[SimulatedSend], statuses: list[Outcome], bulk_id: str | None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if bulk_id:
            out["bulkId"] = bulk_id
        out["messages"] = [
            {
                "messageId": send.message_id,
                "status": status_body(status),
                "destination": send.to,
                "details": {"messageCount": send.message_count},
            }
            for send, status in zip(sends, statuses, strict=True)
        ]
        return out

    def delivery_report(
        self, send: SimulatedSend, outcome: Outcome, sent_at: str, done_at: str
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {}
        if send.bulk_id:
            entry["bulkId"] = send.bulk_id
        charged = outcome.group_name != "REJECTED"
        entry["price"] = {
            "pricePerMessage": self.price_per_message if charged else 0.0,
            "currency": self.currency,
        }
        entry["status"] = status_body(outcome)
        entry["error"] = error_body(outcome)
        entry["messageId"] = send.message_id
        entry["to"] = send.to
        if send.sender:
            entry["sender"] = send.sender
        entry["sentAt"] = sent_at
        entry["doneAt"] = done_at
        entry["messageCount"] = send.message_count
        if send.callback_data is not None:
            entry["callbackData"] = send.callback_data
        return entry

    def seen_report(self, send: SimulatedSend, sent_at: str, seen_at: str) -> dict[str, Any]:
        if self.channel not in SEEN_CHANNELS:
            raise NotImplementedError(f"{self.channel} has no seen reports")
        return seen_entry(send, sent_at, seen_at)

    def click_report(self, send: SimulatedSend, url: str, clicked_ms: int) -> dict[str, Any]:
        body: dict[str, Any] = {
            "notificationType": "CLICKED",
            "recipient": send.to,
            "url": url,
            "sendDateTime": int(clicked_ms),
            "messageId": send.message_id,
        }
        if send.bulk_id:
            body["bulkId"] = send.bulk_id
        if send.callback_data is not None:
            body["callbackData"] = send.callback_data
        body["recipientInfo"] = {"deviceType": "Phone", "os": "Android 14", "deviceName": "Simulator"}
        body["geoLocationInfo"] = {"countryName": "Croatia", "city": "Zagreb"}
        return body

    def inbound_message(
        self, send: SimulatedSend, text: str, message_id: str, received_at: str
    ) -> dict[str, Any]:
        free = {"pricePerMessage": 0.0, "currency": self.currency}
        our_number = send.sender or ""
        if self.channel in ("viber", "rcs"):
            entry: dict[str, Any] = {
                "sender": send.to,
                "to": our_number,
                "integrationType": self.channel.upper(),
                "receivedAt": received_at,
                "messageId": message_id,
                "pairedMessageId": send.message_id,
                "message": {"text": text, "type": "TEXT"},
                "price": free,
            }
            if self.channel == "rcs":
                entry |= {
                    "interactionType": "BASIC_MESSAGE",
                    "rcsCount": 1,
                    "price": {"trafficType": "BASIC", **free},
                    "conversation": {"canInitiate": True},
                    "platform": {},
                }
            return entry
        if self.channel == "mms":
            return {
                "from": send.to,
                "to": our_number,
                "receivedAt": received_at,
                "messageId": message_id,
                "pairedMessageId": send.message_id,
                "message": [{"contentType": "text/plain", "value": text}],
                "price": free,
            }
        keyword, clean = _split_keyword(text)
        return {
            "messageId": message_id,
            "from": send.to,
            "to": our_number,
            "text": text,
            "cleanText": clean,
            "keyword": keyword,
            "receivedAt": received_at,
            "smsCount": sms_count(text),
            "price": free,
        }
