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

from channel_engine import Report, click_report, inbound_message, outbound_report

KINDS = ("reports", "clicks", "inbound")


def normalize(channel: str, kind: str, payload: Any) -> list[Report]:
    if not isinstance(payload, dict):
        raise ValueError(f"a Viber {kind} webhook body is a JSON object, not {type(payload).__name__}")
    if kind == "clicks":
        return [_click(channel, payload)]
    if kind == "reports":
        return [_outbound(channel, i, entry) for i, entry in enumerate(_results(kind, payload))]
    if kind == "inbound":
        return [_inbound(channel, i, entry) for i, entry in enumerate(_results(kind, payload))]
    raise ValueError(f"Viber has no {kind!r} webhook; its webhooks are {', '.join(KINDS)}")


def _results(kind: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
    results = payload.get("results")
    if not isinstance(results, list):
        if payload.get("notificationType") or "sendDateTime" in payload:
            raise ValueError(
                f"this is a URL click notification, not a Viber {kind} body: post it to the clicks URL"
            )
        raise ValueError(f"a Viber {kind} webhook body has a `results` list; this one has none")
    for i, entry in enumerate(results):
        if not isinstance(entry, dict):
            raise ValueError(
                f"results[{i}] of a Viber {kind} webhook must be an object, not {type(entry).__name__}"
            )
        if not entry.get("messageId"):
            raise ValueError(f"results[{i}] of a Viber {kind} webhook has no messageId")
    return results


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


def _click(channel: str, payload: dict[str, Any]) -> Report:
    if "results" in payload:
        raise ValueError(
            "a Viber click notification is one flat object; this body has `results`, like a delivery "
            "report or an inbound message"
        )
    if not payload.get("messageId"):
        raise ValueError("a click notification names the clicked message in messageId; this one has none")
    if not any(key in payload for key in ("notificationType", "url", "sendDateTime")):
        raise ValueError("this body has none of notificationType, url and sendDateTime: not a click")
    moment = payload.get("sendDateTime")
    if isinstance(moment, str) and moment.isdigit():  # epoch milliseconds, sent as text
        report = click_report(channel, {**payload, "sendDateTime": int(moment)})
        report.raw = payload
        return report
    return click_report(channel, payload)


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
