"""Reading WhatsApp's webhooks: every example of the spec's delivery, seen and inbound webhooks, the common
click notification, and bodies posted to the wrong URL."""

from __future__ import annotations

import pytest

from channel_engine.testing.conformance import webhook_examples
from channel_engine_whatsapp import plugin

normalize_report = plugin.normalize_report

DELIVERY = "receive-whatsapp-delivery-reports"
SEEN = "receive-whatsapp-seen-reports"
INBOUND = "receive-inbound-whatsapp-messages"
MEDIA_URL = "https://{base_url}/whatsapp/1/senders/447796344125/media/f1b96d31-9ab9-4513-808b-50ab37360fbe"

# message.type -> (text, url) our Report carries, for the spec's inbound examples
INBOUND_SUMMARY = {
    "TEXT": ("Hello, World!", None),
    "LOCATION": (
        "Empire State Building, 350 5th Ave, New York, NY",
        "https://www.facebook.com/113272675352744",
    ),
    "IMAGE": ("Image Caption", MEDIA_URL),
    "DOCUMENT": ("Document Title", MEDIA_URL),
    "AUDIO": (None, MEDIA_URL),
    "VIDEO": ("Look at this!", MEDIA_URL),
    "VOICE": ("Voice Note", MEDIA_URL),
    "STICKER": (None, MEDIA_URL),
    "CONTACT": ("Frank Bipper", None),
    "INFECTED_CONTENT": (None, None),
    "BUTTON": ("Button text", None),
    "INTERACTIVE_BUTTON_REPLY": ("Button reply title", None),
    "INTERACTIVE_LIST_REPLY": ("List reply title", None),
    "INTERACTIVE_FLOW_REPLY": ("flow-reply-id", None),
    "INTERACTIVE_PAYMENT_CONFIRMATION": (None, None),
    "INTERACTIVE_PAYMENT_ACKNOWLEDGEMENT": (None, None),
    "INTERACTIVE_CALL_PERMISSION_REPLY": (None, None),
    "INTERACTIVE_IN_THREAD_AUTHENTICATION_REPLY": (None, None),
    "ORDER": ("I like you store!", None),
    "REACTION": ("\N{NERD FACE}", None),
}


def test_the_spec_delivery_report_example():
    (example,) = webhook_examples("whatsapp", DELIVERY).values()
    (report,) = normalize_report("whatsapp", "reports", example)
    entry = example["results"][0]
    assert (report.kind, report.channel, report.message_id, report.to) == (
        "DELIVERY",
        "whatsapp",
        "fb469d73-d362-463f-b30f-1e959b53badc",
        "41793026731",
    )
    assert (report.status_group_id, report.status_group, report.status_id, report.status_name) == (
        3,
        "DELIVERED",
        5,
        "DELIVERED_TO_HANDSET",
    )
    assert (report.error_group, report.error_name, report.error_permanent) == ("OK", "NO_ERROR", False)
    assert (report.sent_at, report.done_at) == (
        "2019-04-09T16:00:58.647-0300",
        "2019-04-09T16:01:56.494-0300",
    )
    assert (report.price.price_per_message, report.price.currency, report.message_count) == (0.21, "BRL", 1)
    assert report.bulk_id is None  # "" in the example: no bulk
    assert report.callback_data is None and report.sender is None  # WhatsApp reports carry neither
    assert report.is_final
    assert report.raw == entry


def test_a_delivery_report_with_callback_data_keeps_it():
    entry = {
        "messageId": "wa-1",
        "to": "385981112233",
        "callbackData": "guest=7781",
        "status": {
            "groupId": 2,
            "groupName": "UNDELIVERABLE",
            "id": 9,
            "name": "UNDELIVERABLE_NOT_DELIVERED",
        },
        "error": {
            "groupId": 1,
            "groupName": "HANDSET_ERRORS",
            "id": 1,
            "name": "EC_UNKNOWN_SUBSCRIBER",
            "permanent": True,
        },
    }
    (report,) = normalize_report("whatsapp", "reports", {"results": [entry]})
    assert (report.callback_data, report.status_group, report.error_permanent) == (
        "guest=7781",
        "UNDELIVERABLE",
        True,
    )


def test_the_spec_seen_report_example():
    (example,) = webhook_examples("whatsapp", SEEN).values()
    (report,) = normalize_report("whatsapp", "reports", example)
    assert (report.kind, report.message_id) == ("SEEN", "1215f543ab19-345f-adbd-12ad31451ed25f35")
    assert (report.sender, report.to) == ("385919998888", "41793026731")
    assert (report.sent_at, report.seen_at) == (
        "2018-12-12T11:21:57.793+0000",
        "2018-12-12T11:21:58.251+0000",
    )
    assert report.status_name is None and report.status_group is None
    assert not report.is_final


