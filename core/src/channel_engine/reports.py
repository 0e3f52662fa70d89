"""Readers for the shapes Infobip's webhooks and send responses share across channels.

Channels call these from their `normalize_report` hook and add what is theirs; the core's fallback uses them
for a channel that brings no parser of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from .models import Money, ProviderRequest, Report, ReportKind, SendOutcome


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def status_fields(entry: dict[str, Any]) -> dict[str, Any]:
    """Status and error of a report entry, group names upper-cased (the legacy format says "Ok")."""
    status = entry.get("status") or {}
    error = entry.get("error") or {}
    out: dict[str, Any] = {}
    if status:
        out.update(
            status_group_id=status.get("groupId"),
            status_group=(status.get("groupName") or "").upper() or None,
            status_id=status.get("id"),
            status_name=status.get("name"),
            status_description=status.get("description"),
        )
    if error:
        out.update(
            error_group_id=error.get("groupId"),
            error_group=(error.get("groupName") or "").upper() or None,
            error_id=error.get("id"),
            error_name=error.get("name"),
            error_description=error.get("description"),
            error_permanent=error.get("permanent"),
        )
    return out


def price(entry: dict[str, Any]) -> Money | None:
    p = entry.get("price")
    if not isinstance(p, dict):
        return None
    return Money(price_per_message=p.get("pricePerMessage"), currency=p.get("currency"))


def outbound_report(channel: str, entry: dict[str, Any]) -> Report:
    """A delivery or seen report entry (`results[]` item) of any channel, v2 or v3 naming.

    A seen report has `seenAt` and no status."""
    kind: ReportKind = "SEEN" if entry.get("seenAt") and not entry.get("status") else "DELIVERY"
    return Report(
        kind=kind,
        channel=channel,
        message_id=_text(entry.get("messageId")),
        bulk_id=_text(entry.get("bulkId")) or None,
        to=_text(entry.get("to") or entry.get("destination")),
        sender=_text(entry.get("sender") or entry.get("from")),
        sent_at=entry.get("sentAt"),
        done_at=entry.get("doneAt"),
        seen_at=entry.get("seenAt"),
        price=price(entry),
        message_count=entry.get("messageCount", entry.get("smsCount")),
        mcc_mnc=_text(entry.get("mccMnc")),
        callback_data=entry.get("callbackData"),
        raw=entry,
        **status_fields(entry),
    )


def click_report(channel: str, body: dict[str, Any]) -> Report:
    """A URL click notification: one flat object, `sendDateTime` in epoch milliseconds."""
    ms = body.get("sendDateTime")
    return Report(
        kind="CLICK",
        channel=channel,
        message_id=_text(body.get("messageId")),
        bulk_id=_text(body.get("bulkId")) or None,
        to=_text(body.get("recipient")),
        received_at=epoch_ms_to_infobip(ms) if isinstance(ms, int | float) else _text(ms),
        url=body.get("url"),
        callback_data=body.get("callbackData"),
        device=body.get("recipientInfo"),
        raw=body,
    )


def inbound_message(channel: str, entry: dict[str, Any], *, sender_key: str = "from") -> Report:
    """An inbound message entry. SMS and WhatsApp put the end user in `from`, Viber and RCS in `sender`."""
    message = entry.get("message") if isinstance(entry.get("message"), dict) else {}
    return Report(
        kind="INBOUND",
        channel=channel,
        message_id=_text(entry.get("messageId")),
        to=_text(entry.get("to")),
        sender=_text(entry.get(sender_key) or entry.get("from") or entry.get("sender")),
        received_at=entry.get("receivedAt"),
        price=price(entry),
        message_count=entry.get("smsCount", entry.get("messageCount")),
        callback_data=entry.get("callbackData"),
        text=entry.get("text", message.get("text")),
        keyword=entry.get("keyword"),
        raw=entry,
    )


# --- strict readers for a channel's own parser: a body of the wrong shape is a ValueError that says what
# was expected. `label` names the channel in those sentences ("an SMS", "a Viber").


def webhook_object(label: str, kind: str, payload: Any) -> dict[str, Any]:
    """The webhook body, which must be a JSON object."""
    if not isinstance(payload, dict):
        raise ValueError(f"{label} {kind} webhook body is a JSON object, not {type(payload).__name__}")
    return payload


def webhook_results(label: str, kind: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The `results[]` of a report or inbound body: objects, each with a messageId."""
    results = payload.get("results")
    if not isinstance(results, list):
        if payload.get("notificationType") or "sendDateTime" in payload:
            raise ValueError(
                f"this is a URL click notification, not {label} {kind} body: post it to the clicks URL"
            )
        raise ValueError(f"{label} {kind} webhook body has a `results` list; this one has none")
    for i, entry in enumerate(results):
        if not isinstance(entry, dict):
            raise ValueError(
                f"results[{i}] of {label} {kind} webhook must be an object, not {type(entry).__name__}"
            )
        if not entry.get("messageId"):
            raise ValueError(f"results[{i}] of {label} {kind} webhook has no messageId")
    return results


