"""Every request we build conforms to Infobip's Kakao operations in kakao.json, with no key the spec lacks;
and the spec's own checks catch what our validation refuses, so the limits we took from it are the spec's."""

from __future__ import annotations

import json

import pytest

from channel_engine.testing.conformance import check_request
from channel_engine_kakao import plugin

build_payload = plugin.build_payload
sample_message = plugin.sample_message
validate_message = plugin.validate_message

ALIM, CHINGU = "/kakao-alim/1/messages", "/kakao-chingu/1/messages"
PATHS = {"kakao-alim": ALIM, "kakao-chingu": CHINGU}
URL = "https://m.bistro-lipa.example/menu"
PC = "https://bistro-lipa.example"
FAILOVER = {
    "text": "테이블이 준비되었습니다.",
    "sender": "BistroLipa",
    "title": "예약 안내",
    "resellerCode": 123456789,
    "validityPeriod": {"amount": 1, "timeUnit": "HOURS"},
}
ALIM_BUTTONS = [
    {"type": "URL", "name": "메뉴", "urlMobile": URL, "urlPc": PC, "target": "out"},
    {"type": "APP_LINK", "name": "앱", "schemeAndroid": "lipa://m", "schemeIos": "lipa://m", "urlMobile": URL,
     "urlPc": URL},
    {"type": "DELIVERY_TRACKING", "name": "배송 조회"},
    {"type": "CHATBOT_SWITCH", "name": "상담", "chatExtra": "table=4", "chatEvent": "handover"},
    {"type": "BOT_KEYWORD", "name": "메뉴"},
]  # fmt: skip
MORE_ALIM_BUTTONS = [
    {"type": "MESSAGE_DELIVERY", "name": "전달"},
    {"type": "ADD_CHANNEL", "name": "채널 추가"},
]
CHINGU_BUTTONS = [
    {
        "type": "URL",
        "name": "메뉴",
        "urlMobile": URL,
        "urlPc": "https://bistro-lipa.example",
        "target": "OUT",
    },
    {"type": "APP_LINK", "name": "앱", "schemeAndroid": "lipa://m", "schemeIos": "lipa://m"},
    {"type": "APP_LINK", "name": "웹", "schemeIos": "lipa://m", "urlMobile": URL, "urlPc": URL},
]
IMAGE = {"url": "https://cdn.bistro-lipa.example/brunch.jpg", "link": "https://bistro-lipa.example/brunch"}

