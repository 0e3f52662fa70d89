"""Every request shape the whatsapp channel builds conforms to its operation in Infobip's `whatsapp.json`,
with no key the spec lacks."""

from __future__ import annotations

import json

import pytest

from channel_engine.testing.conformance import check_request
from channel_engine_whatsapp import plugin

build_payload = plugin.build_payload

LINK = "https://bistro.example/booking/7781"
TEMPLATE = {
    "type": "TEMPLATE",
    "templateName": "table_ready",
    "language": "en_GB",
    "placeholders": ["Ana", LINK],
}
HOST_TRACKING = {
    "urlOptions": {
        "trackingUrl": "https://clicks.bistro.example/in",
        "removeProtocol": True,
        "customDomain": "go.bistro.example",
    }
}

CASES = {
    "template, body only": [{}],
    "template, no placeholders": [{"content": {**TEMPLATE, "placeholders": []}}],
    "template, text header": [{"content": {**TEMPLATE, "header": {"type": "TEXT", "placeholder": "Ana"}}}],
    "template, image header": [
        {"content": {**TEMPLATE, "header": {"type": "IMAGE", "mediaUrl": "https://bistro.example/t.jpg"}}}
    ],
    "template, video header": [
        {"content": {**TEMPLATE, "header": {"type": "VIDEO", "mediaUrl": "https://bistro.example/t.mp4"}}}
    ],
    "template, document header": [
        {
            "content": {
                **TEMPLATE,
                "header": {
                    "type": "DOCUMENT",
                    "mediaUrl": "https://bistro.example/m.pdf",
                    "filename": "m.pdf",
                },
            }
        }
    ],
    "template, location header": [
        {"content": {**TEMPLATE, "header": {"type": "LOCATION", "latitude": 45.81, "longitude": 15.97}}}
    ],
    "template, every button kind": [
        {
            "content": {
                **TEMPLATE,
                "buttons": [
                    {"type": "QUICK_REPLY", "parameter": "cancel"},
                    {"type": "URL", "parameter": "booking/7781"},
                    {"type": "URL", "parameter": "menu"},
                    {"type": "COPY_CODE", "parameter": "TABLE15"},
                ],
            }
        }
    ],
    "template, tracked links": [{"options": {"urlOptions": {}}}],
    "template, shortening only": [{"options": {"urlOptions": {"trackClicks": False}}}],
    "template, the host's tracking": [{"options": HOST_TRACKING}],
    "template, callback data": [
        {"options": {"callbackData": json.dumps({"contactKey": "0031", "de": "Guests"})}}
    ],
    "template bulk": [{"options": {"bulkId": "autumn-menu-1"}}, {"options": {"bulkId": "autumn-menu-1"}}],
    "template to a business-scoped user id": [{"destination": "US.1349120865530274191"}],
    "text": [{"content": {"type": "TEXT", "text": f"Your table: {LINK}", "previewUrl": True}}],
    "text, tracked, replying": [
        {
            "content": {"type": "TEXT", "text": f"See {LINK}", "replyToMessageId": "wamid.HBgLMzg1"},
            "options": {"urlOptions": {}, "callbackData": "guest=7781"},
        }
    ],
    "image": [
        {
            "content": {
                "type": "IMAGE",
                "mediaUrl": "https://bistro.example/m.jpg",
                "caption": f"Menu {LINK}",
            },
            "options": HOST_TRACKING,
        }
    ],
    "video": [{"content": {"type": "VIDEO", "mediaUrl": "https://bistro.example/t.mp4", "caption": "Tour"}}],
    "document": [
        {
            "content": {
                "type": "DOCUMENT",
                "mediaUrl": "https://bistro.example/m.pdf",
                "caption": "Menu",
                "filename": "menu.pdf",
            },
            "options": {"urlOptions": {"trackClicks": False}},
        }
    ],
    "audio, urlOptions dropped": [
        {
            "content": {"type": "AUDIO", "mediaUrl": "https://bistro.example/hi.ogg", "voice": True},
            "options": {"urlOptions": {}, "callbackData": "x"},
        }
    ],
    "location": [
        {
            "content": {
                "type": "LOCATION",
                "latitude": 45.8131,
                "longitude": 15.977,
                "name": "Bistro Lipa",
                "address": "Ilica 1, Zagreb",
                "replyToMessageId": "wamid.HBgLMzg1",
            }
        }
    ],
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_payload_conforms_to_the_spec(make_message, webhooks, case):
    messages = [make_message(**fields) for fields in CASES[case]]
    requests = build_payload("whatsapp", messages, webhooks)
    assert requests
    for request in requests:
        assert check_request("whatsapp", request.path, request.body) == []


def test_the_checker_catches_a_wrong_payload(make_message, webhooks):
    (request,) = build_payload("whatsapp", [make_message()], webhooks)
    broken = json.loads(json.dumps(request.body))
    broken["messages"][0]["content"]["templateData"]["buttons"] = [
        {"type": "COPY_CODE", "parameter": "X" * 16}
    ]
    broken["messages"][0]["validityPeriod"] = 60
    found = check_request("whatsapp", request.path, broken)
    assert any("COPY_CODE" in p for p in found), found
    assert "$.messages[0].validityPeriod: the spec declares no such key" in found
