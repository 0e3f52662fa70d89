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

from channel_engine import Report, click_report, outbound_report

from .channels import CHINGU


def normalize(channel: str, kind: str, payload: Any) -> list[Report]:
    if not isinstance(payload, dict):
        raise ValueError(f"a Kakao {kind} webhook body is a JSON object, not {type(payload).__name__}")
    if kind == "reports":
        return [_delivery(channel, entry) for entry in _results(payload)]
    if kind == "clicks" and channel == CHINGU.name:
        return [_click(channel, payload)]
    if kind == "clicks":
        raise ValueError(f"{channel} has no click notifications: Infobip's AlimTalk API tracks no URLs")
    if kind == "inbound":
        raise ValueError(
            f"{channel} has no inbound messages: replies to a KakaoTalk channel are Kakao Sangdam chats"
        )
    raise ValueError(f"{channel} has no {kind!r} webhook; its webhooks are reports and clicks")


def _results(payload: dict[str, Any]) -> list[dict[str, Any]]:
    results = payload.get("results")
    if not isinstance(results, list):
        if payload.get("notificationType") or "sendDateTime" in payload:
            raise ValueError(
                "this is a URL click notification, not a delivery report: post it to the clicks URL"
            )
        raise ValueError("a Kakao delivery report body has a `results` list; this one has none")
    for i, entry in enumerate(results):
        if not isinstance(entry, dict):
            raise ValueError(
                f"results[{i}] of a Kakao delivery report must be an object, not {type(entry).__name__}"
            )
        if not entry.get("messageId"):
            raise ValueError(f"results[{i}] of a Kakao delivery report has no messageId")
        if not isinstance(entry.get("status"), dict):
            raise ValueError(
                f"results[{i}] of a Kakao delivery report has no status (Kakao has no seen reports)"
            )
    return results


def _delivery(channel: str, entry: dict[str, Any]) -> Report:
    report = outbound_report(channel, entry)
    report.kind = "DELIVERY"  # a status is always there (checked above): never a seen report
    return report


def _click(channel: str, payload: dict[str, Any]) -> Report:
    if "results" in payload:
        raise ValueError(
            "a click notification is one flat object; this body has `results`, like a delivery report"
        )
    if not payload.get("messageId"):
        raise ValueError("a click notification names the clicked message in messageId; this one has none")
    if not any(key in payload for key in ("notificationType", "url", "sendDateTime")):
        raise ValueError(
            "this body has none of notificationType, url and sendDateTime: not a click notification"
        )
    moment = payload.get("sendDateTime")
    if isinstance(moment, str) and moment.isdigit():  # epoch milliseconds, sent as text
        report = click_report(channel, {**payload, "sendDateTime": int(moment)})
        report.raw = payload
        return report
    return click_report(channel, payload)
