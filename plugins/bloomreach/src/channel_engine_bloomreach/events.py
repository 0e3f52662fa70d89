"""What a report becomes in Bloomreach: one `customers/events` command of the tracking API's batch.

Every event is the project's campaign event (`campaign`, or the name it is mapped to) on the customer the
message went to, at the moment it happened (UNIX seconds), with the campaign and action properties the
scenario sent us and `action_type` = `sms` or `mms`. `status` follows Bloomreach's Infobip SMS table:

| our report | status | also |
|---|---|---|
| SENT (Infobip took it) | `enqueued` | `number_of_message_parts`, `delivery_report_expected` |
| FAILED (not handed to Infobip, or refused) | `enqueue_failed` | `error`, `comment` |
| DELIVERY, group DELIVERED | `delivered` | `status_code` 0, `error` NO_ERROR |
| DELIVERY, group REJECTED | `rejected` | `status_code`, `error`, `comment` |
| DELIVERY, group UNDELIVERABLE or EXPIRED | `failed` | `status_code`, `error`, `comment` |
| CLICK (a tracked link) | `clicked` | `url` |
| INBOUND (a reply) | `incoming_message` | `message`, `keyword`, `sender` |

Intermediate delivery reports (PENDING, DELIVERED_TO_OPERATOR) and seen reports track nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

from channel_engine import OutboundMessage, Report

from .config import Project
from .countries import without_delivery_reports

HOST = "bloomreach"
FINAL_STATUS = {
    "DELIVERED": "delivered",
    "REJECTED": "rejected",
    "UNDELIVERABLE": "failed",
    "EXPIRED": "failed",
}
_LEADING_NAME = re.compile(r"^([A-Z][A-Z0-9_]+)\b")


def event_time(text: str | None) -> float:
    """An Infobip time (2019-11-09T16:00:00.000+0000) as UNIX seconds; now when it is missing or odd."""
    if text:
        for layout in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
            try:
                return dt.datetime.strptime(text, layout).timestamp()
            except ValueError:
                continue
    return time.time()


def _status(report: Report) -> tuple[str, dict[str, Any]] | None:
    """The event's status and the properties that come with it, or None when nothing is tracked."""
    if report.kind == "SENT":
        return "enqueued", {}
    if report.kind == "FAILED":
        reason = report.error_description or "the message could not be handed to Infobip"
        match = _LEADING_NAME.match(reason)
        return "enqueue_failed", {"error": match.group(1) if match else "NOT_SENT", "comment": reason}
    if report.kind == "DELIVERY" and report.is_final:
        status = FINAL_STATUS.get((report.status_group or "").upper())
        if status is None:
            return None
        extra: dict[str, Any] = {
            "status_code": report.error_id if report.error_id is not None else 0,
            "error": report.error_name or "NO_ERROR",
            "infobip_status": report.status_name,
        }
        if report.error_id and report.error_description:
            extra["comment"] = report.error_description
        return status, extra
    if report.kind == "CLICK":
        return "clicked", {"url": report.url}
    if report.kind == "INBOUND":
        return "incoming_message", {
            "message": report.text,
            "keyword": report.keyword,
            "sender": report.sender,
        }
    return None


def _occurrence(report: Report) -> str:
    """What tells two events of one status of one message apart: replies by id, clicks by time and link."""
    if report.kind == "INBOUND":
        return report.message_id or ""
    if report.kind == "CLICK":
        return f"{report.received_at or ''}|{report.url or ''}"
    return ""


def event_command(project: Project, report: Report, message: OutboundMessage | None) -> dict[str, Any] | None:
    """The tracking command for a report of one of our messages, or None when it tracks nothing."""
    if message is None or message.host.name != HOST:
        return None
    if report.kind == "INBOUND" and not project.track_inbound:
        return None
    found = _status(report)
    if found is None:
        return None
    status, extra = found
    context = message.host.context
    properties: dict[str, Any] = {
        **context.get("properties", {}),
        "action_type": message.channel,
        "status": status,
        "recipient": message.destination,
        "message_id": message.id,
        "sender_id": message.sender,
    }
    if report.kind == "INBOUND":
        # The reply's own id; the message it answers stays as `message_id`.
        properties |= {"recipient": report.to, "reply_id": report.message_id}
    elif report.message_count is not None:
        properties["number_of_message_parts"] = report.message_count
    if report.kind == "SENT":
        country = without_delivery_reports(message.destination)
        properties["delivery_report_expected"] = country is None
        if country is not None:
            properties["comment"] = f"{country} sends no SMS delivery reports: none is expected"
    properties |= {k: v for k, v in extra.items() if v is not None}
    moment = report.received_at if report.kind in ("INBOUND", "CLICK") else report.done_at or report.sent_at
    return {
        "name": "customers/events",
        "command_id": f"{message.id}:{status}:{_occurrence(report)}",
        "data": {
            "customer_ids": context.get("customerIds", {}),
            "event_type": project.event_name,
            "timestamp": round(event_time(moment), 3),
            "properties": properties,
        },
    }
