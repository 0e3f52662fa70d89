"""Reads Infobip's Kakao webhooks into the engine's Reports.

- "reports": delivery reports, `{"results": [...]}` (`receive-outbound-kakao-alim-message-delivery-reports`,
  `receive-outbound-kakao-chingu-message-delivery-reports`: the new-gen shape with `sender`, `messageCount`,
  `platform{}`, `campaignReferenceId`). Neither carries a failover field: with SMS failover the report is the
  final step's, and says nothing of which channel delivered.
- "clicks" (kakao-chingu only, its `options.tracking`): the flat URL click notification Infobip sends for
  every channel; kakao.json defines none of its own. `sendDateTime` (epoch milliseconds) becomes
  `receivedAt`.

AlimTalk and ChinguTalk have no seen reports and no inbound messages (replies to a KakaoTalk channel are
Kakao Sangdam chats), so every delivery report entry must carry a `status`. A body of the wrong shape
raises ValueError with a sentence that says what was expected.
"""

from __future__ import annotations

from typing import Any

from channel_engine import Report, outbound_report
from channel_engine.reports import checked_click_report, webhook_object, webhook_results

from .channels import CHINGU

LABEL = "a Kakao"  # how error sentences name a body of these channels


def normalize(channel: str, kind: str, payload: Any) -> list[Report]:
    body = webhook_object(LABEL, kind, payload)
    if kind == "reports":
        return [_delivery(channel, i, entry) for i, entry in enumerate(webhook_results(LABEL, kind, body))]
    if kind == "clicks" and channel == CHINGU.name:
        return [checked_click_report(channel, LABEL, body)]
    if kind == "clicks":
        raise ValueError(f"{channel} has no click notifications: Infobip's AlimTalk API tracks no URLs")
    if kind == "inbound":
        raise ValueError(
            f"{channel} has no inbound messages: replies to a KakaoTalk channel are Kakao Sangdam chats"
        )
    raise ValueError(f"{channel} has no {kind!r} webhook; its webhooks are reports and clicks")


def _delivery(channel: str, index: int, entry: dict[str, Any]) -> Report:
    if not isinstance(entry.get("status"), dict):
        raise ValueError(
            f"results[{index}] of a Kakao delivery report has no status (Kakao has no seen reports)"
        )
    report = outbound_report(channel, entry)
    report.kind = "DELIVERY"  # a status is always there (checked above): never a seen report
    return report
