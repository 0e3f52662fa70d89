"""Request building: the body of `/mms/2/messages`, message ids, batching and splitting; and every shape we
build conforms to Infobip's schema with no key the spec lacks."""

from __future__ import annotations

import json

import pytest

from channel_engine import ChannelEngineError, ProviderRequest
from channel_engine.testing.conformance import check_request
from channel_engine_mms import plugin
from channel_engine_mms.payload import build_requests

build_payload = plugin.build_payload

SEND = "/mms/2/messages"


def only(requests: list[ProviderRequest]) -> dict:
    assert len(requests) == 1
    (request,) = requests
    assert request.path == SEND
    assert check_request("mms", SEND, request.body) == []
    return request.body


def test_a_menu_card(make_message, webhooks):
    message = make_message(options={"callbackData": "contact=0031"})
    assert build_payload("mms", [message], webhooks) == [
        ProviderRequest(
            path=SEND,
            body={
                "messages": [
                    {
                        "sender": "14155550100",
                        "destinations": [{"to": "14155550123", "messageId": "mms-0001"}],
                        "content": {
                            "title": "Spring menu",
                            "messageSegments": [
                                {
                                    "type": "LINK",
                                    "contentUrl": "https://cdn.bistro-lipa.example/menus/spring.jpg",
                                    "contentType": "image/jpeg",
                                },
                                {"type": "TEXT", "text": "Wild garlic soup is back. Book a table today!"},
                            ],
                        },
                        "webhooks": {
                            "delivery": {
                                "url": "https://engine.example.net/webhooks/infobip/mms/reports",
                                "intermediateReport": True,
                            },
                            "contentType": "application/json",
                            "callbackData": "contact=0031",
                        },
                    }
                ]
            },
            message_ids=["mms-0001"],
        )
    ]


def test_every_kind_of_segment_keeps_its_order_and_type(make_message, webhooks):
    segments = [
        {"type": "text", "text": "Our spring menu"},
        {"type": "image", "url": "https://cdn.example.com/menu.PNG"},
        {"type": "video", "url": "https://cdn.example.com/kitchen", "contentType": "video/mp4"},
        {"type": "audio", "url": "https://cdn.example.com/jingle.mp3", "contentId": "jingle.mp3"},
        {"type": "file", "url": "https://cdn.example.com/bistro.vcf", "contentId": "bistro.vcf"},
        {"type": "file", "url": "https://cdn.example.com/download?id=4"},
        {"type": "image", "url": "https://cdn.example.com/render?w=640"},
    ]
    body = only(build_payload("mms", [make_message(content={"segments": segments})], webhooks))
    content = body["messages"][0]["content"]
    assert "title" not in content
    assert content["messageSegments"] == [
        {"type": "TEXT", "text": "Our spring menu"},
        {"type": "LINK", "contentUrl": "https://cdn.example.com/menu.PNG", "contentType": "image/png"},
        {"type": "LINK", "contentUrl": "https://cdn.example.com/kitchen", "contentType": "video/mp4"},
        {
            "type": "LINK",
            "contentUrl": "https://cdn.example.com/jingle.mp3",
            "contentType": "audio/mpeg",
            "contentId": "jingle.mp3",
        },
        {
            "type": "LINK",
            "contentUrl": "https://cdn.example.com/bistro.vcf",
            "contentType": "text/vcard",
            "contentId": "bistro.vcf",
        },
        # Without a type or a known extension, Infobip goes by what the media server answers.
        {"type": "LINK", "contentUrl": "https://cdn.example.com/download?id=4"},
        {"type": "LINK", "contentUrl": "https://cdn.example.com/render?w=640"},
    ]


def test_message_options(make_message, webhooks):
    message = make_message(
        content={
            "segments": [{"type": "text", "text": "안녕하세요"}],
            "smsFailover": {"text": "Spring menu: https://bistro.example.com", "sender": "BistroLipa"},
            "southKorea": {"resellerCode": "123456789"},
            "campaignReferenceId": "spring-2025",
        },
        options={"validityPeriod": {"amount": 36, "timeUnit": "HOURS"}},
    )
    body = only(build_payload("mms", [message], webhooks))
    korea = {"southKorea": {"resellerCode": 123456789}}
    assert body["messages"][0]["options"] == {
        "validityPeriod": {"amount": 36, "timeUnit": "HOURS"},
        "smsFailover": {
            "sender": "BistroLipa",
            "text": "Spring menu: https://bistro.example.com",
            "regional": korea,  # the failover SMS goes to the same Korean number
        },
        "regional": korea,
        "campaignReferenceId": "spring-2025",
    }


def test_failover_without_sender_or_region(make_message, webhooks):
    message = make_message(
        content={"segments": [{"type": "text", "text": "hi"}], "smsFailover": {"text": "hi"}}
    )
    body = only(build_payload("mms", [message], webhooks))
    assert body["messages"][0]["options"] == {"smsFailover": {"text": "hi"}}


def test_tracking_defaults_to_the_engines_click_url(make_message, webhooks):
    body = only(build_payload("mms", [make_message(options={"urlOptions": {}})], webhooks))
    assert body["options"] == {
        "tracking": {
            "shortenUrl": True,
            "trackClicks": True,
            "trackingUrl": webhooks.clicks,
            "removeProtocol": False,
        }
    }


