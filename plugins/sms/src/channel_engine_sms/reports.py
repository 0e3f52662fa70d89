"""Reads Infobip's SMS webhooks into the engine's Reports.

- "reports": delivery reports, `{"results": [...]}`, in either format Infobip sends. The legacy one
  (`receive-outbound-sms-message-reports`) has `smsCount`, `from`, top-level `entityId`/`applicationId`, and
  free-text group names such as "Ok"; the v3 one (`receive-outbound-sms-message-reports-v3`) has
  `messageCount`, `sender` and `platform{}`. Both become the same Report, group names upper-cased.
- "clicks": one flat URL click notification (`receive-sms-tracking-notification`), no `results` wrapper;
  its `sendDateTime` is epoch milliseconds and becomes an Infobip-style timestamp in `receivedAt`.
- "inbound": inbound SMS (`receive-inbound-sms-messages`): `from` is the end user, `to` our number;
  `text` is the whole text, `keyword` the keyword Infobip matched (`cleanText` stays in `raw`).

SMS has no seen reports, so every delivery report entry must carry a `status`. A body of the wrong shape
raises ValueError with a sentence that says what was expected.
"""

from __future__ import annotations

from typing import Any

from channel_engine import Report, inbound_message, outbound_report
from channel_engine.reports import read_webhook

LABEL = "an SMS"  # how error sentences name a body of this channel


def normalize(channel: str, kind: str, payload: Any) -> list[Report]:
    return read_webhook(channel, kind, payload, label=LABEL, name="SMS", outbound=_delivery, inbound=_inbound)


def _delivery(channel: str, index: int, entry: dict[str, Any]) -> Report:
    if not isinstance(entry.get("status"), dict):
        if "receivedAt" in entry or "text" in entry:
            raise ValueError(
                f"results[{index}] is an inbound message, not a delivery report: post it to the inbound URL"
            )
        raise ValueError(f"results[{index}] of an SMS delivery report has no status")
    report = outbound_report(channel, entry)
    if report.kind != "DELIVERY":  # SMS has no seen reports, whatever else the entry carries
        report.kind = "DELIVERY"
    return report


def _inbound(channel: str, index: int, entry: dict[str, Any]) -> Report:
    if isinstance(entry.get("status"), dict):  # a legacy report has `from` too: the status tells them apart
        raise ValueError(
            f"results[{index}] is a delivery report, not an inbound message: post it to the reports URL"
        )
    if not entry.get("from"):
        raise ValueError(f"results[{index}] of an inbound SMS has no `from` (the end user's number)")
    return inbound_message(channel, entry, sender_key="from")
