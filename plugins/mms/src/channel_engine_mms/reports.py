"""Reads Infobip's MMS webhooks into the engine's Reports.

- "reports": delivery reports, `{"results": [...]}`, in either format Infobip sends. The current one
  (`receive-outbound-mms-message-delivery-reports`, for `/mms/2/messages`) has `sender`, `messageCount`
  and `platform{}`, and its example leaves out `to` and `error`; the older one
  (`receive-outbound-mms-message-reports`) has `smsCount` and top-level `entityId`/`applicationId`. Both
  become the same Report, group names upper-cased. MMS has no seen reports: every entry needs a `status`.
- "clicks": one flat URL click notification (`receive-mms-tracking-notification`), no `results` wrapper;
  its `sendDateTime` is epoch milliseconds and becomes an Infobip-style timestamp in `receivedAt`.
- "inbound": inbound MMS (`receive-inbound-mms-messages`): `from` is the end user, `to` our number, and
  `message` is a list of parts, each with a `contentType` and either a `value` (text) or a `url` (media).
  The text parts, joined by new lines, become the report's `text`; the first media URL becomes its `url`
  (every part stays in `raw`). A group MMS lists its members in `group`, kept in `raw`.

A body of the wrong shape raises ValueError with a sentence that says what was expected.
"""

from __future__ import annotations

from typing import Any

from channel_engine import Report, inbound_message, outbound_report
from channel_engine.reports import read_webhook

LABEL = "an MMS"  # how error sentences name a body of this channel


def normalize(channel: str, kind: str, payload: Any) -> list[Report]:
    return read_webhook(channel, kind, payload, label=LABEL, name="MMS", outbound=_delivery, inbound=_inbound)


def _delivery(channel: str, index: int, entry: dict[str, Any]) -> Report:
    if not isinstance(entry.get("status"), dict):
        if "receivedAt" in entry or "message" in entry:
            raise ValueError(
                f"results[{index}] is an inbound message, not a delivery report: post it to the inbound URL"
            )
        raise ValueError(
            f"results[{index}] of an MMS delivery report has no status (MMS has no seen reports)"
        )
    report = outbound_report(channel, entry)
    report.kind = "DELIVERY"  # an entry with a status is a delivery report, whatever else it carries
    return report


def _inbound(channel: str, index: int, entry: dict[str, Any]) -> Report:
    if isinstance(entry.get("status"), dict):
        raise ValueError(
            f"results[{index}] is a delivery report, not an inbound message: post it to the reports URL"
        )
    if not entry.get("from"):
        raise ValueError(f"results[{index}] of an inbound MMS has no `from` (the end user's number)")
    parts = entry.get("message")
    if not isinstance(parts, list):
        raise ValueError(f"results[{index}].message of an inbound MMS must be a list of parts")
    texts, media = read_parts(index, parts)
    report = inbound_message(channel, entry, sender_key="from")
    report.text = "\n".join(texts) if texts else None
    report.url = media[0] if media else None
    return report


def read_parts(index: int, parts: list[Any]) -> tuple[list[str], list[str]]:
    """The texts and the media URLs of an inbound MMS's parts, in order."""
    texts: list[str] = []
    media: list[str] = []
    for j, part in enumerate(parts):
        if not isinstance(part, dict):
            raise ValueError(f"results[{index}].message[{j}] must be an object, not {type(part).__name__}")
        kind = str(part.get("contentType") or "text/plain").lower()
        if isinstance(part.get("value"), str) and kind.startswith("text/plain"):
            texts.append(part["value"])
        elif isinstance(part.get("url"), str):
            media.append(part["url"])
    return texts, media
