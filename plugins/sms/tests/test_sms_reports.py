"""Webhook parsing: legacy and v3 delivery reports, click notifications, inbound SMS, and bad bodies.

The spec's own examples are read from the spec file; the fixtures here are ours, and each is checked
against the webhook's schema so it stays a realistic body.
"""

from __future__ import annotations

import copy

import pytest

from channel_engine.testing.conformance import check_webhook, webhook_examples
from channel_engine_sms import plugin

normalize_report = plugin.normalize_report


V2_REPORTS = "receive-outbound-sms-message-reports"
V3_REPORTS = "receive-outbound-sms-message-reports-v3"
CLICKS = "receive-sms-tracking-notification"
INBOUND = "receive-inbound-sms-messages"

# Legacy (v2) delivery reports: smsCount, from, entityId/applicationId at the top, error group "Ok".
LEGACY_REPORT = {
    "results": [
        {
            "bulkId": "autumn-menu-1",
            "messageId": "sms-0001",
            "to": "385981112233",
            "from": "BistroLipa",
            "sentAt": "2025-03-14T09:20:00.120+0000",
            "doneAt": "2025-03-14T09:20:04.860+0000",
            "smsCount": 2,
            "mccMnc": "21910",
            "callbackData": "contact=0031",
            "price": {"pricePerMessage": 0.0125, "currency": "EUR"},
            "status": {
                "groupId": 3,
                "groupName": "DELIVERED",
                "id": 5,
                "name": "DELIVERED_TO_HANDSET",
                "description": "Message delivered to handset",
            },
            "error": {
                "groupId": 0,
                "groupName": "Ok",
                "id": 0,
                "name": "NO_ERROR",
                "description": "No Error",
                "permanent": False,
            },
            "entityId": "bistro-entity",
            "applicationId": "bistro-app",
        }
    ]
}

# v3 delivery reports: messageCount, sender, platform{}; here an undeliverable and an intermediate one.
V3_REPORT = {
    "results": [
        {
            "bulkId": "autumn-menu-1",
            "price": {"pricePerMessage": 0, "currency": "EUR"},
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
            "messageId": "sms-0002",
            "to": "385981112234",
            "sender": "BistroLipa",
            "sentAt": "2025-03-14T09:20:00.120+0000",
            "doneAt": "2025-03-14T09:20:09.004+0000",
            "messageCount": 1,
            "callbackData": "contact=0032",
            "platform": {"entityId": "bistro-entity", "applicationId": "bistro-app"},
        },
        {
            "bulkId": "autumn-menu-1",
            "price": {"pricePerMessage": 0.0125, "currency": "EUR"},
            "status": {
                "groupId": 3,
                "groupName": "DELIVERED",
                "id": 2,
                "name": "DELIVERED_TO_OPERATOR",
                "description": "Message delivered to operator",
            },
            "error": {
                "groupId": 0,
                "groupName": "OK",
                "id": 0,
                "name": "NO_ERROR",
                "description": "No Error",
                "permanent": False,
            },
            "messageId": "sms-0003",
            "to": "385981112235",
            "sender": "BistroLipa",
            "sentAt": "2025-03-14T09:20:00.120+0000",
            "doneAt": "2025-03-14T09:20:01.500+0000",
            "messageCount": 1,
        },
    ]
}

CLICK = {
    "notificationType": "CLICKED",
    "recipient": "385981112233",
    "url": "https://bistro-lipa.example/menu?season=autumn",
    "sendDateTime": 1741944413589,
    "messageId": "sms-0001",
    "bulkId": "autumn-menu-1",
    "callbackData": "contact=0031",
    "recipientInfo": {"deviceType": "Phone", "os": "Android 14", "deviceName": "Samsung"},
    "geoLocationInfo": {"countryName": "Croatia", "city": "Split"},
}

MO = {
    "results": [
        {
            "messageId": "3500119372811406755",
            "from": "385981112233",
            "to": "385919990001",
            "text": "TABLE 4 people at 8pm",
            "cleanText": "4 people at 8pm",
            "keyword": "TABLE",
            "receivedAt": "2025-03-14T09:31:12.045+0000",
            "smsCount": 1,
            "price": {"pricePerMessage": 0, "currency": "EUR"},
        }
    ],
    "messageCount": 1,
    "pendingMessageCount": 0,
}


