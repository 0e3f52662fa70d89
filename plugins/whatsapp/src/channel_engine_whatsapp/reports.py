"""Reads Infobip's WhatsApp webhooks into the engine's Reports.

- "reports": delivery reports (`receive-whatsapp-delivery-reports`) and seen reports
  (`receive-whatsapp-seen-reports`) arrive at the same URL (the message's `notifyUrl`), `{"results": [...]}`.
  A delivery report has a `status`; a seen report has none, only `seenAt`. WhatsApp delivery reports have no
  `sender` and their schema no `callbackData`: either may be missing, the messageId finds the message.
- "clicks": a URL click notification, one flat object as for SMS (the WhatsApp spec defines no click
  webhook of its own; `urlOptions.trackingUrl` receives the common one). `sendDateTime` is epoch
  milliseconds, sometimes as text.
- "inbound": inbound messages (`receive-inbound-whatsapp-messages`): `from` is the end user, `to` our
  sender. `text` is the words the end user sent: the text of a text, quick-reply button (`BUTTON`), flow or
  order message, the title of an interactive reply, a media caption, a location's name and address, a
  shared contact's name, a reaction's emoji. `url` is the media's download URL or the location's URL. The
  whole entry stays in `raw` (button payloads, coordinates, contact cards...).

A body of the wrong shape raises ValueError with a sentence that says what was expected.
"""

from __future__ import annotations

from typing import Any

from channel_engine import Report, inbound_message, outbound_report
from channel_engine.reports import read_webhook

LABEL = "a WhatsApp"  # how error sentences name a body of this channel
TEXT_KEY = {
    "TEXT": "text",
    "BUTTON": "text",
    "INTERACTIVE_FLOW_REPLY": "text",
    "ORDER": "text",
    "INTERACTIVE_BUTTON_REPLY": "title",
    "INTERACTIVE_LIST_REPLY": "title",
    "REACTION": "emoji",
}
MEDIA_TYPES = frozenset({"IMAGE", "DOCUMENT", "AUDIO", "VIDEO", "VOICE", "STICKER"})


def normalize(channel: str, kind: str, payload: Any) -> list[Report]:
    return read_webhook(
        channel, kind, payload, label=LABEL, name="WhatsApp", outbound=_outbound, inbound=_inbound
    )


def _outbound(channel: str, index: int, entry: dict[str, Any]) -> Report:
    if isinstance(entry.get("status"), dict) or entry.get("seenAt"):
        return outbound_report(channel, entry)  # DELIVERY with a status, SEEN without one
    if "receivedAt" in entry or "message" in entry:
        raise ValueError(f"results[{index}] is an inbound message, not a report: post it to the inbound URL")
    raise ValueError(f"results[{index}] has neither a status (a delivery report) nor seenAt (a seen report)")


def _inbound(channel: str, index: int, entry: dict[str, Any]) -> Report:
    if isinstance(entry.get("status"), dict) or "seenAt" in entry:
        raise ValueError(f"results[{index}] is a delivery or seen report, not an inbound message")
    if not entry.get("from"):
        raise ValueError(f"results[{index}] of an inbound WhatsApp message has no `from` (the end user)")
    message = entry.get("message")
    if not isinstance(message, dict) or not message.get("type"):
        raise ValueError(f"results[{index}] of an inbound WhatsApp message has no message with a type")
    report = inbound_message(channel, entry, sender_key="from")
    report.text, report.url = summary(message)
    return report


def summary(message: dict[str, Any]) -> tuple[str | None, str | None]:
    """The words of an inbound message and the URL it carries (media download, location), when it has any."""
    kind = message["type"]
    if kind in TEXT_KEY:
        return message.get(TEXT_KEY[kind]), None
    if kind in MEDIA_TYPES:
        return message.get("caption"), message.get("url")
    if kind == "LOCATION":
        words = ", ".join(str(message[k]) for k in ("name", "address") if message.get(k))
        return words or f"{message.get('latitude')},{message.get('longitude')}", message.get("url")
    if kind == "CONTACT":
        names = [_contact_name(c) for c in message.get("contacts") or [] if isinstance(c, dict)]
        return ", ".join(n for n in names if n) or None, None
    return None, None  # payments, call permissions, infected or unsupported content: `raw` has it all


def _contact_name(contact: dict[str, Any]) -> str:
    name = contact.get("name") if isinstance(contact.get("name"), dict) else {}
    parts = (name.get("firstName"), name.get("lastName"))
    return name.get("formattedName") or " ".join(p for p in parts if p)
