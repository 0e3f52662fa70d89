"""Webhook parsing: Kakao delivery reports (both APIs), ChinguTalk click notifications, and bodies that are
not Kakao webhooks.

The spec's own examples are read from the spec file; the fixtures here are ours, and each is checked
against the webhook's schema so it stays a realistic body.
"""

from __future__ import annotations

import copy

import pytest

from channel_engine.testing.conformance import check_webhook, spec_document, webhook_examples
from channel_engine_kakao import plugin

normalize_report = plugin.normalize_report

ALIM_REPORTS = "receive-outbound-kakao-alim-message-delivery-reports"
CHINGU_REPORTS = "receive-outbound-kakao-chingu-message-delivery-reports"
WEBHOOKS = {"kakao-alim": ALIM_REPORTS, "kakao-chingu": CHINGU_REPORTS}
# kakao.json defines no click notification: ChinguTalk's clicks are Infobip's one flat format, defined in
# sms.json (and identically in mms.json).
CLICKS = ("sms", "receive-sms-tracking-notification")

STATUS_OK = {"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR", "description": "No Error",
             "permanent": False}  # fmt: skip
REPORTS = {
    "results": [
        {
            "bulkId": "dinner-1",
            "price": {"pricePerMessage": 0.0061, "currency": "KRW"},
            "status": {"groupId": 3, "groupName": "DELIVERED", "id": 5, "name": "DELIVERED_TO_HANDSET",
                       "description": "Message delivered to handset"},
            "error": STATUS_OK,
            "messageId": "kakao-alim-0001",
            "to": "821012345678",
            "sender": "9c2d4e6f8a0b1c3d5e7f9a1b3c5d7e9f0a2b4c6d",
            "sentAt": "2025-05-02T18:30:00.120+0000",
            "doneAt": "2025-05-02T18:30:01.480+0000",
            "messageCount": 1,
            "mccMnc": "45005",
            "callbackData": "guest=17",
            "platform": {"entityId": "bistro-entity", "applicationId": "bistro-app"},
            "campaignReferenceId": "table-ready",
        },
        {
            "bulkId": "dinner-1",
            "price": {"pricePerMessage": 0, "currency": "KRW"},
            "status": {"groupId": 2, "groupName": "UNDELIVERABLE", "id": 9,
                       "name": "UNDELIVERABLE_NOT_DELIVERED", "description": "Message sent not delivered",
                       "action": "Check the destination"},
            "error": {"groupId": 1, "groupName": "HANDSET_ERRORS", "id": 1, "name": "EC_UNKNOWN_SUBSCRIBER",
                      "description": "Unknown subscriber", "permanent": True},
            "messageId": "kakao-alim-0002",
            "to": "821012345679",
            "sentAt": "2025-05-02T18:30:00.120+0000",
            "doneAt": "2025-05-02T18:30:02.004+0000",
            "messageCount": 1,
        },
        {
            "status": {"groupId": 1, "groupName": "PENDING", "id": 7, "name": "PENDING_ENROUTE",
                       "description": "Message sent to next instance"},
            "messageId": "kakao-alim-0003",
            "to": "821012345670",
            "sentAt": "2025-05-02T18:30:00.120+0000",
            "doneAt": "2025-05-02T18:30:00.900+0000",
        },
    ]
}  # fmt: skip
CLICK = {
    "notificationType": "CLICKED",
    "recipient": "821012345678",
    "url": "https://bistro-lipa.example/brunch",
    "sendDateTime": 1746210613589,
    "messageId": "kakao-chingu-0001",
    "bulkId": "brunch-1",
    "callbackData": "guest=17",
    "recipientInfo": {"deviceType": "Phone", "os": "Android 14", "deviceName": "Samsung"},
    "geoLocationInfo": {"countryName": "Korea, Republic of", "city": "Seoul"},
}


@pytest.mark.parametrize("webhook", [ALIM_REPORTS, CHINGU_REPORTS])
def test_our_fixture_is_a_valid_report_of_both_apis(webhook):
    assert check_webhook("kakao", webhook, REPORTS) == []


def test_our_click_fixture_is_infobips_click_notification():
    assert check_webhook(*CLICKS, CLICK) == []


# --- the spec's own examples -------------------------------------------------------------------------


def test_kakao_has_only_delivery_report_webhooks_for_alimtalk_and_chingutalk():
    """No seen report, no click and no inbound webhook for either API: only Sangdam (not ours) has more."""
    names = set(spec_document("kakao")["webhooks"])
    assert {n for n in names if "sangdam" not in n} == {ALIM_REPORTS, CHINGU_REPORTS}