# Each case: (channel, [message fields...]); every message is built with the `make_message` fixture.
CASES = {
    "alim plain": ("kakao-alim", [{}]),
    "alim every button type, title, group key": (
        "kakao-alim",
        [
            {
                "content": {
                    "templateCode": "T1",
                    "text": "hi",
                    "title": "제목",
                    "buttons": ALIM_BUTTONS,
                    "groupKey": "g",
                }
            },
            {"content": {"templateCode": "T1", "text": "hi", "buttons": MORE_ALIM_BUTTONS}},
        ],
    ),
    "alim failover, campaign, validity, callback, bulk": (
        "kakao-alim",
        [
            {
                "content": {
                    "templateCode": "T1",
                    "text": "hi",
                    "smsFailover": FAILOVER,
                    "campaignReferenceId": "c",
                },
                "options": {
                    "validityPeriod": {"amount": 2, "timeUnit": "HOURS"},
                    "bulkId": "dinner-1",
                    "callbackData": json.dumps({"contactKey": "0031"}),
                },
            }
        ],
    ),
    "alim failover text only": (
        "kakao-alim",
        [{"content": {"templateCode": "T", "text": "x", "smsFailover": {"text": "x"}}}],
    ),
    "chingu text": ("kakao-chingu", [{}]),
    "chingu text with buttons and targeting": (
        "kakao-chingu",
        [{"content": {"text": "hi", "buttons": CHINGU_BUTTONS, "targeting": "ALL_CONSENT"}}],
    ),
    "chingu image with link": ("kakao-chingu", [{"content": {"text": "hi", "image": IMAGE}}]),
    "chingu image without link, failover": (
        "kakao-chingu",
        [{"content": {"text": "hi", "image": {"url": IMAGE["url"]}, "smsFailover": FAILOVER}}],
    ),
    "chingu tracking to the engine": ("kakao-chingu", [{"options": {"urlOptions": {}}}]),
    "chingu tracking to the host": (
        "kakao-chingu",
        [
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
    ),
    "chingu shortening only": ("kakao-chingu", [{"options": {"urlOptions": {"trackClicks": False}}}]),
    "chingu mixed batch": (
        "kakao-chingu",
        [
            {},
            {"destination": "66855538125"},
            {"sender": "OTHER-KEY"},
            {"options": {"bulkId": "b-2"}},
            {
                "content": {"text": "hi", "image": IMAGE, "campaignReferenceId": "c"},
                "options": {"validityPeriod": {"amount": 90, "timeUnit": "SECONDS"}, "callbackData": "c=2"},
            },
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_request_we_build_conforms_to_the_spec(case, make_message, webhooks):
    channel, fields = CASES[case]
    messages = [make_message(channel, **f) for f in fields]
    assert [p for m in messages for p in validate_message(m)] == []
    requests = build_payload(channel, messages, webhooks)
    assert sorted(i for r in requests for i in r.message_ids) == sorted(m.id for m in messages)
    for request in requests:
        assert request.path == PATHS[channel]
        assert check_request("kakao", request.path, request.body) == []


@pytest.mark.parametrize("channel", sorted(PATHS))
@pytest.mark.parametrize("with_link", [False, True])
def test_the_demo_messages_conform_too(make_message, webhooks, channel, with_link):
    for index in (0, 1):
        raw = sample_message(channel, index, "41790000997", with_link)
        message = make_message(channel, **{k: v for k, v in raw.items() if k != "channel"})
        (request,) = build_payload(channel, [message], webhooks)
        assert check_request("kakao", request.path, request.body) == []


# --- the limits we refuse at are where the spec's schema refuses too ----------------------------------


def button(kind: str, name: str = "n", **fields: str) -> dict:
    return {"type": kind, "name": name, **fields}


def body_with(channel: str, content: dict, make_message, webhooks) -> dict:
    """A request built from a valid message, with Infobip's `content` then changed to `content`."""
    (request,) = build_payload(channel, [make_message(channel)], webhooks)
    request.body["messages"][0]["content"] |= content
    return request.body


@pytest.mark.parametrize(
    ("channel", "content", "breaks"),
    [
        ("kakao-alim", {"text": "a" * 1001}, "text"),
        ("kakao-alim", {"templateCode": "T" * 31}, "templateCode"),
        ("kakao-alim", {"title": "t" * 51}, "title"),
        ("kakao-alim", {"buttons": [button("BOT_KEYWORD")] * 6}, "buttons"),
        ("kakao-alim", {"buttons": [button("BOT_KEYWORD", name="n" * 29)]}, "name"),
        ("kakao-alim", {"buttons": [button("URL", urlMobile="u" * 501)]}, "urlMobile"),
        ("kakao-alim", {"buttons": [button("URL", urlMobile="u", target="_blank")]}, "target"),
        ("kakao-alim", {"buttons": [button("APP_LINK", schemeIos="s" * 501)]}, "schemeIos"),
        ("kakao-alim", {"buttons": [button("CHATBOT_SWITCH", chatEvent="e" * 51)]}, "chatEvent"),
        ("kakao-alim", {"image": {"url": "https://cdn.example/a.jpg"}}, "image"),
        ("kakao-chingu", {"text": "a" * 1301}, "text"),
        ("kakao-chingu", {"type": "IMAGE_FREE_FORM", "image": {"url": "u" * 251}}, "url"),
        ("kakao-chingu", {"type": "IMAGE_FREE_FORM", "image": {"url": "u", "link": "l" * 251}}, "link"),
        ("kakao-chingu", {"buttons": [button("URL", name="n" * 15, urlMobile="u")]}, "name"),
        ("kakao-chingu", {"buttons": [button("URL", urlMobile="u", target="out")]}, "target"),
        ("kakao-chingu", {"buttons": [button("APP_LINK", schemeAndroid="s" * 501)]}, "scheme"),
    ],
)  # fmt: skip
def test_the_spec_refuses_what_we_refuse(make_message, webhooks, channel, content, breaks):
    problems = check_request("kakao", PATHS[channel], body_with(channel, content, make_message, webhooks))
    assert problems and all(breaks in p for p in problems), problems


def test_the_spec_requires_a_sender_as_we_do(make_message, webhooks):
    for channel, path in PATHS.items():
        body = body_with(channel, {}, make_message, webhooks)
        del body["messages"][0]["sender"]
        assert check_request("kakao", path, body) == ["$.messages[0]: 'sender' is a required property"]


def test_alimtalk_has_no_tracking_options(make_message, webhooks):
    body = body_with("kakao-alim", {}, make_message, webhooks)
    body["options"] = {"tracking": {"shortenUrl": True}}
    assert check_request("kakao", ALIM, body) == ["$.options.tracking: the spec declares no such key"]
