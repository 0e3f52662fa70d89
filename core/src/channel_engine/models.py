"""Every model the engine passes between its parts, in one place.

Wire names are camelCase (our API, Infobip's API); Python attributes are snake_case. Limits are msgspec
`Meta` constraints, so a decode error names the JSON path of the field that broke them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct, field

TimeUnit = Literal["MINUTE", "HOUR", "DAY"]
ValidityUnit = Literal["SECONDS", "MINUTES", "HOURS"]
# FAILED is ours, not Infobip's: the engine could not hand the message to Infobip at all (a permanent 4xx,
# a refusal at submit, or retries given up); `error_description` says why.
ReportKind = Literal["DELIVERY", "SEEN", "CLICK", "INBOUND", "FAILED", "SENT"]

SECONDS_PER_UNIT: dict[str, int] = {"MINUTE": 60, "HOUR": 3600, "DAY": 86400}
CALLBACK_DATA_MAX = 4000


class Wire(Struct, rename="camel", omit_defaults=True, forbid_unknown_fields=True):
    """Base of our API's wire models: camelCase names; an unknown field is an error, so a typo is never
    silently ignored."""


class UrlOptions(Wire):
    """URL shortening and click tracking. Infobip's defaults apply once the block is present."""

    shorten_url: bool = True
    track_clicks: bool = True
    tracking_url: Annotated[str, Meta(min_length=1, max_length=2048)] | None = None
    remove_protocol: bool = False
    custom_domain: Annotated[str, Meta(min_length=1, max_length=255)] | None = None


class SpeedLimit(Wire):
    """At most `amount` messages per `time_unit`, spaced evenly; `key` groups the messages that share it."""

    amount: Annotated[int, Meta(ge=1, le=100_000)]
    time_unit: TimeUnit
    key: Annotated[str, Meta(min_length=1, max_length=200)] | None = None

    @property
    def interval_seconds(self) -> float:
        return SECONDS_PER_UNIT[self.time_unit] / self.amount


class ValidityPeriod(Wire):
    amount: Annotated[int, Meta(ge=1)]
    time_unit: ValidityUnit = "MINUTES"


class MessageOptions(Wire):
    url_options: UrlOptions | None = None
    speed_limit: SpeedLimit | None = None
    validity_period: ValidityPeriod | None = None
    callback_data: Annotated[str, Meta(max_length=CALLBACK_DATA_MAX)] | None = None
    bulk_id: Annotated[str, Meta(min_length=1, max_length=100)] | None = None


class HostRef(Wire):
    """The host that owns a message and gets its reports, with whatever it needs to route them back."""

    name: str = "api"
    context: dict[str, Any] = field(default_factory=dict)


class OutboundMessage(Wire):
    """One message to one destination, as a host asks for it.

    `content` is the channel's own shape (for SMS: text, and title for LMS); the channel validates it.
    `id` is ours: it travels to Infobip as the destination's messageId so reports find their message.
    `idempotency_key` is the sender's: a message whose key is stored already is not stored again, and its
    submit answers the stored message's id. A host that must recognise a retried request keys it so, and
    leaves `id` to the engine, whose ids grow with time (random ids scatter every index they are in).
    `retry_key` does the same for retries that come soon (within `store.RETRY_WINDOW` seconds of the first
    request), at less cost: it is remembered for that window only, and no index keeps it (a caller that
    retries on a short timeout, as Journey Builder does). A message has one of the two keys, or neither.
    """

    channel: Annotated[str, Meta(min_length=1, max_length=50)]
    destination: str | None = None
    sender: str | None = None
    content: dict[str, Any] = field(default_factory=dict)
    options: MessageOptions = field(default_factory=MessageOptions)
    host: HostRef = field(default_factory=HostRef)
    account: str | None = None
    id: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    idempotency_key: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    retry_key: Annotated[str, Meta(min_length=1, max_length=200)] | None = None


class Problem(Struct, omit_defaults=True):
    """One thing wrong with a request: a stable code, the JSON path of the field, and a sentence for people.

    `status` is the exact messageStatus text the SFMC activity answers with (from the seeds' table), where
    one exists for this problem. A "warning" does not refuse the message; it says what may go wrong (media
    some operators will not carry, say).
    """

    code: str
    path: str
    message: str
    status: str | None = None
    severity: Literal["error", "warning"] = "error"


class Money(Struct, omit_defaults=True, rename="camel"):
    price_per_message: float | None = None
    currency: str | None = None


