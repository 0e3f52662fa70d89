"""What each report becomes in Bloomreach: one `customers/events` command per report, following
Bloomreach's Infobip SMS table (status enqueued / enqueue_failed / delivered / rejected / failed, clicked,
incoming_message), on the project's event name, timestamped in seconds at the moment Infobip reported; and
the countries whose operators send no delivery reports. No engine and no channel: built by hand."""

from __future__ import annotations

import time
from typing import Any

import msgspec
import pytest

from channel_engine import HostRef, OutboundMessage, Report
from channel_engine_bloomreach.config import Project
from channel_engine_bloomreach.countries import NO_DELIVERY_REPORTS, without_delivery_reports
from channel_engine_bloomreach.events import event_command, event_time

TEN_AM = "2025-01-01T10:00:00.000+0000"
TEN_AM_SECONDS = 1735725600.0
ELEVEN_AM = "2025-01-01T11:00:00.000+0000"
CUSTOMER = {"registered": "customer-6000", "phone": "+41793026000"}
CAMPAIGN = {
    "language": "en",
    "campaign_id": "65f1c0ffee",
    "campaign_name": "Spring sale",
    "action_id": 7,
    "action_name": "SMS reminder",
}


def project(**changes: Any) -> Project:
    document = {
        "projectToken": "project-1",
        "apiKeyId": "key-id",
        "apiSecret": "key-secret",
        "webhookToken": "webhook-token-0123456789",
        **changes,
    }
    return msgspec.convert(document, Project)


def sms(to: str = "41793026000", channel: str = "sms", host: str = "bloomreach") -> OutboundMessage:
    """A message as send_api.build_message makes it: the host context names the project, the customer and
    the campaign's properties."""
    return OutboundMessage(
        channel=channel,
        destination=to,
        sender="InfoSMS",
        content={"text": "Spring sale: 20% off everything until Sunday."},
        host=HostRef(
            name=host,
            context={"project": "project-1", "customerIds": CUSTOMER, "properties": CAMPAIGN},
        ),
        id="msg-1",
    )


def delivery(group: str, name: str | None, **fields: Any) -> Report:
    return Report(
        kind="DELIVERY",
        channel="sms",
        message_id="msg-1",
        to="41793026000",
        status_group=group,
        status_name=name,
        sent_at=TEN_AM,
        done_at=ELEVEN_AM,
        message_count=1,
        **fields,
    )


def command(report: Report, message: OutboundMessage | None = None, **settings: Any) -> dict[str, Any]:
    found = event_command(project(**settings), report, message or sms())
    assert found is not None
    return found


def common(status: str, **more: Any) -> dict[str, Any]:
    """The properties every event of `sms()` has."""
    return {
        **CAMPAIGN,
        "action_type": "sms",
        "status": status,
        "recipient": "41793026000",
        "message_id": "msg-1",
        "sender_id": "InfoSMS",
        **more,
    }


# -- SENT and FAILED: the message was or was not handed to Infobip ----------------------------------------


def test_sent_is_enqueued_with_the_parts_and_a_delivery_report_expected() -> None:
    report = Report(
        kind="SENT", channel="sms", message_id="msg-1", to="41793026000", sent_at=TEN_AM, message_count=2
    )
    assert command(report) == {
        "name": "customers/events",
        "command_id": "msg-1:enqueued:",
        "data": {
            "customer_ids": CUSTOMER,
            "event_type": "campaign",
            "timestamp": TEN_AM_SECONDS,
            "properties": common("enqueued", number_of_message_parts=2, delivery_report_expected=True),
        },
    }


@pytest.mark.parametrize(
    ("to", "country"),
    [("4915112345678", "Germany"), ("+4915112345678", "Germany"), ("5511987654321", "Brazil")],
)
def test_sent_to_a_country_without_delivery_reports_expects_none_and_says_why(to: str, country: str) -> None:
    report = Report(kind="SENT", channel="sms", message_id="msg-1", to=to, sent_at=TEN_AM, message_count=1)
    properties = command(report, sms(to))["data"]["properties"]
    assert properties["delivery_report_expected"] is False
    assert properties["comment"] == f"{country} sends no SMS delivery reports: none is expected"
    assert properties["recipient"] == to and properties["status"] == "enqueued"


@pytest.mark.parametrize(
    ("description", "error"),
    [
        ("E401 Infobip refused the API key", "E401"),
        ("EC_UNKNOWN_SUBSCRIBER: the number is not in use", "EC_UNKNOWN_SUBSCRIBER"),
        ("no installed plugin builds payloads for channel 'sms'", "NOT_SENT"),
        ("A message nobody could send", "NOT_SENT"),  # one capital letter is a word, not a name
    ],
)
def test_failed_is_enqueue_failed_with_the_leading_error_name_and_the_reason(
    description: str, error: str
) -> None:
    report = Report(
        kind="FAILED",
        channel="sms",
        message_id="msg-1",
        to="41793026000",
        error_description=description,
        done_at=TEN_AM,
    )
    found = command(report)
    assert found["command_id"] == "msg-1:enqueue_failed:"
    assert found["data"]["timestamp"] == TEN_AM_SECONDS
    assert found["data"]["properties"] == common("enqueue_failed", error=error, comment=description)