EntryReader = Callable[[str, int, dict[str, Any]], Report]
WEBHOOK_KINDS = ("reports", "clicks", "inbound")


def read_webhook(
    channel: str,
    kind: str,
    payload: Any,
    *,
    label: str,
    name: str,
    outbound: EntryReader,
    inbound: EntryReader,
) -> list[Report]:
    """The reports in one webhook body of a channel with all three webhooks: a flat click notification,
    or `results[]` entries read one by one with `outbound(channel, index, entry)` (delivery and seen
    reports) or `inbound(...)`. `label` names a body in error sentences ("an SMS"), `name` the channel."""
    body = webhook_object(label, kind, payload)
    if kind == "clicks":
        return [checked_click_report(channel, label, body)]
    readers = {"reports": outbound, "inbound": inbound}
    if kind not in readers:
        raise ValueError(f"{name} has no {kind!r} webhook; its webhooks are {', '.join(WEBHOOK_KINDS)}")
    read = readers[kind]
    return [read(channel, i, entry) for i, entry in enumerate(webhook_results(label, kind, body))]


def checked_click_report(channel: str, label: str, payload: dict[str, Any]) -> Report:
    """A flat URL click notification (every channel's clicks share SMS's shape), checked; `sendDateTime`
    may come as epoch milliseconds in text."""
    if "results" in payload:
        raise ValueError(
            f"{label} click notification is one flat object; this body has `results`, like a delivery "
            "report or an inbound message"
        )
    if not payload.get("messageId"):
        raise ValueError(
            f"{label} click notification names the clicked message in messageId; this one has none"
        )
    if not any(key in payload for key in ("notificationType", "url", "sendDateTime")):
        raise ValueError(
            "this body has none of notificationType, url and sendDateTime: not a click notification"
        )
    moment = payload.get("sendDateTime")
    if isinstance(moment, str) and moment.isdigit():
        report = click_report(channel, {**payload, "sendDateTime": int(moment)})
        report.raw = payload
        return report
    return click_report(channel, payload)


def parse_generic_report(channel: str, kind: str, payload: dict[str, Any]) -> list[Report]:
    """Any Infobip webhook body of the common shapes: `results[]` of reports or inbound messages, or one
    flat click notification."""
    if kind == "clicks" or payload.get("notificationType"):
        return [click_report(channel, payload)]
    results = payload.get("results")
    if not isinstance(results, list):
        raise ValueError("the body has no `results` list")
    if kind == "inbound":
        return [inbound_message(channel, e) for e in results if isinstance(e, dict)]
    return [outbound_report(channel, e) for e in results if isinstance(e, dict)]


def parse_send_statuses(request: ProviderRequest, body: dict[str, Any]) -> list[SendOutcome]:
    """Infobip's 200 answer to a send: `messages[]` with `messageId` and a submit `status` each.

    A status in the REJECTED group at submit time means Infobip refused that one message."""
    out = []
    for entry in body.get("messages") or []:
        status = entry.get("status") or {}
        group = (status.get("groupName") or "").upper()
        details = entry.get("details") or {}
        out.append(
            SendOutcome(
                message_id=str(entry.get("messageId")),
                accepted=group not in ("REJECTED", "UNDELIVERABLE"),
                status_group=group or None,
                status_name=status.get("name"),
                status_id=status.get("id"),
                description=status.get("description"),
                message_count=details.get("messageCount", entry.get("messageCount", entry.get("smsCount"))),
            )
        )
    return out


def epoch_ms_to_infobip(ms: float) -> str:
    """Epoch milliseconds as Infobip writes times: 2019-11-09T16:00:00.000+0000."""
    moment = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def infobip_time(seconds: float) -> str:
    """Unix seconds as Infobip writes times."""
    return epoch_ms_to_infobip(seconds * 1000)