def test_tracking_to_the_hosts_own_url(make_message, webhooks):
    url_options = {
        "trackingUrl": "https://clicks.example.org/in",
        "removeProtocol": True,
        "customDomain": "go.ex.org",
    }
    body = only(build_payload("mms", [make_message(options={"urlOptions": url_options})], webhooks))
    assert body["options"]["tracking"] == {
        "shortenUrl": True,
        "trackClicks": True,
        "trackingUrl": "https://clicks.example.org/in",
        "removeProtocol": True,
        "customDomain": "go.ex.org",
    }


def test_shortening_without_tracking_names_no_tracking_url(make_message, webhooks):
    body = only(
        build_payload("mms", [make_message(options={"urlOptions": {"trackClicks": False}})], webhooks)
    )
    assert body["options"]["tracking"] == {"shortenUrl": True, "trackClicks": False, "removeProtocol": False}


def test_same_content_shares_one_entry_with_each_messages_id(make_message, webhooks):
    messages = [make_message(destination=f"1415555012{i}") for i in range(3)]
    body = only(build_payload("mms", messages, webhooks))
    (entry,) = body["messages"]
    assert entry["destinations"] == [
        {"to": f"1415555012{i}", "messageId": f"mms-000{i + 1}"} for i in range(3)
    ]


def test_request_level_options_split_the_batch(make_message, webhooks):
    messages = [
        make_message(),
        make_message(options={"bulkId": "spring"}),
        make_message(options={"urlOptions": {}}),
        make_message(options={"bulkId": "spring"}),
        make_message(sender="25256"),
    ]
    requests = build_payload("mms", messages, webhooks)
    assert [r.message_ids for r in requests] == [
        ["mms-0001", "mms-0005"],
        ["mms-0002", "mms-0004"],
        ["mms-0003"],
    ]
    assert [r.body.get("options") for r in requests] == [
        None,
        {"schedule": {"bulkId": "spring"}},
        {
            "tracking": {
                "shortenUrl": True,
                "trackClicks": True,
                "trackingUrl": webhooks.clicks,
                "removeProtocol": False,
            }
        },
    ]
    assert len(requests[0].body["messages"]) == 2  # two senders: two entries in one request
    for request in requests:
        assert check_request("mms", SEND, request.body) == []


def test_a_batch_is_cut_at_max_batch(make_message, webhooks):
    messages = [make_message(destination=f"141555501{i:02d}") for i in range(5)]
    requests = build_requests("mms", messages, webhooks, max_batch=2)
    assert [len(r.message_ids) for r in requests] == [2, 2, 1]
    assert [i for r in requests for i in r.message_ids] == [m.id for m in messages]


def test_a_message_without_an_id_is_a_bug(make_message, webhooks):
    with pytest.raises(ChannelEngineError, match="without an id"):
        build_payload("mms", [make_message(id=None)], webhooks)


# --- conformance of every shape we build ----------------------------------------------------------------

MEDIA = [
    {"type": "image", "url": "https://cdn.example.com/a.gif", "contentId": "a.gif"},
    {"type": "video", "url": "https://cdn.example.com/b.3gp"},
    {"type": "audio", "url": "https://cdn.example.com/c", "contentType": "audio/amr"},
    {"type": "file", "url": "https://cdn.example.com/d.pdf"},
]
CASES = {
    "plain": [{}],
    "text only": [{"content": {"segments": [{"type": "text", "text": "Table for two at 8?"}]}}],
    "media only, no title": [{"content": {"segments": MEDIA}}],
    "no sender": [{"sender": None}],
    "everything": [
        {
            "content": {
                "title": "Menu",
                "segments": [{"type": "text", "text": "hi"}, *MEDIA],
                "smsFailover": {"text": "hi", "sender": "Bistro"},
                "southKorea": {"resellerCode": 123},
                "campaignReferenceId": "c-1",
            },
            "options": {
                "validityPeriod": {"amount": 90, "timeUnit": "SECONDS"},
                "callbackData": json.dumps({"contactKey": "0031"}),
                "bulkId": "b-1",
                "urlOptions": {"removeProtocol": True, "customDomain": "go.example.org"},
                "speedLimit": {"amount": 5, "timeUnit": "MINUTE"},
            },
        }
    ],
    "mixed batch": [
        {},
        {"destination": "14155550199"},
        {"sender": "25256", "options": {"callbackData": "c=2"}},
        {"options": {"urlOptions": {"trackClicks": False}}},
        {"options": {"bulkId": "b-2", "validityPeriod": {"amount": 5}}},
        {"content": {"segments": [{"type": "text", "text": "x"}], "smsFailover": {"text": "x"}}},
    ],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_request_we_build_conforms_to_the_spec(case, make_message, webhooks):
    messages = [make_message(**fields) for fields in CASES[case]]
    requests = build_payload("mms", messages, webhooks)
    assert requests
    assert sorted(i for r in requests for i in r.message_ids) == sorted(m.id for m in messages)
    for request in requests:
        assert request.path == SEND
        assert check_request("mms", SEND, request.body) == []


def test_the_checker_would_catch_a_segment_key_of_the_wrong_type(make_message, webhooks):
    """The conformance check reads MMS segments by their `type`: a text key on a LINK is caught."""
    (request,) = build_payload("mms", [make_message()], webhooks)
    request.body["messages"][0]["content"]["messageSegments"][0]["text"] = "caption"
    assert check_request("mms", SEND, request.body) == [
        "$.messages[0].content.messageSegments[0].text: the spec declares no such key"
    ]
