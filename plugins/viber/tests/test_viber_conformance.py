"""Every payload shape we build conforms to Infobip's `POST /viber/2/messages` schema with no key the spec
lacks; and the checker does judge Viber content by its `type`, so a wrong shape would be caught."""

from __future__ import annotations

import json

import pytest

from channel_engine.testing.conformance import check_request, spec_document
from channel_engine_viber import plugin

build_payload = plugin.build_payload


SEND = "/viber/2/messages"
IMAGE = "https://cdn.bistro.example/spring/dish.jpg"
VIDEO = {
    "videoUrl": "https://cdn.bistro.example/tour.mp4",
    "thumbnailUrl": "https://cdn.bistro.example/tour.jpg",
    "videoDuration": 42,
}
BUTTON = {"title": "Book a table", "url": "https://bistro.example/book"}
FILE = {"fileUrl": "https://cdn.bistro.example/menu.pdf", "fileName": "menu.pdf"}

# Each case: message fields for the `make_message` fixture (a text message unless content says otherwise).
CASES = {
    "text": {},
    "text with button": {"content": {"text": "Spring menu is out", "button": BUTTON}},
    "image": {"content": {"imageUrl": IMAGE}},
    "image with text": {"content": {"imageUrl": IMAGE, "text": "Our new dish"}},
    "image with text and button": {
        "content": {
            "imageUrl": IMAGE,
            "text": "Our new dish",
            "button": BUTTON,
            "showImageInFullScreen": True,
        }
    },
    "video": {"content": VIDEO},
    "video with text and button": {"content": {**VIDEO, "text": "Take the tour", "button": BUTTON}},
    "video with a title-only button": {
        "content": {**VIDEO, "videoDuration": "PT1M", "button": {"title": "Tour"}}
    },
    "file": {"content": FILE},
    "promotional": {"content": {"text": "20% off", "label": "promotional"}},
    "transactional with tracking data and campaign": {
        "content": {
            "text": "Booked",
            "label": "TRANSACTIONAL",
            "trackingData": "booking-77",
            "campaignReferenceId": "spring-menu",
        }
    },
    "sms failover": {"content": {"text": "Booked", "smsFailover": {"text": "Booked (SMS)"}}},
    "sms failover with sender and validity": {
        "content": {
            "imageUrl": IMAGE,
            "smsFailover": {
                "text": "Our new dish: https://bistro.example/dish",
                "sender": "BistroLipa",
                "validityPeriod": {"amount": 2, "timeUnit": "HOURS"},
            },
        }
    },
    "validity": {"options": {"validityPeriod": {"amount": 36, "timeUnit": "HOURS"}}},
    "callback data": {"options": {"callbackData": json.dumps({"contactKey": "0031", "de": "Guests"})}},
    "tracking to the engine": {
        "content": {"text": "Menu https://bistro.example/m"},
        "options": {"urlOptions": {}},
    },
    "tracking to the host": {
        "options": {
            "urlOptions": {
                "trackingUrl": "https://clicks.example.org/in",
                "removeProtocol": True,
                "customDomain": "go.example.org",
            }
        }
    },
    "shortening only": {"options": {"urlOptions": {"trackClicks": False}}},
    "bulk id and speed limit": {
        "options": {"bulkId": "spring-menu-1", "speedLimit": {"amount": 5, "timeUnit": "MINUTE"}}
    },
}


@pytest.mark.parametrize("case", CASES)
def test_every_payload_shape_conforms(make_message, webhooks, case):
    fields = CASES[case]
    messages = [make_message(**fields), make_message(destination="385981112299", **fields)]
    (request,) = build_payload("viber", messages, webhooks)
    assert request.path == SEND
    assert check_request("viber", SEND, request.body) == []


def test_a_mixed_batch_conforms(make_message, webhooks):
    messages = [
        make_message(destination=f"3859811122{i:02d}", **fields) for i, fields in enumerate(CASES.values())
    ]
    requests = build_payload("viber", messages, webhooks)
    assert sorted(i for r in requests for i in r.message_ids) == sorted(m.id for m in messages)
    for request in requests:
        assert check_request("viber", SEND, request.body) == []


def test_the_checker_judges_viber_content_by_its_type(make_message, webhooks):
    (request,) = build_payload("viber", [make_message(content={"imageUrl": IMAGE})], webhooks)
    body = request.body
    body["messages"][0]["content"]["type"] = "TEXT"  # an image's fields under the TEXT type
    problems = check_request("viber", SEND, body)
    assert any("'text' is a required property" in p for p in problems), problems
    assert "$.messages[0].content.mediaUrl: the spec declares no such key" in problems
    body["messages"][0]["content"] = {
        "fileName": "menu.exe",
        "mediaUrl": "https://x.example/m",
        "type": "FILE",
    }
    assert any("does not match" in p for p in check_request("viber", SEND, body))


def test_the_spec_has_the_operation_and_webhooks_we_rely_on():
    spec = spec_document("viber")
    assert "post" in spec["paths"][SEND]
    assert {
        "receive-outbound-viber-message-delivery-reports",
        "receive-viber-seen-reports",
        "receive-inbound-viber-messages",
    } <= set(spec["webhooks"])
