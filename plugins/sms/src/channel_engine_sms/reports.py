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

from channel_engine import Report, click_report, inbound_message, outbound_report

KINDS = ("reports", "clicks", "inbound")


def normalize(channel: str, kind: str, payload: Any) -> list[Report]:
    if not isinstance(payload, dict):
        raise ValueError(f"an SMS {kind} webhook body is a JSON object, not {type(payload).__name__}")
    if kind == "clicks":
        return [_click(channel, payload)]
    if kind == "reports":
        return [_delivery(channel, i, entry) for i, entry in enumerate(_results(kind, payload))]
    if kind == "inbound":
        return [_inbound(channel, i, entry) for i, entry in enumerate(_results(kind, payload))]
    raise ValueError(f"SMS has no {kind!r} webhook; its webhooks are {', '.join(KINDS)}")


def _results(kind: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
    results = payload.get("results")
    if not isinstance(results, list):
        if payload.get("notificationType") or "sendDateTime" in payload:
            raise ValueError(
                f"this is a URL click notification, not an SMS {kind} body: post it to the clicks URL"
            )
        raise ValueError(f"an SMS {kind} webhook body has a `results` list; this one has none")
    for i, entry in enumerate(results):
        if not isinstance(entry, dict):
            raise ValueError(
                f"results[{i}] of an SMS {kind} webhook must be an object, not {type(entry).__name__}"
            )
        if not entry.get("messageId"):
            raise ValueError(f"results[{i}] of an SMS {kind} webhook has no messageId")
    return results


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


def _click(channel: str, payload: dict[str, Any]) -> Report:
    if "results" in payload:
        raise ValueError(
            "an SMS click notification is one flat object; this body has `results`, like a delivery report "
            "or an inbound message"
        )
    if not payload.get("messageId"):
        raise ValueError(
            "an SMS click notification names the clicked message in messageId; this one has none"
        )
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


def _inbound(channel: str, index: int, entry: dict[str, Any]) -> Report:
    if isinstance(entry.get("status"), dict):  # a legacy report has `from` too: the status tells them apart
        raise ValueError(
            f"results[{index}] is a delivery report, not an inbound message: post it to the reports URL"
        )
    if not entry.get("from"):
        raise ValueError(f"results[{index}] of an inbound SMS has no `from` (the end user's number)")
    return inbound_message(channel, entry, sender_key="from")
