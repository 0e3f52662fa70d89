"""Webhook parsing: current and older delivery reports, click notifications, inbound MMS, and bad bodies.

The spec's own examples are read from the spec file; the fixtures here are ours, and each is checked
against the webhook's schema so it stays a realistic body.
"""

from __future__ import annotations

import pytest

from channel_engine.testing.conformance import check_webhook, webhook_examples
from channel_engine_mms import plugin

normalize_report = plugin.normalize_report

REPORTS = "receive-outbound-mms-message-delivery-reports"
OLDER_REPORTS = "receive-outbound-mms-message-reports"
CLICKS = "receive-mms-tracking-notification"
INBOUND = "receive-inbound-mms-messages"

OK = {
    "groupId": 0,
    "groupName": "OK",
    "id": 0,
    "name": "NO_ERROR",
    "description": "No Error",
    "permanent": False,
}

# Current format: sender, messageCount, platform{}; a delivered and an undeliverable message.
DELIVERY = {
    "results": [
        {
            "bulkId": "spring-menu",
            "price": {"pricePerMessage": 0.02, "currency": "USD"},
            "status": {
                "groupId": 3,
                "groupName": "DELIVERED",
                "id": 5,
                "name": "DELIVERED_TO_HANDSET",
                "description": "Message delivered to handset",
            },
            "error": OK,
            "messageId": "mms-0001",
            "to": "14155550123",
            "sender": "14155550100",
            "sentAt": "2025-04-02T17:05:00.120+0000",
            "doneAt": "2025-04-02T17:05:03.480+0000",
            "messageCount": 1,
            "mccMnc": "310260",
            "callbackData": "contact=0031",
            "platform": {"entityId": "bistro", "applicationId": "campaigns"},
            "campaignReferenceId": "spring-2025",
        },
        {
            "bulkId": "spring-menu",
            "price": {"pricePerMessage": 0, "currency": "USD"},
            "status": {
                "groupId": 2,
                "groupName": "UNDELIVERABLE",
                "id": 9,
                "name": "UNDELIVERABLE_NOT_DELIVERED",
                "description": "Message sent not delivered",
            },
            "error": {
                "groupId": 1,
                "groupName": "HANDSET_ERRORS",
                "id": 1,
                "name": "EC_UNKNOWN_SUBSCRIBER",
                "description": "Unknown subscriber",
                "permanent": True,
            },
            "messageId": "mms-0002",
            "to": "14155550991",
            "sender": "14155550100",
            "sentAt": "2025-04-02T17:05:00.120+0000",
            "doneAt": "2025-04-02T17:05:09.004+0000",
            "messageCount": 1,
        },
    ]
}

# The older format: smsCount and entityId/applicationId at the top.
OLDER = {
    "results": [
        {
            "bulkId": "spring-menu",
            "messageId": "mms-0003",
            "to": "14155550124",
            "sentAt": "2025-04-02T17:05:00.120+0000",
            "doneAt": "2025-04-02T17:05:01.500+0000",
            "smsCount": 1,
            "mccMnc": "310410",
            "callbackData": "contact=0032",
            "price": {"pricePerMessage": 0.02, "currency": "USD"},
            "status": {
                "groupId": 3,
                "groupName": "DELIVERED",
                "id": 2,
                "name": "DELIVERED_TO_OPERATOR",
                "description": "Message delivered to operator",
            },
            "error": {**OK, "groupName": "Ok"},
            "entityId": "bistro",
            "applicationId": "campaigns",
        }
    ]
}

CLICK = {
    "notificationType": "CLICKED",
    "recipient": "14155550123",
    "url": "https://bistro-lipa.example/book?menu=spring",
    "sendDateTime": 1743613513589,
    "messageId": "mms-0001",
    "bulkId": "spring-menu",
    "callbackData": "contact=0031",
    "recipientInfo": {"deviceType": "Phone", "os": "iOS 18", "deviceName": "Apple"},
    "geoLocationInfo": {"countryName": "United States", "city": "San Francisco"},
}