class Report(Struct, omit_defaults=True, rename="camel"):
    """One normalized event: a delivery, seen or click report or an inbound message from Infobip, or the
    engine's own FAILED when a message never got to Infobip, or SENT when Infobip accepted it (only for
    hosts registered with `sent_reports`).

    It keeps Infobip's own status and error vocabulary (group and name) so hosts can show them unchanged,
    and the raw payload entry it came from.
    """

    kind: ReportKind
    channel: str
    message_id: str | None = None  # ours for outbound events; Infobip's for inbound messages
    paired_message_id: str | None = None  # inbound: our latest message to this sender (set by the store)
    bulk_id: str | None = None
    to: str | None = None
    sender: str | None = None
    status_group_id: int | None = None
    status_group: str | None = None
    status_id: int | None = None
    status_name: str | None = None
    status_description: str | None = None
    error_group_id: int | None = None
    error_group: str | None = None
    error_id: int | None = None
    error_name: str | None = None
    error_description: str | None = None
    error_permanent: bool | None = None
    sent_at: str | None = None
    done_at: str | None = None
    seen_at: str | None = None
    received_at: str | None = None  # inbound messages and clicks
    price: Money | None = None
    message_count: int | None = None
    mcc_mnc: str | None = None
    callback_data: str | None = None
    url: str | None = None  # clicks
    text: str | None = None  # inbound messages
    keyword: str | None = None
    device: dict[str, Any] | None = None  # clicks: recipientInfo
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def is_final(self) -> bool:
        return is_final_status(self.status_group, self.status_name)

    def dedupe_key(self) -> str:
        """Same event twice (a replayed webhook) gives the same key."""
        moment = self.done_at or self.seen_at or self.received_at or self.sent_at or ""
        return "|".join(
            (self.kind, self.channel, self.message_id or "", str(self.status_id), moment, self.url or "")
        )


FINAL_GROUPS = frozenset({"DELIVERED", "UNDELIVERABLE", "EXPIRED", "REJECTED"})
# Infobip: DELIVERED_TO_OPERATOR is intermediate ("a further DLR may follow").
NOT_FINAL_NAMES = frozenset({"DELIVERED_TO_OPERATOR"})


def is_final_status(group: str | None, name: str | None) -> bool:
    return (group or "").upper() in FINAL_GROUPS and (name or "").upper() not in NOT_FINAL_NAMES


class ProviderRequest(Struct):
    """One HTTP call to Infobip that a channel built: where it goes, its JSON body, and which of our
    message ids it carries (in the order the provider will answer them)."""

    path: str
    body: dict[str, Any]
    message_ids: list[str]


class WebhookUrls(Struct, frozen=True):
    """The engine's own URLs that Infobip calls back for one channel (authentication included)."""

    reports: str  # delivery and seen reports
    clicks: str  # URL click notifications
    inbound: str  # inbound messages (configured on the number at Infobip, not per message)


class SendOutcome(Struct, omit_defaults=True):
    """What the provider answered for one message of a request."""

    message_id: str
    accepted: bool
    status_group: str | None = None
    status_name: str | None = None
    status_id: int | None = None
    description: str | None = None
    message_count: int | None = None


# Lifecycle of a message inside the engine; Infobip's status travels beside it.
MessageState = Literal[
    "QUEUED", "SENDING", "SENT", "FAILED", "DELIVERED", "UNDELIVERABLE", "EXPIRED", "REJECTED"
]


class QueuedMessage(Struct):
    """A message as the dispatcher claims it from the store."""

    message: OutboundMessage
    attempts: int = 0


class TimelineEntry(Struct, omit_defaults=True, rename="camel"):
    at: float
    event: str
    status_group: str | None = None
    status_name: str | None = None
    detail: dict[str, Any] | None = None


class MessageView(Struct, omit_defaults=True, rename="camel"):
    """`GET /v1/messages/{id}`: where a message is now and everything that happened to it."""

    id: str
    channel: str
    destination: str | None
    state: MessageState
    created_at: float
    attempts: int = 0
    status_group: str | None = None
    status_name: str | None = None
    error_name: str | None = None
    failure_reason: str | None = None
    message_count: int | None = None
    host: HostRef | None = None
    timeline: list[TimelineEntry] = field(default_factory=list)


class DataEntry(Struct, frozen=True):
    """A plugin's value (see `PluginData`) to store together with accepted messages: `ttl` seconds from
    the write, or for good with None."""

    namespace: str
    key: str
    value: bytes
    ttl: float | None = None


class OutboxItem(Struct):
    """An event waiting to be handed to the host that owns its message."""

    id: int
    host: str
    report: Report
    message: OutboundMessage | None
    attempts: int = 0


report_encoder = msgspec.json.Encoder()
report_decoder = msgspec.json.Decoder(Report)
message_decoder = msgspec.json.Decoder(OutboundMessage)
