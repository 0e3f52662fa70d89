"""From the engine's normalized reports to data extension rows, column names exactly as the seeds list them.

A row is built with every column any report extension has, then cut to the columns of the extension it
goes to (a business unit may point click reports at the legacy Viber URL Tracking, which has no `channel`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from channel_engine import OutboundMessage, Report

from .data_extensions import DataExtension

CHANNEL_NAMES = {
    "sms": "SMS",
    "lms": "LMS",
    "mms": "MMS",
    "whatsapp": "WhatsApp",
    "viber": "Viber",
    "rcs": "RCS",
    "kakao-alim": "Kakao Alim",
    "kakao-chingu": "Kakao ChinguTalk",
}
SMS_REPORT_CHANNELS = frozenset({"sms", "lms"})  # the SMS Delivery Reports extension; the rest are Omni
TWO_WAY_CHANNELS = frozenset({"sms", "mms", "whatsapp"})  # inbound replies the seeds store
# The engine's FAILED (never handed to Infobip) shown in Infobip's vocabulary, so a decision split that
# checks "statusName begins with REJECTED" routes it like any other rejection.
NOT_SENT = {
    "statusGroupId": 5,
    "statusGroupName": "REJECTED",
    "statusId": 0,
    "statusName": "REJECTED_NOT_SENT",
}


def channel_name(channel: str) -> str:
    return CHANNEL_NAMES.get(channel, channel)


def sfmc_date(infobip_time: str | None) -> str | None:
    """Infobip's `2024-05-01T10:00:00.000+0000` as ISO 8601 (`...+00:00`), which SFMC's Date columns take."""
    if not infobip_time:
        return None
    try:
        # Since Python 3.11 this reads Infobip's `+0000` offsets too, twenty times faster than strptime: the
        # all-in-one engine spent about 2% of its event loop parsing report times with strptime.
        moment = dt.datetime.fromisoformat(infobip_time)
    except ValueError:
        return infobip_time
    return moment.isoformat(timespec="milliseconds")


def _cut(value: str | None, length: int) -> str | None:
    return value[:length] if value else value


def delivery_row(report: Report, message: OutboundMessage | None) -> dict[str, Any]:
    """A delivery report (or the engine's FAILED) as a delivery report row."""
    row: dict[str, Any] = {
        "messageId": report.message_id,
        "messageCount": report.message_count or 1,
        "to": report.to or (message.destination if message else None),
        "pricePerMessage": report.price.price_per_message if report.price else None,
        "priceCurrency": report.price.currency if report.price else None,
        "statusGroupId": report.status_group_id,
        "statusGroupName": report.status_group,
        "statusId": report.status_id,
        "statusName": report.status_name,
        "statusDescription": _cut(report.status_description, 100),
        "errorGroupId": report.error_group_id,
        "errorGroupName": report.error_group,
        "errorId": report.error_id,
        "errorName": report.error_name,
        "errorDescription": _cut(report.error_description, 1000),
        "errorPermanent": report.error_permanent,
        "callbackData": report.callback_data,
        "sentAt": sfmc_date(report.sent_at),
        "doneAt": sfmc_date(report.done_at),
        "from": report.sender or (message.sender if message else None),
        "channel": channel_name(report.channel),
    }
    if report.kind == "FAILED":
        row |= NOT_SENT | {"statusDescription": _cut(report.error_description, 100)}
    if report.mcc_mnc and len(report.mcc_mnc) >= 5:
        row |= {"originalMCC": report.mcc_mnc[:3], "originalMNC": report.mcc_mnc[3:]}
    return row


def seen_row(report: Report) -> dict[str, Any]:
    """The columns a seen report changes on its message's delivery row."""
    return {"messageId": report.message_id, "seenAt": sfmc_date(report.seen_at)}


def click_row(report: Report) -> dict[str, Any]:
    device = report.device or {}
    moment = report.raw.get("sendDateTime")
    return {
        "notificationType": report.raw.get("notificationType") or "CLICKED",
        "messageId": report.message_id,
        "recipient": report.to,
        "url": _cut(report.url, 1000),
        "sendDateTime": sfmc_date(report.received_at),
        # The legacy Viber extension keeps the click time "in UNIX format", as Infobip sends it.
        "sendDateTimeUnix": str(moment) if isinstance(moment, int | float) else None,
        "deviceType": device.get("deviceType"),
        "os": device.get("os"),
        "deviceName": device.get("deviceName"),
        "callbackData": report.callback_data,
        "channel": channel_name(report.channel),
    }


def inbound_row(report: Report, message: OutboundMessage | None) -> dict[str, Any]:
    context = message.host.context if message else {}
    return {
        "messageId": report.message_id,
        "contactKey": context.get("contactKey"),
        "from": report.sender,
        "to": report.to,
        "channel": channel_name(report.channel),
        "text": _cut(report.text, 4000),
        "keyword": report.keyword,
        "receivedAt": sfmc_date(report.received_at),
        "pairedMessageId": report.paired_message_id,
        "activityId": context.get("activityId"),
        "callbackData": message.options.callback_data if message else None,
    }


def for_extension(row: dict[str, Any], extension: DataExtension) -> dict[str, Any]:
    """The row with only the extension's columns (and no empty values: SFMC leaves those null)."""
    columns = set(extension.column_names)
    out = {k: v for k, v in row.items() if k in columns and v is not None}
    if "sendDateTime" in columns and row.get("sendDateTimeUnix") and _is_text(extension, "sendDateTime"):
        out["sendDateTime"] = row["sendDateTimeUnix"]
    return out


def _is_text(extension: DataExtension, column: str) -> bool:
    return next(c.type for c in extension.columns if c.name == column) == "Text"
