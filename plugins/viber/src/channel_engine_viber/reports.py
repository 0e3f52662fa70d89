"""Reads Infobip's Viber webhooks into the engine's Reports.

- "reports": delivery reports (`receive-outbound-viber-message-delivery-reports`, the v3 shape: `sender`,
  `messageCount`, `platform{}`) and seen reports (`receive-viber-seen-reports`) share our one reports URL,
  `{"results": [...]}` each. A seen report has `seenAt` and no `status`; `from` is our sender and `to` the
  end user who read the message.
- "clicks": one flat URL click notification, no `results` wrapper; `sendDateTime` is epoch milliseconds.
  viber.json defines no click webhook: Infobip's URL shortening sends every channel's clicks in the one
  shape sms.json documents (`receive-sms-tracking-notification`).
- "inbound": inbound Viber messages (`receive-inbound-viber-messages`): the END USER is in `sender` (not
  `from`), `to` is our Viber sender; `message` is TEXT (`text`) or FILE (`url`, `fileName`, an optional
  `text` description), each with the `trackingData` of the message the user answers. A file's URL becomes
  the Report's `url`; Infobip's `pairedMessageId` (our message id) its `paired_message_id`.

A body of the wrong shape raises ValueError with a sentence that says what was expected.
"""

from __future__ import annotations

from typing import Any

from channel_engine import Report, inbound_message, outbound_report
from channel_engine.reports import read_webhook

LABEL = "a Viber"  # how error sentences name a body of this channel


def normalize(channel: str, kind: str, payload: Any) -> list[Report]:
    return read_webhook(
        channel, kind, payload, label=LABEL, name="Viber", outbound=_outbound, inbound=_inbound
    )


def _outbound(channel: str, index: int, entry: dict[str, Any]) -> Report:
    """A delivery report (it has a status) or a seen report (it has seenAt and no status)."""
    if isinstance(entry.get("status"), dict):
        report = outbound_report(channel, entry)
        report.kind = "DELIVERY"  # a seenAt beside a status does not make it a seen report
        return report
    if "message" in entry or "receivedAt" in entry:
        raise ValueError(
            f"results[{index}] is an inbound message, not a delivery or seen report: post it to the "
            "inbound URL"
        )
    if not entry.get("seenAt"):
        raise ValueError(
            f"results[{index}] of a Viber report has neither a status (delivery report) nor seenAt "
            "(seen report)"
        )
    return outbound_report(channel, entry)


def _inbound(channel: str, index: int, entry: dict[str, Any]) -> Report:
    if isinstance(entry.get("status"), dict) or "seenAt" in entry:
        raise ValueError(
            f"results[{index}] is a delivery or seen report, not an inbound message: post it to the "
            "reports URL"
        )
    if not entry.get("sender"):
        raise ValueError(f"results[{index}] of an inbound Viber message has no `sender` (the end user)")
    message = entry.get("message")
    if not isinstance(message, dict) or not message.get("type"):
        raise ValueError(f"results[{index}] of an inbound Viber message has no `message` with a type")
    report = inbound_message(channel, entry, sender_key="sender")
    if message["type"] == "FILE":
        report.url = message.get("url")
    report.paired_message_id = entry.get("pairedMessageId")  # the store re-pairs by sender when it can
    return report