def test_delivery_and_seen_reports_share_one_body():
    delivery = webhook_examples("whatsapp", DELIVERY)["Delivery reports"]["results"][0]
    seen = webhook_examples("whatsapp", SEEN)["Seen reports"]["results"][0]
    reports = normalize_report("whatsapp", "reports", {"results": [delivery, seen]})
    assert [r.kind for r in reports] == ["DELIVERY", "SEEN"]


def test_every_spec_inbound_example_parses():
    examples = webhook_examples("whatsapp", INBOUND)
    assert len(examples) == 22
    seen_types = set()
    for name, example in examples.items():
        (report,) = normalize_report("whatsapp", "inbound", example)
        entry = example["results"][0]
        kind = entry["message"]["type"]
        seen_types.add(kind)
        assert (report.kind, report.channel) == ("INBOUND", "whatsapp"), name
        assert (report.sender, report.to) == ("385919998888", "41793026731"), name
        assert (report.message_id, report.received_at) == (
            entry["messageId"],
            "2025-01-01T10:10:00.000+0000",
        ), name
        assert report.callback_data == "callbackData", name
        assert (report.text, report.url) == INBOUND_SUMMARY[kind], name
        assert report.raw == entry, name
    assert seen_types == set(INBOUND_SUMMARY)


def test_an_inbound_message_keeps_infobips_keyword():
    entry = webhook_examples("whatsapp", INBOUND)["Received WhatsApp TEXT message"]["results"][0]
    (report,) = normalize_report("whatsapp", "inbound", {"results": [{**entry, "keyword": "STOP"}]})
    assert report.keyword == "STOP"


def test_the_common_click_notification():
    (example,) = webhook_examples("sms", "receive-sms-tracking-notification").values()
    (report,) = normalize_report("whatsapp", "clicks", example)
    assert (report.kind, report.channel, report.message_id) == ("CLICK", "whatsapp", example["messageId"])
    assert (report.url, report.to, report.callback_data) == (
        example["url"],
        example["recipient"],
        "Callback data",
    )
    assert report.received_at == "2024-01-01T11:00:00.000+0000"
    assert report.device == example["recipientInfo"]


def test_a_click_time_sent_as_text_is_read_as_epoch_milliseconds():
    body = {
        "notificationType": "CLICKED",
        "messageId": "wa-1",
        "url": "https://b.example",
        "sendDateTime": "0",
    }
    (report,) = normalize_report("whatsapp", "clicks", body)
    assert report.received_at == "1970-01-01T00:00:00.000+0000"
    assert report.raw == body


@pytest.mark.parametrize(
    ("kind", "body", "words"),
    [
        ("reports", [], "JSON object"),
        ("reports", {"messageId": "x"}, "`results` list"),
        ("reports", {"notificationType": "CLICKED", "messageId": "x"}, "click notification"),
        ("reports", {"results": ["x"]}, "must be an object"),
        ("reports", {"results": [{"to": "385981112233"}]}, "no messageId"),
        ("reports", {"results": [{"messageId": "x", "to": "385981112233"}]}, "neither a status"),
        (
            "reports",
            {
                "results": [
                    {"messageId": "x", "from": "385981112233", "message": {"type": "TEXT", "text": "hi"}}
                ]
            },
            "inbound URL",
        ),
        (
            "inbound",
            {"results": [{"messageId": "x", "seenAt": "2025-01-01T10:10:00.000+0000"}]},
            "seen report",
        ),
        ("inbound", {"results": [{"messageId": "x", "message": {"type": "TEXT"}}]}, "no `from`"),
        (
            "inbound",
            {"results": [{"messageId": "x", "from": "385981112233", "message": "hi"}]},
            "message with a type",
        ),
        ("clicks", {"results": []}, "one flat object"),
        ("clicks", {"notificationType": "CLICKED", "url": "https://b.example"}, "messageId"),
        ("clicks", {"messageId": "x", "to": "385981112233"}, "not a click notification"),
        ("seen", {"results": []}, "no 'seen' webhook"),
    ],
)
def test_bodies_of_the_wrong_shape_are_refused_with_a_reason(kind, body, words):
    with pytest.raises(ValueError, match=words):
        normalize_report("whatsapp", kind, body)


def test_other_channels_are_declined():
    assert normalize_report("viber", "reports", {"results": []}) is None
