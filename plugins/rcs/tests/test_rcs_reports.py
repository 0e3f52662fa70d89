"""Webhook parsing: delivery and seen reports, inbound messages and events, click notifications, bad bodies.

The spec's own examples are read from the spec file; the fixtures here are ours (the seen report has no
example in the spec), and each is checked against its webhook's schema so it stays a realistic body.
"""

from __future__ import annotations

import pytest

from channel_engine.testing.conformance import check_webhook, webhook_examples
from channel_engine_rcs import plugin

normalize_report = plugin.normalize_report

DELIVERY = "receive-outbound-rcs-message-delivery-reports"
SEEN = "receive-rcs-seen-reports"
INBOUND = "receive-inbound-rcs-messages"
EVENTS = "inbound-events-receive-inbound-rcs-events"
TYPING = "receive-rcs-typing-indicator-events"
STARTED = "receive-rcs-conversation-started-events"
SMS_CLICKS = "receive-sms-tracking-notification"  # rcs.json has no click webhook; the shortener's is shared

DLR = {
    "results": [
        {
            "bulkId": "autumn-1",
            "price": {"trafficType": "RICH_MEDIA", "pricePerMessage": 0.021, "currency": "EUR"},
            "status": {
                "groupId": 3,
                "groupName": "DELIVERED",
                "id": 5,
                "name": "DELIVERED_TO_HANDSET",
                "description": "Message delivered to handset",
            },
            "error": {"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR", "permanent": False},
            "conversation": {"canInitiate": True},
            "messageId": "rcs-0001",
            "doneAt": "2025-10-02T18:04:11.512+0200",
            "interactionType": "RICH_MEDIA_MESSAGE",
            "messageCount": 1,
            "sentAt": "2025-10-02T18:04:09.100+0200",
            "mccMnc": "21910",
            "callbackData": "contact=0031",
            "to": "385981112233",
            "sender": "BistroLipa",
        },
        {
            "bulkId": "autumn-1",
            "channel": "SMS",
            "price": {"pricePerMessage": 0.0125, "currency": "EUR"},
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
            "messageId": "rcs-0002",
            "doneAt": "2025-10-02T18:04:30.000+0200",
            "messageCount": 1,
            "sentAt": "2025-10-02T18:04:09.100+0200",
            "to": "385981112234",
            "sender": "InfoSMS",
        },
    ]
}

SEEN_REPORT = {
    "results": [
        {
            "messageId": "rcs-0001",
            "from": "BistroLipa",
            "to": "385981112233",
            "sentAt": "2025-10-02T18:04:09.100+0200",
            "seenAt": "2025-10-02T18:09:41.007+0200",
            "campaignReferenceId": "autumn",
        }
    ]
}

CLICK = {
    "notificationType": "CLICKED",
    "recipient": "385981112233",
    "url": "https://bistro-lipa.example/menu",
    "sendDateTime": 1759421051000,
    "messageId": "rcs-0001",
    "bulkId": "autumn-1",
    "callbackData": "contact=0031",
    "recipientInfo": {"deviceType": "Phone", "os": "Android 15", "deviceName": "Pixel"},
}


def mo(message: dict, **extra) -> dict:
    entry = {
        "sender": "385981112233",
        "to": "BistroLipa",
        "integrationType": "RCS",
        "receivedAt": "2025-10-02T18:12:00.000+0000",
        "interactionType": "BASIC_MESSAGE",
        "rcsCount": 1,
        "messageId": "mo-1",
        "pairedMessageId": "rcs-0001",
        "message": message,
        "price": {"trafficType": "BASIC", "pricePerMessage": 0, "currency": "EUR"},
        "conversation": {"canInitiate": False, "id": "conv-7"},
        "platform": {},
        **extra,
    }
    return {"results": [entry], "messageCount": 1, "pendingMessageCount": 0}


MO_TEXT = mo({"text": "Table for 4 at 8pm?", "type": "TEXT"})
MO_SUGGESTION = mo({"text": "Book a table", "postbackData": "book", "type": "SUGGESTION"})
MO_LOCATION = mo({"latitude": 45.8131, "longitude": 15.9775, "type": "LOCATION"})
MO_FILE = mo(
    {
        "url": "https://files.example/id.jpg",
        "name": "id.jpg",
        "contentType": "image/jpeg",
        "size": 48213,
        "type": "FILE",
    }
)