@pytest.mark.parametrize("channel", sorted(WEBHOOKS))
def test_every_delivery_report_example_in_the_spec_parses(channel):
    # The spec gives one AlimTalk example and none for ChinguTalk; both webhooks share the schema, so the
    # AlimTalk example stands for ChinguTalk too (checked against its schema first).
    examples = webhook_examples("kakao", ALIM_REPORTS) | webhook_examples("kakao", CHINGU_REPORTS)
    assert examples
    for body in examples.values():
        assert check_webhook("kakao", WEBHOOKS[channel], body) == []
        reports = normalize_report(channel, "reports", body)
        assert [r.message_id for r in reports] == [e["messageId"] for e in body["results"]]
        for report, entry in zip(reports, body["results"], strict=True):
            assert (report.kind, report.channel) == ("DELIVERY", channel)
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
            assert report.price.price_per_message == entry["price"]["pricePerMessage"]
            assert report.raw == entry


# --- our fixtures, field by field --------------------------------------------------------------------


@pytest.mark.parametrize("channel", sorted(WEBHOOKS))
def test_delivered_undeliverable_and_intermediate_reports(channel):
    delivered, failed, pending = normalize_report(channel, "reports", REPORTS)
    assert delivered.channel == failed.channel == channel
    assert (delivered.status_group_id, delivered.status_group, delivered.status_id) == (3, "DELIVERED", 5)
    assert (delivered.error_group, delivered.error_name, delivered.error_permanent) == (
        "OK",
        "NO_ERROR",
        False,
    )
    assert (delivered.callback_data, delivered.mcc_mnc) == ("guest=17", "45005")
    assert (delivered.price.price_per_message, delivered.price.currency) == (0.0061, "KRW")
    assert delivered.raw["platform"] == {"entityId": "bistro-entity", "applicationId": "bistro-app"}
    assert delivered.raw["campaignReferenceId"] == "table-ready"
    assert delivered.is_final
    assert (failed.status_name, failed.error_group, failed.error_name, failed.error_permanent) == (
        "UNDELIVERABLE_NOT_DELIVERED",
        "HANDSET_ERRORS",
        "EC_UNKNOWN_SUBSCRIBER",
        True,
    )
    assert failed.is_final and failed.sender is None
    assert (pending.status_group, pending.error_name, pending.is_final) == ("PENDING", None, False)


def test_an_empty_bucket_is_no_reports():
    assert normalize_report("kakao-alim", "reports", {"results": []}) == []


def test_a_chingutalk_click():
    (report,) = normalize_report("kakao-chingu", "clicks", CLICK)
    assert (report.kind, report.channel, report.message_id) == ("CLICK", "kakao-chingu", "kakao-chingu-0001")
    assert (report.url, report.to, report.bulk_id) == (
        "https://bistro-lipa.example/brunch",
        "821012345678",
        "brunch-1",
    )
    assert report.received_at == "2025-05-02T18:30:13.589+0000"
    assert report.callback_data == "guest=17"
    assert report.device == CLICK["recipientInfo"]
    assert report.raw == CLICK


def test_a_click_time_sent_as_a_string_of_digits_is_read_too():
    body = {**CLICK, "sendDateTime": "1746210613589"}
    (report,) = normalize_report("kakao-chingu", "clicks", body)
    assert report.received_at == "2025-05-02T18:30:13.589+0000"
    assert report.raw == body


# --- bodies that are not Kakao webhooks --------------------------------------------------------------

WITHOUT_STATUS = copy.deepcopy(REPORTS["results"][0])
del WITHOUT_STATUS["status"]
WITHOUT_STATUS["seenAt"] = "2025-05-02T18:31:00.000+0000"


@pytest.mark.parametrize(
    ("channel", "kind", "body", "says"),
    [
        ("kakao-alim", "reports", [], "JSON object"),
        ("kakao-alim", "reports", {"messages": []}, "`results` list"),
        ("kakao-chingu", "reports", CLICK, "click notification"),
        ("kakao-alim", "reports", {"results": [WITHOUT_STATUS]}, "no seen reports"),
        ("kakao-alim", "reports", {"results": ["kakao-alim-0001"]}, "must be an object"),
        ("kakao-alim", "reports", {"results": [{"status": {"groupName": "DELIVERED"}}]}, "no messageId"),
        ("kakao-alim", "clicks", CLICK, "tracks no URLs"),
        ("kakao-chingu", "clicks", REPORTS, "flat object"),
        ("kakao-chingu", "clicks", {"url": "https://x.example"}, "messageId"),
        ("kakao-chingu", "clicks", {"messageId": "m"}, "not a click notification"),
        ("kakao-alim", "inbound", {"results": []}, "no inbound messages"),
        ("kakao-chingu", "inbound", {"results": []}, "Sangdam"),
        ("kakao-chingu", "seen", REPORTS, "no 'seen' webhook"),
    ],
)
def test_bodies_that_are_not_kakao_webhooks_are_refused_with_a_reason(channel, kind, body, says):
    with pytest.raises(ValueError, match=says):
        normalize_report(channel, kind, body)
