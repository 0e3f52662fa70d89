"""Webhook parsing: delivery and seen reports, click notifications, inbound Viber messages, and bad bodies.

The spec's own examples are read from the spec file; the fixtures here are ours, and each is checked
against its webhook's schema so it stays a realistic body.
"""

from __future__ import annotations

import pytest

from channel_engine import click_report
from channel_engine.testing.conformance import check_webhook, webhook_examples
from channel_engine_viber import plugin

normalize_report = plugin.normalize_report


DELIVERY = "receive-outbound-viber-message-delivery-reports"
SEEN = "receive-viber-seen-reports"
INBOUND = "receive-inbound-viber-messages"
# viber.json defines no click webhook; Infobip's URL shortening posts the shape sms.json documents.
SMS_CLICKS = "receive-sms-tracking-notification"

UNDELIVERABLE = {
    "results": [
        {
            "bulkId": "spring-menu-1",
            "price": {"pricePerMessage": 0.0, "currency": "EUR"},
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
            "messageId": "viber-0007",
            "to": "385981112233",
            "sender": "BistroLipa",
            "sentAt": "2025-03-14T09:20:00.120+0000",
            "doneAt": "2025-03-14T09:20:04.860+0000",
            "messageCount": 1,
            "mccMnc": "21910",
            "callbackData": "contact=0031",
            "platform": {"entityId": "bistro-entity", "applicationId": "bistro-app"},
            "campaignReferenceId": "spring-menu",
        }
    ]
}
SEEN_REPORT = {
    "results": [
        {
            "messageId": "viber-0008",
            "from": "BistroLipa",
            "to": "385981112233",
            "sentAt": "2025-03-14T09:20:00.120+0000",
            "seenAt": "2025-03-14T09:31:12.004+0000",
            "campaignReferenceId": "spring-menu",
        }
    ]
}
CLICK = {
    "notificationType": "CLICKED",
    "recipient": "385981112233",
    "url": "https://bistro.example/menu",
    "sendDateTime": 1741944413589,
    "messageId": "viber-0009",
    "bulkId": "spring-menu-1",
    "callbackData": "contact=0031",
    "recipientInfo": {"deviceType": "Phone", "os": "Android 14", "deviceName": "Pixel"},
    "geoLocationInfo": {"countryName": "Croatia", "city": "Split"},
}
INBOUND_TEXT = {
    "results": [
        {
            "sender": "385981112233",
            "to": "BistroLipa",
            "integrationType": "VIBER",
            "receivedAt": "2025-03-14T09:40:00.000+0000",
            "messageId": "mo-viber-1",
            "pairedMessageId": "viber-0008",
            "message": {"text": "Table for 4 at 8?", "trackingData": "booking-77", "type": "TEXT"},
            "price": {"pricePerMessage": 0.0, "currency": "EUR"},
        }
    ],
    "messageCount": 1,
    "pendingMessageCount": 0,
}
INBOUND_FILE = {
    "results": [
        {
            "sender": "385981112233",
            "to": "BistroLipa",
            "integrationType": "VIBER",
            "receivedAt": "2025-03-14T09:41:00.000+0000",
            "messageId": "mo-viber-2",
            "message": {
                "url": "https://media.example/guest-list.pdf",
                "fileName": "guest-list.pdf",
                "text": "Our guests",
                "type": "FILE",
            },
            "price": {"pricePerMessage": 0.0, "currency": "EUR"},
        }
    ],
    "messageCount": 1,
    "pendingMessageCount": 0,
}


@pytest.mark.parametrize(
    ("webhook", "body"),
    [(DELIVERY, UNDELIVERABLE), (SEEN, SEEN_REPORT), (INBOUND, INBOUND_TEXT), (INBOUND, INBOUND_FILE),
     (SMS_CLICKS, CLICK)],
)  # fmt: skip
def test_our_fixtures_are_valid_webhook_bodies(webhook, body):
    product = "sms" if webhook == SMS_CLICKS else "viber"
    assert check_webhook(product, webhook, body) == []


# --- every example of the spec ---


def test_the_spec_delivery_report_examples():
    examples = webhook_examples("viber", DELIVERY)
    assert examples
    for name, body in examples.items():
        reports = normalize_report("viber", "reports", body)
        assert len(reports) == len(body["results"]), name
        for report, entry in zip(reports, body["results"], strict=True):
            assert (report.kind, report.channel, report.message_id) == (
                "DELIVERY",
                "viber",
                entry["messageId"],
            )
            assert report.status_name == entry["status"]["name"]
            assert report.status_group == entry["status"]["groupName"]
            assert report.error_name == entry["error"]["name"]
            assert (report.to, report.sender) == (entry["to"], entry["sender"])
            assert (report.sent_at, report.done_at) == (entry["sentAt"], entry["doneAt"])
            assert report.message_count == entry["messageCount"]
            assert report.mcc_mnc == entry["mccMnc"]
            assert report.callback_data == entry["callbackData"]
            assert report.price.price_per_message == entry["price"]["pricePerMessage"]
            assert report.is_final and report.raw == entry