def test_failed_without_a_reason_still_says_it_was_not_sent() -> None:
    report = Report(kind="FAILED", channel="sms", message_id="msg-1", done_at=TEN_AM)
    properties = command(report)["data"]["properties"]
    assert properties["error"] == "NOT_SENT"
    assert properties["comment"] == "the message could not be handed to Infobip"


# -- DELIVERY: final groups become delivered / rejected / failed; the rest tracks nothing -------------------


def test_delivered_has_status_code_zero_and_no_error() -> None:
    report = delivery(
        "DELIVERED", "DELIVERED_TO_HANDSET", error_id=0, error_name="NO_ERROR", error_description="No Error"
    )
    found = command(report)
    assert found["command_id"] == "msg-1:delivered:"
    assert found["data"]["timestamp"] == TEN_AM_SECONDS + 3600  # when it was done, not when it was sent
    assert found["data"]["properties"] == common(
        "delivered",
        number_of_message_parts=1,
        status_code=0,
        error="NO_ERROR",
        infobip_status="DELIVERED_TO_HANDSET",
    )  # no comment: error 0 is no error


@pytest.mark.parametrize(
    ("group", "name", "error_id", "error_name", "status"),
    [
        ("REJECTED", "REJECTED_DESTINATION", 51, "EC_DESTINATION_BLOCKED", "rejected"),
        ("UNDELIVERABLE", "UNDELIVERABLE_NOT_DELIVERED", 1, "EC_UNKNOWN_SUBSCRIBER", "failed"),
        ("EXPIRED", "EXPIRED_EXPIRED", 27, "EC_ABSENT_SUBSCRIBER", "failed"),
        (
            "rejected",
            "REJECTED_NETWORK",
            9,
            "EC_ILLEGAL_SUBSCRIBER",
            "rejected",
        ),  # group case does not matter
    ],
)
def test_undelivered_groups_carry_infobips_error(
    group: str, name: str, error_id: int, error_name: str, status: str
) -> None:
    why = "The number does not exist or it has not been assigned to any active subscriber."
    report = delivery(group, name, error_id=error_id, error_name=error_name, error_description=why)
    found = command(report)
    assert found["command_id"] == f"msg-1:{status}:"
    assert found["data"]["properties"] == common(
        status,
        number_of_message_parts=1,
        status_code=error_id,
        error=error_name,
        comment=why,
        infobip_status=name,
    )


def test_a_final_report_without_error_details_has_no_comment_and_no_empty_fields() -> None:
    properties = command(delivery("UNDELIVERABLE", "UNDELIVERABLE_NOT_DELIVERED", error_id=1))["data"][
        "properties"
    ]
    assert (properties["status"], properties["status_code"], properties["error"]) == ("failed", 1, "NO_ERROR")
    assert "comment" not in properties
    properties = command(delivery("DELIVERED", None))["data"]["properties"]
    assert "infobip_status" not in properties and None not in properties.values()


@pytest.mark.parametrize(
    "report",
    [
        delivery("PENDING", "PENDING_ENROUTE"),
        delivery("DELIVERED", "DELIVERED_TO_OPERATOR"),  # intermediate: a further report follows
        Report(kind="SEEN", channel="sms", message_id="msg-1", seen_at=TEN_AM),
    ],
    ids=["pending", "delivered-to-operator", "seen"],
)
def test_intermediate_and_seen_reports_track_nothing(report: Report) -> None:
    assert event_command(project(), report, sms()) is None


# -- CLICK and INBOUND ------------------------------------------------------------------------------------


def test_a_click_is_clicked_with_the_url_at_the_moment_of_the_click() -> None:
    report = Report(
        kind="CLICK",
        channel="sms",
        message_id="msg-1",
        url="https://shop.example.com/spring",
        received_at=TEN_AM,
        sent_at=ELEVEN_AM,
    )
    found = command(report)
    # Two clicks of one message are two commands (a refused one is kept apart from the other).
    assert found["command_id"] == "msg-1:clicked:2025-01-01T10:00:00.000+0000|https://shop.example.com/spring"
    assert found["data"]["timestamp"] == TEN_AM_SECONDS
    assert found["data"]["properties"] == common("clicked", url="https://shop.example.com/spring")