@pytest.mark.parametrize(
    ("webhook", "body"),
    [(V2_REPORTS, LEGACY_REPORT), (V3_REPORTS, V3_REPORT), (CLICKS, CLICK), (INBOUND, MO)],
)
def test_our_fixtures_are_valid_webhook_bodies(webhook, body):
    assert check_webhook("sms", webhook, body) == []


# --- the spec's own examples ---------------------------------------------------------------------------


@pytest.mark.parametrize("webhook", [V2_REPORTS, V3_REPORTS])
def test_every_delivery_report_example_in_the_spec_parses(webhook):
    examples = webhook_examples("sms", webhook)
    assert examples
    for body in examples.values():
        reports = normalize_report("sms", "reports", body)
        assert [r.message_id for r in reports] == [e["messageId"] for e in body["results"]]
        for report, entry in zip(reports, body["results"], strict=True):
            assert report.kind == "DELIVERY"
            assert report.channel == "sms"
            assert report.status_group == entry["status"]["groupName"].upper()
            assert report.status_name == entry["status"]["name"]
            assert report.error_group == entry["error"]["groupName"].upper()
            assert report.bulk_id == entry["bulkId"]
            assert report.to == entry["to"]
            assert report.message_count == entry.get("smsCount", entry.get("messageCount"))
            assert report.price is not None and report.price.currency == entry["price"]["currency"]
            assert report.raw == entry


def test_every_click_example_in_the_spec_parses():
    examples = webhook_examples("sms", CLICKS)
    assert examples
    for body in examples.values():
        (report,) = normalize_report("sms", "clicks", body)
        assert (report.kind, report.message_id, report.url) == ("CLICK", body["messageId"], body["url"])
        assert report.to == body["recipient"]
        assert report.received_at.endswith("+0000")
        assert report.device == body["recipientInfo"]


def test_every_inbound_example_in_the_spec_parses():
    examples = webhook_examples("sms", INBOUND)
    assert examples
    for body in examples.values():
        reports = normalize_report("sms", "inbound", body)
        assert len(reports) == len(body["results"])
        for report, entry in zip(reports, body["results"], strict=True):
            assert report.kind == "INBOUND"
            assert (report.message_id, report.sender, report.to) == (
                entry["messageId"],
                entry["from"],
                entry["to"],
            )
            assert (report.text, report.keyword) == (entry["text"], entry["keyword"])
            assert report.received_at == entry["receivedAt"]


# --- our fixtures, field by field ----------------------------------------------------------------------


def test_legacy_report_with_mixed_case_ok_group():
    (report,) = normalize_report("sms", "reports", LEGACY_REPORT)
    assert report.kind == "DELIVERY"
    assert (report.message_id, report.bulk_id, report.to, report.sender) == (
        "sms-0001",
        "autumn-menu-1",
        "385981112233",
        "BistroLipa",
    )
    assert (report.status_group_id, report.status_group, report.status_id, report.status_name) == (
        3,
        "DELIVERED",
        5,
        "DELIVERED_TO_HANDSET",
    )
    assert (report.error_group, report.error_name, report.error_permanent) == ("OK", "NO_ERROR", False)
    assert report.message_count == 2  # smsCount
    assert report.mcc_mnc == "21910"
    assert report.callback_data == "contact=0031"
    assert (report.sent_at, report.done_at) == (
        "2025-03-14T09:20:00.120+0000",
        "2025-03-14T09:20:04.860+0000",
    )
    assert report.price.price_per_message == 0.0125
    assert report.is_final


def test_v3_reports_undeliverable_and_intermediate():
    failed, intermediate = normalize_report("sms", "reports", V3_REPORT)
    assert (failed.status_group, failed.status_name) == ("UNDELIVERABLE", "UNDELIVERABLE_NOT_DELIVERED")
    assert (failed.error_group, failed.error_name, failed.error_permanent) == (
        "HANDSET_ERRORS",
        "EC_UNKNOWN_SUBSCRIBER",
        True,
    )
    assert failed.sender == "BistroLipa"  # v3 `sender`
    assert failed.message_count == 1  # v3 `messageCount`
    assert failed.is_final
    assert intermediate.status_name == "DELIVERED_TO_OPERATOR"
    assert not intermediate.is_final  # a further report may follow
    assert failed.dedupe_key() != intermediate.dedupe_key()


