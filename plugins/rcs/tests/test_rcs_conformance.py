"""Every request we build conforms to Infobip's `/rcs/2/messages` schema, with no key the spec lacks."""

from __future__ import annotations

import json

import msgspec
import pytest

from channel_engine.testing.conformance import check_request, spec_document
from channel_engine_rcs import cards, plugin, suggestions, validation
from channel_engine_rcs.payload import MAX_BODY_BYTES

build_payload = plugin.build_payload
validate_message = plugin.validate_message

SEND = "/rcs/2/messages"
CARD = {
    "title": "Autumn tasting menu",
    "description": "Five courses of truffles and chestnuts.",
    "mediaUrl": "https://bistro-lipa.example/img/autumn.mp4",
    "thumbnailUrl": "https://bistro-lipa.example/img/autumn.jpg",
    "mediaHeight": "TALL",
}
EVERY_SUGGESTION = [
    {"type": "REPLY", "text": "Book a table", "postbackData": "book"},
    {"type": "REPLY", "text": "Not now"},
    {"type": "OPEN_URL", "text": "Menu", "url": "https://bistro-lipa.example/menu"},
    {
        "type": "OPEN_URL",
        "text": "Menu here",
        "url": "https://bistro-lipa.example/menu",
        "application": "WEBVIEW",
        "webviewViewMode": "FULL",
    },
    {"type": "DIAL_PHONE", "text": "Call us", "phoneNumber": "+385981112233"},
    {
        "type": "SHOW_LOCATION",
        "text": "Find us",
        "latitude": 45.8131,
        "longitude": 15.9775,
        "label": "Bistro",
    },
    {"type": "SHOW_LOCATION", "text": "Find us", "latitude": 45, "longitude": 16},
    {"type": "REQUEST_LOCATION", "text": "Share location"},
    {
        "type": "CREATE_CALENDAR_EVENT",
        "text": "Save the date",
        "title": "Truffle night",
        "description": "Dinner at Bistro Lipa",
        "startTime": "2031-05-01T19:00:00+02:00",
        "endTime": "2031-05-01T22:00:00+02:00",
    },
]