# An end user answers with a photo between two lines of text, in a group MMS.
MO = {
    "results": [
        {
            "from": "14155550123",
            "to": "14155550100",
            "receivedAt": "2025-04-02T17:12:40.220+0000",
            "messageId": "817790313235066500",
            "pairedMessageId": "mms-0001",
            "userAgent": "Pixel_9",
            "message": [
                {"contentType": "text/plain", "value": "Table for 4 at 8pm?"},
                {"contentType": "image/jpeg", "url": "https://mms.infobip.example/in/1.jpg"},
                {"contentType": "text/plain; charset=utf-8", "value": "We bring the cake 🎂"},
                {"contentType": "video/mp4", "url": "https://mms.infobip.example/in/2.mp4"},
            ],
            "group": [{"to": "14155550100"}, {"cc": "14155550777"}],
            "price": {"pricePerMessage": 0, "currency": "USD"},
        }
    ],
    "messageCount": 1,
    "pendingMessageCount": 0,
}


@pytest.mark.parametrize(
    ("webhook", "body"), [(REPORTS, DELIVERY), (OLDER_REPORTS, OLDER), (CLICKS, CLICK), (INBOUND, MO)]
)
def test_our_fixtures_are_valid_webhook_bodies(webhook, body):
    assert check_webhook("mms", webhook, body) == []


# --- the spec's own examples ---------------------------------------------------------------------------


@pytest.mark.parametrize("webhook", [REPORTS, OLDER_REPORTS])
def test_every_delivery_report_example_in_the_spec_parses(webhook):
    examples = webhook_examples("mms", webhook)
    assert examples
    for body in examples.values():
        reports = normalize_report("mms", "reports", body)
        assert [r.message_id for r in reports] == [e["messageId"] for e in body["results"]]
        for report, entry in zip(reports, body["results"], strict=True):
            assert (report.kind, report.channel) == ("DELIVERY", "mms")
            assert (report.status_group, report.status_name) == (
                entry["status"]["groupName"],
                entry["status"]["name"],
            )
            assert report.error_group == (entry["error"]["groupName"] if "error" in entry else None)
            assert (report.bulk_id, report.to) == (entry["bulkId"], entry.get("to"))
            assert report.message_count == entry.get("smsCount", entry.get("messageCount"))
            assert report.price.currency == entry["price"]["currency"]
            assert report.is_final
            assert report.raw == entry


def test_the_current_example_has_no_to_and_no_error_and_still_parses():
    (body,) = webhook_examples("mms", REPORTS).values()
    (report,) = normalize_report("mms", "reports", body)
    assert (report.to, report.error_name, report.sender, report.message_count) == (
        None,
        None,
        "441134960000",
        3,
    )


def test_every_click_example_in_the_spec_parses():
    examples = webhook_examples("mms", CLICKS)
    assert examples
    for body in examples.values():
        (report,) = normalize_report("mms", "clicks", body)
        assert (report.kind, report.message_id, report.url) == ("CLICK", body["messageId"], body["url"])
        assert (report.to, report.bulk_id) == (body["recipient"], body["bulkId"])
        assert report.received_at == "2024-01-01T11:00:00.000+0000"
        assert report.device == body["recipientInfo"]


def test_every_inbound_example_in_the_spec_parses():
    examples = webhook_examples("mms", INBOUND)
    assert len(examples) == 2
    for body in examples.values():
        (report,) = normalize_report("mms", "inbound", body)
        (entry,) = body["results"]
        assert report.kind == "INBOUND"
        assert (report.message_id, report.sender, report.to) == (
            entry["messageId"],
            entry["from"],
            entry["to"],
        )
        assert (report.text, report.url) == ("This is message text", "https://examplelink.com/123456")
        assert (report.received_at, report.callback_data) == (entry["receivedAt"], entry["callbackData"])
        assert report.raw == entry


# --- our fixtures, field by field ----------------------------------------------------------------------


def test_current_delivery_reports():
    delivered, failed = normalize_report("mms", "reports", DELIVERY)
    assert (delivered.message_id, delivered.to, delivered.sender, delivered.bulk_id) == (
        "mms-0001",
        "14155550123",
        "14155550100",
        "spring-menu",
    )
    assert (delivered.status_group_id, delivered.status_id, delivered.status_name) == (
        3,
        5,
        "DELIVERED_TO_HANDSET",
    )
    assert (delivered.error_group, delivered.error_name, delivered.error_permanent) == (
        "OK",
        "NO_ERROR",
        False,
    )
    assert (delivered.callback_data, delivered.mcc_mnc, delivered.message_count) == (
        "contact=0031",
        "310260",
        1,
    )
    assert (delivered.sent_at, delivered.done_at) == (
        "2025-04-02T17:05:00.120+0000",
        "2025-04-02T17:05:03.480+0000",
    )
    assert delivered.price.price_per_message == 0.02
    assert delivered.is_final
    assert (failed.status_group, failed.error_name, failed.error_permanent) == (
        "UNDELIVERABLE",
        "EC_UNKNOWN_SUBSCRIBER",
        True,
    )
    assert failed.is_final