def test_a_reply_is_an_incoming_message_with_its_own_id() -> None:
    reply = Report(
        kind="INBOUND",
        channel="sms",
        message_id="ib-reply-1",
        to="447860099299",  # our number, which the customer answered
        sender="41793026000",
        text="STOP please",
        keyword="STOP",
        received_at=TEN_AM,
        message_count=1,
    )
    found = command(reply)
    assert found["command_id"] == "msg-1:incoming_message:ib-reply-1"
    assert found["data"]["customer_ids"] == CUSTOMER
    assert found["data"]["timestamp"] == TEN_AM_SECONDS
    assert found["data"]["properties"] == {
        **common("incoming_message", recipient="447860099299", reply_id="ib-reply-1"),
        "message": "STOP please",
        "keyword": "STOP",
        "sender": "41793026000",
    }


def test_replies_are_not_tracked_when_the_project_turns_them_off() -> None:
    reply = Report(kind="INBOUND", channel="sms", message_id="ib-reply-1", text="7", received_at=TEN_AM)
    assert event_command(project(trackInbound=False), reply, sms()) is None
    assert event_command(project(), reply, sms()) is not None


# -- what every event has ---------------------------------------------------------------------------------


def test_the_event_has_the_projects_event_name_and_the_channels_action_type() -> None:
    report = Report(kind="SENT", channel="mms", message_id="msg-1", sent_at=TEN_AM)
    found = command(report, sms(channel="mms"), eventName="sms_campaign")
    assert found["data"]["event_type"] == "sms_campaign"
    assert found["data"]["properties"]["action_type"] == "mms"


def test_our_properties_win_over_a_scenario_property_of_the_same_name() -> None:
    message = sms()
    message.host.context["properties"] = {**CAMPAIGN, "status": "made-up", "action_type": "carrier pigeon"}
    properties = command(Report(kind="SENT", channel="sms", message_id="msg-1"), message)["data"][
        "properties"
    ]
    assert (properties["status"], properties["action_type"]) == ("enqueued", "sms")


def test_a_report_of_no_message_or_of_another_hosts_message_tracks_nothing() -> None:
    report = Report(kind="SENT", channel="sms", message_id="msg-1", sent_at=TEN_AM)
    assert event_command(project(), report, None) is None
    assert event_command(project(), report, sms(host="sfmc")) is None


def test_event_time_is_unix_seconds_in_utc_and_now_when_missing_or_odd() -> None:
    assert event_time(TEN_AM) == TEN_AM_SECONDS
    assert event_time("2025-01-01T12:00:00.250+0200") == TEN_AM_SECONDS + 0.25
    assert event_time("2025-01-01T10:00:00+0000") == TEN_AM_SECONDS
    before = time.time()
    for odd in (None, "", "yesterday", "1735725600000"):
        assert before <= event_time(odd) <= time.time()


def test_a_report_without_a_time_is_stamped_now_in_seconds() -> None:
    before = time.time()
    stamp = command(Report(kind="SENT", channel="sms", message_id="msg-1"))["data"]["timestamp"]
    assert before - 0.001 <= stamp <= time.time() + 0.001


# -- countries without delivery reports -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "country"),
    [
        ("+4915112345678", "Germany"),
        ("004915112345678", "Germany"),
        ("4915112345678", "Germany"),
        (" +49 151 12345678", "Germany"),
        ("5511987654321", "Brazil"),
        ("+5511987654321", "Brazil"),
        ("005511987654321", "Brazil"),
        ("+16715551234", "Guam"),  # a NANP number: the area code decides
        ("16705551234", "Northern Mariana Islands"),
        ("+12125551234", None),  # New York
        ("+6705551234", "Timor-Leste"),
        ("+590690123456", "Guadeloupe"),
        ("+85291234567", "Hong Kong"),
        ("41793026000", None),
        ("+447860099299", None),
        ("", None),
        (None, None),
    ],
)
def test_countries_without_delivery_reports_by_calling_code(number: str | None, country: str | None) -> None:
    assert without_delivery_reports(number) == country


def test_the_countries_are_exactly_bloomreachs_list() -> None:
    # Bloomreach's Infobip SMS guide, "Countries without delivery reports".
    listed = (
        "Bangladesh, Benin, Brazil, Burundi, Cambodia, Germany, Guadeloupe, Guam, Hong Kong, Indonesia, "
        "Kuwait, Malaysia, Marshall Islands, Mauritania, Mexico, Nauru, Northern Mariana Islands, Pakistan, "
        "Panama, Papua New Guinea, Peru, Samoa, Solomon Islands, South Sudan, Sri Lanka, Sudan, Tajikistan, "
        "Timor-Leste, Tonga, Tuvalu, Uzbekistan, Venezuela, Vietnam, Wallis and Futuna"
    )
    assert sorted(NO_DELIVERY_REPORTS.values()) == sorted(listed.split(", "))
    codes = list(NO_DELIVERY_REPORTS)
    assert not [(a, b) for a in codes for b in codes if a != b and b.startswith(a)]  # prefix-free
