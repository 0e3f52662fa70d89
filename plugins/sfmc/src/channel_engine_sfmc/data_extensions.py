"""The report data extensions, column for column as the seeds' appendix lists them (the current edition,
`001_...`): name, type, nullable, default and length.

The seeds' "Integer" is SFMC's `Number` field type; their "Date" is `Date`. Delivery report extensions are
keyed on messageId, so a seen report updates the row its delivery report made; click and inbound rows are
one per event. Inbound Messages has no appendix table in the seeds: its columns are ours, chosen so a Wait
Until Event on it can match the contact and read the reply.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # SFMC FieldType: Text, Number, Decimal, Boolean, Date
    length: int | None = None
    nullable: bool = False
    default: str | None = None
    primary_key: bool = False
    description: str = ""


@dataclass(frozen=True)
class DataExtension:
    name: str
    key: str  # the external (customer) key the REST API addresses it by
    description: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.primary_key)


MESSAGE_ID = "The ID that uniquely identifies the message sent."
ERROR_TEXT = "Human-readable description of the error."
DEVICE = "Device manufacturer (Samsung, PC, Apple)"


def _delivery_columns(*extra: Column) -> tuple[Column, ...]:
    return (
        Column("messageId", "Text", 50, primary_key=True, description=MESSAGE_ID),
        Column(
            "messageCount", "Number", nullable=True, default="1", description="Messages sent to the end user"
        ),
        Column("to", "Text", 50, description="Message destination address, in international format."),
        Column("pricePerMessage", "Decimal", nullable=True, description="The price per individual message."),
        Column("priceCurrency", "Text", 5, nullable=True, description="The currency of the price."),
        Column("statusGroupId", "Number", description="Status group ID."),
        Column("statusGroupName", "Text", 50, description="Group name for the status."),
        Column("statusId", "Number", description="Status ID."),
        Column("statusName", "Text", 50, description="Status name."),
        Column("statusDescription", "Text", 100, description="Human-readable description of the status."),
        Column("errorGroupId", "Number", nullable=True, description="Error group ID."),
        Column("errorGroupName", "Text", 50, nullable=True, description="Error group name."),
        Column("errorId", "Number", nullable=True, description="Error ID."),
        Column("errorName", "Text", 50, nullable=True, description="Error name."),
        Column("errorDescription", "Text", 1000, nullable=True, description=ERROR_TEXT),
        Column("errorPermanent", "Boolean", nullable=True, description="Whether the error is permanent."),
        Column("callbackData", "Text", 4000, nullable=True, description="The message's callback data."),
        Column("sentAt", "Date", description="Date and time the message was sent."),
        Column("doneAt", "Date", description="Date and time Infobip finished processing the message."),
        *extra,
    )


def _click_columns(
    *extra: Column, message_id_nullable: bool = True, date: str = "Text"
) -> tuple[Column, ...]:
    return (
        Column("notificationType", "Text", 50, nullable=True, description="CLICKED"),
        Column("messageId", "Text", 50, nullable=message_id_nullable, description=MESSAGE_ID),
        Column("recipient", "Text", 50, nullable=True, description="Contact who clicked on the URL"),
        Column("url", "Text", 1000, nullable=True, description="URL that was clicked in message"),
        Column("sendDateTime", date, 50 if date == "Text" else None, nullable=True, description="Click time"),
        Column("deviceType", "Text", 50, nullable=True, description="Phone or desktop"),
        Column("os", "Text", 50, nullable=True, description="OS running on the device"),
        Column("deviceName", "Text", 50, nullable=True, description=DEVICE),
        Column("callbackData", "Text", 4000, nullable=True, description="The message's callback data."),
        *extra,
    )


SMS_DELIVERY_REPORTS = DataExtension(
    "SMS Delivery Reports",
    "SMS_Delivery_Reports",
    "Delivery notifications on SMS and LMS",
    _delivery_columns(
        Column("originalMCC", "Text", 50, nullable=True, description="Mobile country code of the number"),
        Column("originalMNC", "Text", 50, nullable=True, description="Mobile network code of the number"),
        Column("channel", "Text", 50, nullable=True, description="Channel used for sending the message"),
    ),
)
OMNI_REPORTS = DataExtension(
    "Omni Reports",
    "Omni_Reports",
    "Delivery and seen notifications on MMS, Viber, WhatsApp, RCS, Kakao Alim and Kakao ChinguTalk",
    _delivery_columns(
        Column("seenAt", "Date", nullable=True, description="Tells when the message was seen."),
        Column("from", "Text", 50, nullable=True),
        Column("channel", "Text", 50, nullable=True, description="Channel used for sending the message"),
    ),
)
UNIFIED_URL_TRACKING = DataExtension(
    "Unified URL Tracking",
    "Unified_URL_Tracking",
    "Click notifications on every channel",
    _click_columns(
        Column("channel", "Text", 50, description="Channel used for the message (Viber, SMS, WhatsApp...)"),
        message_id_nullable=False,
        date="Date",
    ),
)
VIBER_URL_TRACKING = DataExtension(
    "Viber URL Tracking",
    "Viber_URL_Tracking",
    "Click notifications on Viber (legacy; use Unified URL Tracking)",
    _click_columns(),
)
INBOUND_MESSAGES = DataExtension(
    "Inbound Messages",
    "Inbound_Messages",
    "Replies from end users on SMS, MMS and WhatsApp",
    (
        Column("messageId", "Text", 100, primary_key=True, description="Infobip's ID of the inbound message"),
        Column("contactKey", "Text", 254, nullable=True, description="The contact the reply is paired with"),
        Column("from", "Text", 50, description="The end user's number"),
        Column("to", "Text", 50, nullable=True, description="Our number or sender the reply was sent to"),
        Column("channel", "Text", 50, description="SMS, MMS or WhatsApp"),
        Column("text", "Text", 4000, nullable=True, description="The reply"),
        Column("keyword", "Text", 100, nullable=True, description="The keyword Infobip matched, if any"),
        Column("receivedAt", "Date", description="When Infobip received the reply"),
        Column("pairedMessageId", "Text", 50, nullable=True, description="Our last message to this number"),
        Column("activityId", "Text", 100, nullable=True, description="The messaging activity that sent it"),
        Column("callbackData", "Text", 4000, nullable=True, description="The paired message's callback data"),
    ),
)

ALL = (SMS_DELIVERY_REPORTS, OMNI_REPORTS, UNIFIED_URL_TRACKING, VIBER_URL_TRACKING, INBOUND_MESSAGES)
BY_KEY = {de.key: de for de in ALL}