def test_the_older_format_with_a_mixed_case_ok_group():
    (report,) = normalize_report("mms", "reports", OLDER)
    assert (report.kind, report.message_id, report.message_count) == ("DELIVERY", "mms-0003", 1)
    assert report.error_group == "OK"  # "Ok" on the wire
    assert report.status_name == "DELIVERED_TO_OPERATOR"
    assert not report.is_final  # a further report may follow


def test_a_click_time_in_epoch_milliseconds_becomes_an_infobip_timestamp():
    (report,) = normalize_report("mms", "clicks", CLICK)
    assert report.received_at == "2025-04-02T17:05:13.589+0000"
    assert (report.message_id, report.to, report.callback_data) == ("mms-0001", "14155550123", "contact=0031")
    (again,) = normalize_report("mms", "clicks", {**CLICK, "sendDateTime": "1743613513589"})
    assert again.received_at == report.received_at


def test_an_inbound_mms_joins_its_texts_and_keeps_its_media():
    (report,) = normalize_report("mms", "inbound", MO)
    assert (report.kind, report.sender, report.to) == ("INBOUND", "14155550123", "14155550100")
    assert report.text == "Table for 4 at 8pm?\nWe bring the cake 🎂"
    assert report.url == "https://mms.infobip.example/in/1.jpg"  # the first media part
    assert [part.get("url") for part in report.raw["message"] if "url" in part] == [
        "https://mms.infobip.example/in/1.jpg",
        "https://mms.infobip.example/in/2.mp4",
    ]
    assert report.raw["group"][1] == {"cc": "14155550777"}
    assert report.message_id == "817790313235066500"


def test_an_inbound_mms_of_media_only_has_no_text():
    body = {
        "results": [{**MO["results"][0], "message": [{"contentType": "image/png", "url": "https://x/1.png"}]}]
    }
    (report,) = normalize_report("mms", "inbound", body)
    assert (report.text, report.url) == (None, "https://x/1.png")


def test_an_empty_bucket_is_no_reports():
    assert normalize_report("mms", "reports", {"results": []}) == []
    assert (
        normalize_report("mms", "inbound", {"results": [], "messageCount": 0, "pendingMessageCount": 0}) == []
    )


# --- bodies that are not MMS webhooks ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "body", "says"),
    [
        ("reports", [], "JSON object"),
        ("reports", {"messages": []}, "`results` list"),
        ("reports", CLICK, "click notification"),
        ("reports", MO, "inbound message"),
        (
            "reports",
            {"results": [{"messageId": "x", "seenAt": "2025-04-02T17:05:00.000+0000"}]},
            "no seen reports",
        ),
        ("reports", {"results": ["mms-0001"]}, "must be an object"),
        ("reports", {"results": [{"status": {"groupName": "DELIVERED"}}]}, "no messageId"),
        ("inbound", DELIVERY, "delivery report"),
        ("inbound", {"results": [{"messageId": "x", "message": []}]}, "no `from`"),
        (
            "inbound",
            {"results": [{"messageId": "x", "from": "1", "message": {"text": "hi"}}]},
            "list of parts",
        ),
        (
            "inbound",
            {"results": [{"messageId": "x", "from": "1", "message": ["hi"]}]},
            r"message\[0\] must be",
        ),
        ("clicks", DELIVERY, "flat object"),
        ("clicks", {"url": "https://x.example"}, "messageId"),
        ("clicks", {"messageId": "mms-0001"}, "not a click notification"),
        ("seen", DELIVERY, "no 'seen' webhook"),
    ],
)
def test_bodies_that_are_not_mms_webhooks_are_refused_with_a_reason(kind, body, says):
    with pytest.raises(ValueError, match=says):
        normalize_report("mms", kind, body)


def test_other_channels_are_not_ours():
    assert normalize_report("sms", "reports", DELIVERY) is None
