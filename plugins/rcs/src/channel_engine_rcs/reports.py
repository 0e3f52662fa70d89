"""Reads Infobip's RCS webhooks into the engine's Reports.

- "reports": delivery reports (`receive-outbound-rcs-message-delivery-reports`) and seen reports
  (`receive-rcs-seen-reports`) share the URL. A delivery report has a `status`, RCS's `interactionType`,
  `conversation` and `price.trafficType`, and, when the message had an SMS failover, `channel`: RCS or SMS,
  the channel the report speaks for (it stays in `raw`). A seen report has `seenAt` and no status.
- "inbound": inbound messages (`receive-inbound-rcs-messages`: TEXT, FILE, SUGGESTION, LOCATION) and
  suggestion events (`inbound-events-receive-inbound-rcs-events`). The end user is `sender`, `to` our agent.
  `text` is the message's text or the tapped suggestion's text (its `postbackData` stays in
  `raw.message`); a file or location gets a one-line summary. Typing indicators and conversation-started
  events are not messages: they are accepted and give no report.
- "clicks": the flat click notification of Infobip's URL shortener, as for SMS (rcs.json defines none);
  its `sendDateTime` is epoch milliseconds and becomes an Infobip-style time in `receivedAt`.

A body of the wrong shape raises ValueError with a sentence that says what was expected.
"""

from __future__ import annotations

from typing import Any

from channel_engine import Report, inbound_message, outbound_report
from channel_engine.reports import read_webhook

LABEL = "an RCS"  # how error sentences name a body of this channel


def normalize(channel: str, kind: str, payload: Any) -> list[Report]:
    entries = payload.get("results") if kind == "inbound" and isinstance(payload, dict) else None
    if isinstance(entries, list):  # typing and conversation-started events: no messageId, no report
        payload = {**payload, "results": [e for e in entries if not _is_event(e)]}
    return read_webhook(channel, kind, payload, label=LABEL, name="RCS", outbound=_outbound, inbound=_inbound)


def _is_event(entry: Any) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("event"), dict)


def _outbound(channel: str, index: int, entry: dict[str, Any]) -> Report:
    """A delivery report (with a status) or a seen report (seenAt, no status)."""
    if "message" in entry or "receivedAt" in entry:
        raise ValueError(f"results[{index}] is an inbound message, not a report: post it to the inbound URL")
    if not isinstance(entry.get("status"), dict) and not entry.get("seenAt"):
        raise ValueError(
            f"results[{index}] has neither a status (a delivery report) nor seenAt (a seen report)"
        )
    return outbound_report(channel, entry)


def _inbound(channel: str, index: int, entry: dict[str, Any]) -> Report:
    if isinstance(entry.get("status"), dict) or entry.get("seenAt"):
        raise ValueError(
            f"results[{index}] is a delivery or seen report, not an inbound message: "
            "post it to the reports URL"
        )
    if not entry.get("messageId"):
        raise ValueError(f"results[{index}] of an inbound RCS message has no messageId")
    if not entry.get("sender"):
        raise ValueError(
            f"results[{index}] of an inbound RCS message has no `sender` (the end user's number)"
        )
    message = entry.get("message")
    if not isinstance(message, dict):
        raise ValueError(f"results[{index}] of an inbound RCS message has no `message` object")
    report = inbound_message(channel, entry, sender_key="sender")
    report.text = inbound_text(message)
    report.message_count = entry.get("rcsCount")
    return report


def inbound_text(message: dict[str, Any]) -> str | None:
    """What the end user sent, as one line of text."""
    kind = message.get("type")
    if kind == "LOCATION":
        return f"Location: {message.get('latitude')}, {message.get('longitude')}"
    if kind == "FILE":
        name = message.get("name") or "file"
        return f"File {name}: {message.get('url')}" if message.get("url") else f"File {name}"
    text = message.get("text")
    if text is None and kind == "SUGGESTION":
        return message.get("postbackData")
    return text
