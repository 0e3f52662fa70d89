"""What the simulator does with a message: chosen by the last three digits of its destination.

Send to a number ending in one of the `MAGIC_DESTINATIONS` suffixes to get that behaviour; every other
number is delivered. Statuses and errors carry Infobip's real group ids, ids and names (the status and
error code tables in `infobip-error-codes.yml`, WIRE-FORMATS 2.6); descriptions are the short texts the
API puts on the wire ("Message delivered to handset").

`magic_table()` gives the table as rows for the docs.
"""

from __future__ import annotations

from msgspec import Struct

from .endpoints import Outcome

# Submit statuses (the 200 answer).
PENDING_ACCEPTED = Outcome(
    group_id=1,
    group_name="PENDING",
    id=26,
    name="PENDING_ACCEPTED",
    description="Message sent to next instance",
)
REJECTED_DUPLICATE_MESSAGE_ID = Outcome(
    group_id=5,
    group_name="REJECTED",
    id=23,
    name="REJECTED_DUPLICATE_MESSAGE_ID",
    description="Message rejected due to duplicate message ID",
)

# Delivery report statuses.
DELIVERED_TO_HANDSET = Outcome(
    group_id=3,
    group_name="DELIVERED",
    id=5,
    name="DELIVERED_TO_HANDSET",
    description="Message delivered to handset",
)
DELIVERED_TO_OPERATOR = Outcome(
    group_id=3,
    group_name="DELIVERED",
    id=2,
    name="DELIVERED_TO_OPERATOR",
    description="Message delivered to operator",
)
UNDELIVERABLE_NOT_DELIVERED = Outcome(
    group_id=2,
    group_name="UNDELIVERABLE",
    id=9,
    name="UNDELIVERABLE_NOT_DELIVERED",
    description="Message sent not delivered",
    error_group_id=1,
    error_group_name="HANDSET_ERRORS",
    error_id=1,
    error_name="EC_UNKNOWN_SUBSCRIBER",
    error_description="Unknown subscriber",
    error_permanent=True,
)
REJECTED_DESTINATION = Outcome(
    group_id=5,
    group_name="REJECTED",
    id=52,
    name="REJECTED_DESTINATION",
    description="Invalid destination address",
)
EXPIRED_EXPIRED = Outcome(
    group_id=4,
    group_name="EXPIRED",
    id=15,
    name="EXPIRED_EXPIRED",
    description="Message expired",
    error_group_id=1,
    error_group_name="HANDSET_ERRORS",
    error_id=27,
    error_name="EC_ABSENT_SUBSCRIBER",
    error_description="Absent subscriber",
    error_permanent=False,
)


class Magic(Struct, frozen=True, kw_only=True):
    """One simulated behaviour: what the send answer says and which webhooks follow."""

    suffix: str  # the destination's last three digits; "" for every other destination
    label: str  # a short name for docs and test ids
    description: str
    submit: Outcome = PENDING_ACCEPTED  # the status in the 200 answer
    final: Outcome | None = DELIVERED_TO_HANDSET  # the delivery report; None: no report, ever
    intermediate: Outcome | None = None  # a report before `final`, when the message asked for one
    http_error: int | None = None  # answer the whole request with this HTTP status once per messageId
    seen: bool = False  # the end user reads the message (a seen report, on channels that have them)
    clicks: bool = False  # click every URL of the text (when click tracking is on)
    reply: str | None = None  # the end user answers with this text (posted to the inbound URL)


DEFAULT = Magic(
    suffix="",
    label="delivered",
    description="Accepted (PENDING_ACCEPTED), then a DELIVERED_TO_HANDSET report.",
)

MAGIC_DESTINATIONS: dict[str, Magic] = {
    m.suffix: m
    for m in (
        Magic(
            suffix="990",
            label="seen",
            description="Delivered, then a seen report (no status) sent to the seen URL, on channels "
            "with read receipts (WhatsApp, Viber, RCS).",
            seen=True,
        ),
        Magic(
            suffix="991",
            label="undeliverable",
            description="Accepted, then UNDELIVERABLE_NOT_DELIVERED with the permanent handset error "
            "EC_UNKNOWN_SUBSCRIBER.",
            final=UNDELIVERABLE_NOT_DELIVERED,
        ),
        Magic(
            suffix="992",
            label="rejected",
            description="Accepted, then a REJECTED_DESTINATION report (REJECTED group).",
            final=REJECTED_DESTINATION,
        ),
        Magic(
            suffix="993",
            label="expired",
            description="Accepted, then EXPIRED_EXPIRED with the temporary handset error "
            "EC_ABSENT_SUBSCRIBER.",
            final=EXPIRED_EXPIRED,
        ),
        Magic(
            suffix="994",
            label="pending",
            description="Accepted (PENDING_ACCEPTED) and never reported.",
            final=None,
        ),
        Magic(
            suffix="995",
            label="throttled",
            description="The whole request is answered HTTP 429 (E429, Retry-After: 1) the first time it "
            "carries this messageId; accepted and delivered when retried.",
            http_error=429,
        ),
        Magic(
            suffix="996",
            label="server-error",
            description="The whole request is answered HTTP 500 (E500) the first time it carries this "
            "messageId; accepted and delivered when retried.",
            http_error=500,
        ),
        Magic(
            suffix="997",
            label="clicked",
            description="Delivered, then one click notification per URL of the text, sent to the tracking "
            "URL (only with click tracking on and a trackingUrl).",
            clicks=True,
        ),
        Magic(
            suffix="998",
            label="replied",
            description='Delivered, then the end user replies "STOP": an inbound message posted to the '
            "simulator's inbound URL.",
            reply="STOP",
        ),
        Magic(
            suffix="999",
            label="intermediate",
            description="A DELIVERED_TO_OPERATOR report first (only when intermediateReport is requested), "
            "then DELIVERED_TO_HANDSET.",
            intermediate=DELIVERED_TO_OPERATOR,
        ),
    )
}


def magic_for(to: str) -> Magic:
    """The behaviour for a destination: by its last three characters."""
    return MAGIC_DESTINATIONS.get(to[-3:], DEFAULT)


def magic_table() -> list[dict[str, str]]:
    """The magic destinations as rows (`ending`, `behaviour`, `submit`, `reports`), default first."""
    rows = []
    for m in (DEFAULT, *MAGIC_DESTINATIONS.values()):
        reports = [o.name for o in (m.intermediate, m.final) if o is not None]
        if m.seen:
            reports.append("seen")
        if m.clicks:
            reports.append("CLICKED")
        if m.reply:
            reports.append(f"inbound {m.reply!r}")
        rows.append(
            {
                "ending": m.suffix or "any other",
                "behaviour": m.label,
                "submit": f"HTTP {m.http_error} once, then {m.submit.name}"
                if m.http_error
                else m.submit.name,
                "reports": ", ".join(reports) or "none",
                "description": m.description,
            }
        )
    return rows


def magic_table_markdown() -> str:
    """The magic destinations as a Markdown table, for the README."""
    rows = magic_table()
    lines = ["| ending | behaviour | submit | reports |", "|---|---|---|---|"]
    lines += [f"| {r['ending']} | {r['description']} | {r['submit']} | {r['reports']} |" for r in rows]
    return "\n".join(lines)