def test_the_spec_seen_report_examples():
    examples = webhook_examples("viber", SEEN)
    assert examples
    for name, body in examples.items():
        reports = normalize_report("viber", "reports", body)
        assert len(reports) == len(body["results"]), name
        for report, entry in zip(reports, body["results"], strict=True):
            assert (report.kind, report.message_id, report.seen_at) == (
                "SEEN",
                entry["messageId"],
                entry["seenAt"],
            )
            assert report.status_name is None and report.status_group is None and not report.is_final
            assert (report.to, report.sender, report.sent_at) == (entry["to"], entry["from"], entry["sentAt"])


def test_the_spec_inbound_examples():
    examples = webhook_examples("viber", INBOUND)
    assert {body["results"][0]["message"]["type"] for body in examples.values()} == {"TEXT", "FILE"}
    for name, body in examples.items():
        (report,) = normalize_report("viber", "inbound", body)
        entry = body["results"][0]
        message = entry["message"]
        assert (report.kind, report.channel, report.message_id) == ("INBOUND", "viber", entry["messageId"]), (
            name
        )
        assert (report.sender, report.to) == (entry["sender"], entry["to"])  # the end user is in `sender`
        assert report.received_at == entry["receivedAt"]
        assert report.text == message.get("text")
        assert report.url == message.get("url")
        assert report.raw["message"]["trackingData"] == message["trackingData"]


# --- our fixtures ---


def test_an_undeliverable_report():
    (report,) = normalize_report("viber", "reports", UNDELIVERABLE)
    assert (report.kind, report.message_id, report.bulk_id) == ("DELIVERY", "viber-0007", "spring-menu-1")
    assert (report.status_group, report.status_name) == ("UNDELIVERABLE", "UNDELIVERABLE_NOT_DELIVERED")
    assert (report.error_group, report.error_name, report.error_permanent) == (
        "HANDSET_ERRORS",
        "EC_UNKNOWN_SUBSCRIBER",
        True,
    )
    assert report.is_final


def test_delivery_and_seen_reports_share_one_body():
    body = {"results": UNDELIVERABLE["results"] + SEEN_REPORT["results"]}
    delivery, seen = normalize_report("viber", "reports", body)
    assert (delivery.kind, seen.kind) == ("DELIVERY", "SEEN")
    assert (seen.message_id, seen.seen_at, seen.to) == (
        "viber-0008",
        "2025-03-14T09:31:12.004+0000",
        "385981112233",
    )


def test_a_seen_at_beside_a_status_is_still_a_delivery_report():
    entry = {**UNDELIVERABLE["results"][0], "seenAt": "2025-03-14T09:31:12.004+0000"}
    (report,) = normalize_report("viber", "reports", {"results": [entry]})
    assert (report.kind, report.status_name) == ("DELIVERY", "UNDELIVERABLE_NOT_DELIVERED")


def test_a_click_notification():
    (report,) = normalize_report("viber", "clicks", CLICK)
    assert report == click_report("viber", CLICK)
    assert (report.kind, report.message_id, report.url) == (
        "CLICK",
        "viber-0009",
        "https://bistro.example/menu",
    )
    assert (report.to, report.received_at) == ("385981112233", "2025-03-14T09:26:53.589+0000")
    assert report.device == CLICK["recipientInfo"]


def test_a_click_time_sent_as_text():
    body = {**CLICK, "sendDateTime": "1741944413589"}
    (report,) = normalize_report("viber", "clicks", body)
    assert report.received_at == "2025-03-14T09:26:53.589+0000"
    assert report.raw == body


def test_an_inbound_text_reply():
    (report,) = normalize_report("viber", "inbound", INBOUND_TEXT)
    assert (report.kind, report.sender, report.to) == ("INBOUND", "385981112233", "BistroLipa")
    assert (report.text, report.paired_message_id, report.url) == ("Table for 4 at 8?", "viber-0008", None)


def test_an_inbound_file():
    (report,) = normalize_report("viber", "inbound", INBOUND_FILE)
    assert (report.text, report.url) == ("Our guests", "https://media.example/guest-list.pdf")
    assert report.paired_message_id is None


# --- bodies in the wrong place or of the wrong shape ---


@pytest.mark.parametrize(
    ("kind", "body", "words"),
    [
        ("reports", [], "a JSON object, not list"),
        ("reports", {}, "has a `results` list; this one has none"),
        ("reports", CLICK, "post it to the clicks URL"),
        ("reports", INBOUND_TEXT, "post it to the inbound URL"),
        ("reports", {"results": ["x"]}, "must be an object, not str"),
        ("reports", {"results": [{"to": "385981112233"}]}, "has no messageId"),
        ("reports", {"results": [{"messageId": "m-1", "to": "385981112233"}]}, "neither a status"),
        ("inbound", UNDELIVERABLE, "post it to the reports URL"),
        ("inbound", SEEN_REPORT, "post it to the reports URL"),
        ("inbound", {"results": [{"messageId": "m", "from": "385981112233", "message": {"type": "TEXT"}}]},
         "no `sender` (the end user)"),
        ("inbound", {"results": [{"messageId": "m", "sender": "385981112233", "text": "hi"}]},
         "no `message` with a type"),
        ("clicks", UNDELIVERABLE, "one flat object"),
        ("clicks", {"url": "https://x.example"}, "names the clicked message in messageId"),
        ("clicks", {"messageId": "m-1"}, "not a click"),
        ("seen", SEEN_REPORT, "Viber has no 'seen' webhook"),
    ],
)  # fmt: skip
def test_bad_bodies_say_what_is_wrong(kind, body, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        normalize_report("viber", kind, body)