@pytest.mark.parametrize(
    ("product", "webhook", "body"),
    [
        ("rcs", DELIVERY, DLR),
        ("rcs", SEEN, SEEN_REPORT),
        ("sms", SMS_CLICKS, CLICK),
        ("rcs", INBOUND, MO_TEXT),
        ("rcs", INBOUND, MO_SUGGESTION),
        ("rcs", INBOUND, MO_LOCATION),
        ("rcs", INBOUND, MO_FILE),
    ],
)
def test_our_fixtures_are_valid_webhook_bodies(product, webhook, body):
    assert check_webhook(product, webhook, body) == []


# --- the spec's own examples ---------------------------------------------------------------------------


def test_every_delivery_report_example_in_the_spec_parses():
    examples = webhook_examples("rcs", DELIVERY)
    assert len(examples) == 6
    for body in examples.values():
        reports = normalize_report("rcs", "reports", body)
        assert len(reports) == len(body["results"])
        for report, entry in zip(reports, body["results"], strict=True):
            assert (report.kind, report.channel, report.message_id) == ("DELIVERY", "rcs", entry["messageId"])
            assert (report.status_group, report.status_name) == (
                entry["status"]["groupName"],
                entry["status"]["name"],
            )
            assert (report.error_group, report.error_name) == (
                entry["error"]["groupName"],
                entry["error"]["name"],
            )
            assert (report.bulk_id, report.to, report.sender) == (
                entry["bulkId"],
                entry["to"],
                entry["sender"],
            )
            assert (report.sent_at, report.done_at) == (entry["sentAt"], entry["doneAt"])
            assert (report.message_count, report.mcc_mnc) == (entry["messageCount"], entry["mccMnc"])
            assert report.callback_data == entry["callbackData"]
            assert report.price.price_per_message == entry["price"]["pricePerMessage"]
            assert report.raw == entry


def test_the_spec_examples_of_a_failover_say_which_channel_reported():
    examples = webhook_examples("rcs", DELIVERY)
    (rcs_failed,) = normalize_report("rcs", "reports", examples["RCS with failover RCS message failed"])
    assert (rcs_failed.status_name, rcs_failed.is_final, rcs_failed.raw["channel"]) == (
        "PENDING_ENROUTE",
        False,
        "RCS",
    )
    (sms_delivered,) = normalize_report("rcs", "reports", examples["RCS with failover SMS message delivered"])
    assert (sms_delivered.status_name, sms_delivered.is_final) == ("DELIVERED_TO_HANDSET", True)
    assert (sms_delivered.raw["channel"], sms_delivered.sender) == ("SMS", "InfoSMS")


def test_every_inbound_example_in_the_spec_parses():
    examples = webhook_examples("rcs", INBOUND)
    assert set(examples) == {
        "TEXT message response",
        "FILE message response",
        "SUGGESTION message response",
        "LOCATION message response",
    }
    texts = {}
    for name, body in examples.items():
        (report,) = normalize_report("rcs", "inbound", body)
        (entry,) = body["results"]
        assert report.kind == "INBOUND"
        assert (report.message_id, report.sender, report.to) == (
            entry["messageId"],
            entry["sender"],
            entry["to"],
        )
        assert (report.received_at, report.keyword, report.callback_data) == (
            entry["receivedAt"],
            entry["keyword"],
            entry["callbackData"],
        )
        assert report.message_count == entry["rcsCount"]
        assert report.raw == entry
        texts[name] = report.text
    assert texts == {
        "TEXT message response": "Hello, world!",
        "FILE message response": "File file.pdf: https://example.com/file.pdf",
        "SUGGESTION message response": "suggestionText",
        "LOCATION message response": "Location: 37.7749, -122.4194",
    }


def test_the_suggestion_event_example_is_an_inbound_message():
    examples = webhook_examples("rcs", EVENTS)
    assert examples
    for body in examples.values():
        (report,) = normalize_report("rcs", "inbound", body)
        (entry,) = body["results"]
        assert (report.kind, report.sender, report.text) == (
            "INBOUND",
            entry["sender"],
            entry["message"]["text"],
        )
        assert report.raw["message"]["postbackData"] == "suggestionPostbackData"
        assert report.raw["interactionType"] == "EVENT"


@pytest.mark.parametrize("webhook", [TYPING, STARTED])
def test_typing_and_conversation_started_events_are_accepted_and_report_nothing(webhook):
    examples = webhook_examples("rcs", webhook)
    assert examples
    for body in examples.values():
        assert normalize_report("rcs", "inbound", body) == []


# --- our fixtures, field by field ----------------------------------------------------------------------