def test_v2_and_v3_give_the_same_report_for_the_same_event():
    v3_entry = copy.deepcopy(LEGACY_REPORT["results"][0])
    v3_entry["sender"] = v3_entry.pop("from")
    v3_entry["messageCount"] = v3_entry.pop("smsCount")
    v3_entry["platform"] = {
        "entityId": v3_entry.pop("entityId"),
        "applicationId": v3_entry.pop("applicationId"),
    }
    v3_entry["error"]["groupName"] = "OK"
    assert check_webhook("sms", V3_REPORTS, {"results": [v3_entry]}) == []
    (legacy,) = normalize_report("sms", "reports", LEGACY_REPORT)
    (v3,) = normalize_report("sms", "reports", {"results": [v3_entry]})
    legacy.raw = v3.raw = {}
    assert legacy == v3


def test_a_click_time_in_epoch_milliseconds_becomes_an_infobip_timestamp():
    (report,) = normalize_report("sms", "clicks", CLICK)
    assert report.kind == "CLICK"
    assert report.received_at == "2025-03-14T09:26:53.589+0000"
    assert (report.message_id, report.bulk_id, report.to) == ("sms-0001", "autumn-menu-1", "385981112233")
    assert report.url == "https://bistro-lipa.example/menu?season=autumn"
    assert report.callback_data == "contact=0031"
    assert report.device == {"deviceType": "Phone", "os": "Android 14", "deviceName": "Samsung"}
    assert report.raw == CLICK


def test_a_click_time_sent_as_a_string_of_digits_is_read_too():
    body = {**CLICK, "sendDateTime": "1741944413589"}
    (report,) = normalize_report("sms", "clicks", body)
    assert report.received_at == "2025-03-14T09:26:53.589+0000"
    assert report.raw == body


def test_an_inbound_sms():
    (report,) = normalize_report("sms", "inbound", MO)
    assert report.kind == "INBOUND"
    assert (report.message_id, report.sender, report.to) == (
        "3500119372811406755",
        "385981112233",
        "385919990001",
    )
    assert (report.text, report.keyword) == ("TABLE 4 people at 8pm", "TABLE")
    assert report.raw["cleanText"] == "4 people at 8pm"
    assert report.message_count == 1
    assert report.received_at == "2025-03-14T09:31:12.045+0000"


def test_lms_reports_name_the_lms_channel():
    (report,) = normalize_report("lms", "reports", LEGACY_REPORT)
    assert report.channel == "lms"


def test_an_empty_bucket_is_no_reports():
    assert normalize_report("sms", "reports", {"results": []}) == []
    assert (
        normalize_report("sms", "inbound", {"results": [], "messageCount": 0, "pendingMessageCount": 0}) == []
    )


# --- bodies that are not SMS webhooks ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "body", "says"),
    [
        ("reports", [], "JSON object"),
        ("reports", {"messages": []}, "`results` list"),
        ("reports", CLICK, "click notification"),
        ("reports", MO, "inbound message"),
        ("reports", {"results": [{"messageId": "x"}]}, "no status"),
        ("reports", {"results": ["sms-0001"]}, "must be an object"),
        ("reports", {"results": [{"status": {"groupName": "DELIVERED"}}]}, "no messageId"),
        ("inbound", LEGACY_REPORT, "delivery report"),
        ("inbound", {"results": [{"messageId": "x", "text": "hi"}]}, "no `from`"),
        ("clicks", LEGACY_REPORT, "flat object"),
        ("clicks", {"url": "https://x.example"}, "messageId"),
        ("clicks", {"messageId": "sms-0001"}, "not a click notification"),
        ("seen", LEGACY_REPORT, "no 'seen' webhook"),
    ],
)
def test_bodies_that_are_not_sms_webhooks_are_refused_with_a_reason(kind, body, says):
    with pytest.raises(ValueError, match=says):
        normalize_report("sms", kind, body)