# Each case: a list of message fields; every message is built with the `make_message` fixture.
CASES = {
    "plain text": [{}],
    "text with every suggestion": [{"content": {"text": "Pick one", "suggestions": EVERY_SUGGESTION}}],
    "file": [{"content": {"type": "FILE", "fileUrl": "https://b.example/menu.pdf"}}],
    "video with thumbnail and suggestions": [
        {
            "content": {
                "type": "FILE",
                "fileUrl": "https://b.example/v.mp4",
                "thumbnailUrl": "https://b.example/t.jpg",
                "suggestions": EVERY_SUGGESTION[:2],
            }
        }
    ],
    "card with defaults": [{"content": {"type": "CARD", "card": {"title": "Autumn"}}}],
    "card with everything": [
        {
            "content": {
                "type": "CARD",
                "orientation": "HORIZONTAL",
                "alignment": "RIGHT",
                "card": {**CARD, "suggestions": EVERY_SUGGESTION[:4]},
                "suggestions": EVERY_SUGGESTION,
            }
        }
    ],
    "carousel": [
        {
            "content": {
                "type": "CAROUSEL",
                "cardWidth": "SMALL",
                "cards": [{**CARD, "suggestions": EVERY_SUGGESTION[2:6]}, {"mediaUrl": CARD["mediaUrl"]}]
                + [{"title": f"Dish {n}"} for n in range(8)],
                "suggestions": EVERY_SUGGESTION[:1],
            }
        }
    ],
    "sms failover, validity and campaign": [
        {
            "content": {
                "text": "hi",
                "smsFailover": {"text": "Your table is ready.", "sender": "InfoSMS"},
                "campaignReferenceId": "autumn",
            },
            "options": {"validityPeriod": {"amount": 36, "timeUnit": "HOURS"}},
        },
        {"content": {"text": "hi", "smsFailover": {"text": "Your table is ready."}}},
    ],
    "tracking to the engine": [{"options": {"urlOptions": {}}}],
    "tracking to the host": [
        {
            "options": {
                "urlOptions": {
                    "trackingUrl": "https://clicks.example.org/in",
                    "removeProtocol": True,
                    "customDomain": "go.example.org",
                }
            }
        }
    ],
    "shortening only": [{"options": {"urlOptions": {"trackClicks": False}}}],
    "callback data": [{"options": {"callbackData": json.dumps({"contactKey": "0031", "de": "Guests"})}}],
    "bulk id and speed limit": [
        {"options": {"bulkId": "autumn-menu-1", "speedLimit": {"amount": 5, "timeUnit": "MINUTE"}}}
    ],
    "no sender": [{"sender": None}],
    "mixed batch": [
        {},
        {"destination": "385981112299"},
        {"sender": "Other", "options": {"callbackData": "c=2"}},
        {"options": {"urlOptions": {}}},
        {"options": {"bulkId": "b-2", "validityPeriod": {"amount": 90, "timeUnit": "SECONDS"}}},
        {"content": {"type": "CARD", "card": CARD}},
    ],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_request_we_build_conforms_to_the_spec(case, make_message, webhooks):
    messages = [make_message(**fields) for fields in CASES[case]]
    for message in messages:
        assert validate_message(message) == []
    requests = build_payload("rcs", messages, webhooks)
    assert requests
    assert sorted(i for r in requests for i in r.message_ids) == sorted(m.id for m in messages)
    for request in requests:
        assert request.path == SEND
        assert check_request("rcs", SEND, request.body) == []


def test_the_largest_valid_message_conforms_and_fits_one_request(make_message, webhooks):
    """Every field at its longest: the size the batch cutter must plan for."""
    suggestion = {
        "type": "OPEN_URL",
        "text": "x" * 25,
        "postbackData": "p" * 2024,
        "url": "https://b.example/" + "u" * 2030,
    }
    card = {
        "title": "t" * 200,
        "description": "d" * 2000,
        "mediaUrl": "https://b.example/" + "m" * 2030,
        "thumbnailUrl": "https://b.example/" + "n" * 2030,
        "suggestions": [suggestion] * 4,
    }
    content = {
        "type": "CAROUSEL",
        "cards": [card] * 10,
        "suggestions": [suggestion] * 11,
        "smsFailover": {"text": "ž" * 67 * 255, "sender": "InfoSMS"},
        "campaignReferenceId": "c" * 255,
    }
    message = make_message(content=content, options={"callbackData": "c" * 4000})
    assert validate_message(message) == []
    (request,) = build_payload("rcs", [message], webhooks)
    assert check_request("rcs", SEND, request.body) == []
    size = len(msgspec.json.encode(request.body))
    assert size < 400_000 < MAX_BODY_BYTES // 20  # so a 9 MB request always holds 20 of them


# --- our limits are the spec's ---------------------------------------------------------------------------


def schema(name: str) -> dict:
    """A schema of the send operation by its short name (the spec prefixes each with a hash)."""
    document = spec_document("rcs")
    ref = document["paths"][SEND]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    prefix = ref.rsplit("/", 1)[1].rsplit(".", 1)[0]
    return document["components"]["schemas"][f"{prefix}.{name}"]


def test_our_limits_are_the_specs():
    props = lambda name: schema(name)["properties"]  # noqa: E731
    text, carousel, card = (
        props("RcsOutboundTextContent"),
        props("RcsOutboundCarouselContent"),
        props("CardContent"),
    )
    assert text["text"]["maxLength"] == validation.TEXT_MAX
    assert text["suggestions"]["maxItems"] == validation.SUGGESTIONS_MAX
    assert (carousel["contents"]["minItems"], carousel["contents"]["maxItems"]) == (
        validation.CAROUSEL_MIN,
        validation.CAROUSEL_MAX,
    )
    assert card["title"]["maxLength"] == cards.TITLE_MAX
    assert card["description"]["maxLength"] == cards.DESCRIPTION_MAX
    assert card["suggestions"]["maxItems"] == cards.SUGGESTIONS_MAX
    assert props("CardResourceSchema")["url"]["maxLength"] == cards.MEDIA_URL_MAX
    reply = schema("ReplySuggestion")["allOf"][1]["properties"]
    assert (reply["text"]["maxLength"], reply["postbackData"]["maxLength"]) == (
        suggestions.TEXT_MAX,
        suggestions.POSTBACK_MAX,
    )
    assert schema("OpenUrlSuggestion")["allOf"][1]["properties"]["url"]["maxLength"] == suggestions.URL_MAX
    assert (
        schema("ShowLocationSuggestion")["allOf"][1]["properties"]["label"]["maxLength"]
        == suggestions.LABEL_MAX
    )
    event = schema("CreateCalendarEventSuggestion")["allOf"][1]["properties"]
    assert (event["title"]["maxLength"], event["description"]["maxLength"]) == (
        suggestions.EVENT_TITLE_MAX,
        suggestions.EVENT_DESCRIPTION_MAX,
    )
    pattern = schema("DialPhoneSuggestion")["allOf"][1]["properties"]["phoneNumber"]["pattern"]
    assert pattern == "^" + suggestions.PHONE_NUMBER.pattern + "$"