def test_a_delivered_rich_media_message_and_an_undeliverable_sms_failover():
    delivered, failed = normalize_report("rcs", "reports", DLR)
    assert (delivered.kind, delivered.status_group, delivered.status_name) == (
        "DELIVERY",
        "DELIVERED",
        "DELIVERED_TO_HANDSET",
    )
    assert delivered.is_final
    assert (delivered.callback_data, delivered.mcc_mnc, delivered.to) == (
        "contact=0031",
        "21910",
        "385981112233",
    )
    assert delivered.raw["interactionType"] == "RICH_MEDIA_MESSAGE"
    assert (failed.status_group, failed.error_name, failed.error_permanent) == (
        "UNDELIVERABLE",
        "EC_UNKNOWN_SUBSCRIBER",
        True,
    )
    assert failed.is_final


def test_a_seen_report_has_no_status():
    (report,) = normalize_report("rcs", "reports", SEEN_REPORT)
    assert report.kind == "SEEN"
    assert (report.message_id, report.to, report.sender) == ("rcs-0001", "385981112233", "BistroLipa")
    assert (report.sent_at, report.seen_at) == (
        "2025-10-02T18:04:09.100+0200",
        "2025-10-02T18:09:41.007+0200",
    )
    assert report.status_name is None and report.status_group is None
    assert not report.is_final


def test_delivery_and_seen_reports_in_one_body():
    body = {"results": DLR["results"][:1] + SEEN_REPORT["results"]}
    assert [r.kind for r in normalize_report("rcs", "reports", body)] == ["DELIVERY", "SEEN"]


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (MO_TEXT, "Table for 4 at 8pm?"),
        (MO_SUGGESTION, "Book a table"),
        (mo({"postbackData": "book", "type": "SUGGESTION"}), "book"),
        (MO_LOCATION, "Location: 45.8131, 15.9775"),
        (MO_FILE, "File id.jpg: https://files.example/id.jpg"),
        (mo({"type": "FILE"}), "File file"),
    ],
)
def test_inbound_messages_become_one_line_of_text(body, text):
    (report,) = normalize_report("rcs", "inbound", body)
    assert (report.kind, report.sender, report.to, report.text) == (
        "INBOUND",
        "385981112233",
        "BistroLipa",
        text,
    )
    assert (report.message_id, report.raw["pairedMessageId"]) == ("mo-1", "rcs-0001")


def test_a_click_time_in_epoch_milliseconds_becomes_an_infobip_timestamp():
    (report,) = normalize_report("rcs", "clicks", CLICK)
    assert (report.kind, report.message_id, report.url) == (
        "CLICK",
        "rcs-0001",
        "https://bistro-lipa.example/menu",
    )
    assert report.received_at == "2025-10-02T16:04:11.000+0000"
    assert (report.to, report.callback_data, report.device) == (
        "385981112233",
        "contact=0031",
        CLICK["recipientInfo"],
    )
    (text_time,) = normalize_report("rcs", "clicks", {**CLICK, "sendDateTime": "1759421051000"})
    assert text_time.received_at == report.received_at
    assert text_time.raw["sendDateTime"] == "1759421051000"


def test_an_empty_bucket_is_no_reports():
    assert normalize_report("rcs", "reports", {"results": []}) == []
    assert (
        normalize_report("rcs", "inbound", {"results": [], "messageCount": 0, "pendingMessageCount": 0}) == []
    )


def test_other_channels_are_not_ours():
    assert normalize_report("sms", "reports", DLR) is None


# --- bodies that are not RCS webhooks ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "body", "says"),
    [
        ("reports", [], "JSON object"),
        ("reports", {"messages": []}, "`results` list"),
        ("reports", CLICK, "click notification"),
        ("reports", MO_TEXT, "inbound message"),
        ("reports", {"results": [{"messageId": "x", "to": "385981112233"}]}, "neither a status"),
        ("reports", {"results": ["rcs-0001"]}, "must be an object"),
        ("reports", {"results": [{"status": {"groupName": "DELIVERED"}}]}, "no messageId"),
        ("inbound", DLR, "delivery or seen report"),
        ("inbound", SEEN_REPORT, "delivery or seen report"),
        ("inbound", mo({"text": "hi", "type": "TEXT"}, sender=""), "no `sender`"),
        ("inbound", mo({"text": "hi", "type": "TEXT"}, messageId=None), "no messageId"),
        ("inbound", mo("hi"), "no `message` object"),
        ("clicks", DLR, "flat object"),
        ("clicks", {"url": "https://x.example"}, "messageId"),
        ("clicks", {"messageId": "rcs-0001"}, "not a click notification"),
        ("seen", SEEN_REPORT, "no 'seen' webhook"),
    ],
)
def test_bodies_of_the_wrong_shape_are_refused_with_a_reason(kind, body, says):
    with pytest.raises(ValueError) as caught:
        normalize_report("rcs", kind, body)
    assert says in str(caught.value)
