"""Request building: the body of `/rcs/2/messages`, message ids, batching and splitting."""

from __future__ import annotations

import msgspec
import pytest

from channel_engine import ChannelEngineError, ProviderRequest
from channel_engine_rcs import payload as payload_module
from channel_engine_rcs import plugin
from channel_engine_rcs.payload import MAX_BODY_BYTES, build_requests

build_payload = plugin.build_payload

CARD = {"title": "Autumn menu", "mediaUrl": "https://bistro-lipa.example/img/autumn.jpg"}


def only(requests: list[ProviderRequest]) -> dict:
    assert len(requests) == 1
    return requests[0].body


def test_a_plain_text_message(make_message, webhooks):
    requests = build_payload("rcs", [make_message()], webhooks)
    assert requests == [
        ProviderRequest(
            path="/rcs/2/messages",
            body={
                "messages": [
                    {
                        "sender": "BistroLipa",
                        "destinations": [{"to": "385981112233", "messageId": "rcs-0001"}],
                        "content": {"text": "Your table at Bistro Lipa is ready.", "type": "TEXT"},
                        "webhooks": {
                            "delivery": {"url": webhooks.reports, "intermediateReport": True},
                            "seen": {"url": webhooks.reports},
                            "contentType": "application/json",
                        },
                    }
                ],
                "options": {"messageOrdering": {"respectOrder": False}},
            },
            message_ids=["rcs-0001"],
        )
    ]


def test_other_channels_are_not_ours(make_message, webhooks):
    assert build_payload("sms", [make_message()], webhooks) is None


def test_a_card_gets_infobips_nesting_and_defaults(make_message, webhooks):
    content = {
        "type": "CARD",
        "card": {
            **CARD,
            "thumbnailUrl": "https://b.example/t.jpg",
            "suggestions": [{"type": "REPLY", "text": "Yes"}],
        },
    }
    body = only(build_payload("rcs", [make_message(content=content)], webhooks))
    assert body["messages"][0]["content"] == {
        "orientation": "VERTICAL",
        "alignment": "LEFT",
        "content": {
            "title": "Autumn menu",
            "media": {
                "file": {"url": CARD["mediaUrl"]},
                "thumbnail": {"url": "https://b.example/t.jpg"},
                "height": "MEDIUM",
            },
            "suggestions": [{"text": "Yes", "postbackData": "Yes", "type": "REPLY"}],
        },
        "type": "CARD",
    }


def test_a_carousel_file_and_layout_choices_pass_through(make_message, webhooks):
    carousel = {"type": "CAROUSEL", "cardWidth": "SMALL", "cards": [CARD, {"title": "Soup"}]}
    file = {
        "type": "FILE",
        "fileUrl": "https://b.example/menu.pdf",
        "suggestions": [{"type": "REPLY", "text": "ok"}],
    }
    card = {
        "type": "CARD",
        "orientation": "HORIZONTAL",
        "alignment": "RIGHT",
        "card": {**CARD, "mediaHeight": "TALL"},
    }
    body = only(build_payload("rcs", [make_message(content=c) for c in (carousel, file, card)], webhooks))
    first, second, third = (m["content"] for m in body["messages"])
    assert first == {
        "cardWidth": "SMALL",
        "contents": [
            {"title": "Autumn menu", "media": {"file": {"url": CARD["mediaUrl"]}, "height": "MEDIUM"}},
            {"title": "Soup"},
        ],
        "type": "CAROUSEL",
    }
    assert second == {
        "file": {"url": "https://b.example/menu.pdf"},
        "suggestions": [{"text": "ok", "postbackData": "ok", "type": "REPLY"}],
        "type": "FILE",
    }
    assert (third["orientation"], third["alignment"], third["content"]["media"]["height"]) == (
        "HORIZONTAL",
        "RIGHT",
        "TALL",
    )


def test_suggestions_keep_their_fields_and_calendar_times_take_infobips_format(make_message, webhooks):
    suggestions = [
        {
            "type": "OPEN_URL",
            "text": "Menu",
            "url": "https://b.example",
            "application": "WEBVIEW",
            "webviewViewMode": "TALL",
        },
        {"type": "SHOW_LOCATION", "text": "Map", "latitude": 45.8, "longitude": 15.9, "postbackData": "map"},
        {
            "type": "CREATE_CALENDAR_EVENT",
            "text": "Save",
            "title": "Truffle night",
            "startTime": "2031-05-01T19:00:00+02:00",
            "endTime": "2031-05-01T22:00:00.250Z",
        },
    ]
    body = only(
        build_payload("rcs", [make_message(content={"text": "hi", "suggestions": suggestions})], webhooks)
    )
    assert body["messages"][0]["content"]["suggestions"] == [
        {
            "text": "Menu",
            "postbackData": "Menu",
            "url": "https://b.example",
            "application": "WEBVIEW",
            "webviewViewMode": "TALL",
            "type": "OPEN_URL",
        },
        {"text": "Map", "postbackData": "map", "latitude": 45.8, "longitude": 15.9, "type": "SHOW_LOCATION"},
        {
            "text": "Save",
            "postbackData": "Save",
            "title": "Truffle night",
            "startTime": "2031-05-01T19:00:00.000+0200",
            "endTime": "2031-05-01T22:00:00.250+0000",
            "type": "CREATE_CALENDAR_EVENT",
        },
    ]


def test_message_options_failover_and_callback_data(make_message, webhooks):
    message = make_message(
        content={
            "text": "hi",
            "smsFailover": {"text": "Your table is ready.", "sender": "InfoSMS"},
            "campaignReferenceId": "autumn",
        },
        options={"validityPeriod": {"amount": 2, "timeUnit": "HOURS"}, "callbackData": "contact=7"},
    )
    (entry,) = only(build_payload("rcs", [message], webhooks))["messages"]
    assert entry["options"] == {
        "validityPeriod": {"amount": 2, "timeUnit": "HOURS"},
        "campaignReferenceId": "autumn",
        "smsFailover": {"sender": "InfoSMS", "text": "Your table is ready."},
    }
    assert entry["webhooks"]["callbackData"] == "contact=7"
    assert "smsFailover" not in entry["content"] and "campaignReferenceId" not in entry["content"]


def test_tracking_goes_to_the_engine_unless_the_host_names_its_own(make_message, webhooks):
    ours = make_message(options={"urlOptions": {}})
    theirs = make_message(
        options={"urlOptions": {"trackingUrl": "https://c.example/in", "customDomain": "go.example"}}
    )
    shortening = make_message(options={"urlOptions": {"trackClicks": False, "removeProtocol": True}})
    requests = build_payload("rcs", [ours, theirs, shortening], webhooks)
    assert [r.body["options"]["tracking"] for r in requests] == [
        {"shortenUrl": True, "trackClicks": True, "trackingUrl": webhooks.clicks, "removeProtocol": False},
        {
            "shortenUrl": True,
            "trackClicks": True,
            "trackingUrl": "https://c.example/in",
            "removeProtocol": False,
            "customDomain": "go.example",
        },
        {"shortenUrl": True, "trackClicks": False, "removeProtocol": True},
    ]
    assert [r.message_ids for r in requests] == [[ours.id], [theirs.id], [shortening.id]]


def test_identical_messages_share_an_entry_and_request_options_split_requests(make_message, webhooks):
    messages = [
        make_message(),
        make_message(destination="385981112299"),
        make_message(options={"bulkId": "autumn-1"}),
        make_message(sender="Other"),
        make_message(destination="385981112298", options={"bulkId": "autumn-1"}),
    ]
    first, second = build_payload("rcs", messages, webhooks)
    assert [len(m["destinations"]) for m in first.body["messages"]] == [2, 1]
    assert first.message_ids == ["rcs-0001", "rcs-0002", "rcs-0004"]
    assert second.body["options"] == {
        "schedule": {"bulkId": "autumn-1"},
        "messageOrdering": {"respectOrder": False},
    }
    assert second.message_ids == ["rcs-0003", "rcs-0005"]
    assert second.body["messages"][0]["destinations"] == [
        {"to": "385981112233", "messageId": "rcs-0003"},
        {"to": "385981112298", "messageId": "rcs-0005"},
    ]


def test_a_batch_is_cut_at_max_batch(make_message, webhooks):
    messages = [make_message(destination=f"38598111{i:04d}") for i in range(7)]
    requests = build_requests("rcs", messages, webhooks, max_batch=3)
    assert [len(r.message_ids) for r in requests] == [3, 3, 1]
    assert [i for r in requests for i in r.message_ids] == [m.id for m in messages]


def test_a_batch_is_cut_before_infobips_10_mb_limit(make_message, webhooks, monkeypatch):
    monkeypatch.setattr(payload_module, "MAX_BODY_BYTES", 20_000)
    cards = [{"title": f"Card {n}", "description": "d" * 1900} for n in range(2)]
    messages = [
        make_message(content={"type": "CAROUSEL", "cards": cards, "campaignReferenceId": f"c{i}"})
        for i in range(9)
    ]
    requests = build_requests("rcs", messages, webhooks, max_batch=1000)
    assert len(requests) == 3  # about 4.2 kB a message: four fit in 20 kB
    assert [i for r in requests for i in r.message_ids] == [m.id for m in messages]
    for request in requests:
        assert len(msgspec.json.encode(request.body)) <= 20_000
    # Each request was filled: the next one's first message would not have fitted.
    sizes = [len(msgspec.json.encode(r.body)) for r in requests]
    assert all(size > 20_000 - 5_000 for size in sizes[:-1]), sizes


def test_the_size_estimate_is_the_body_size_but_for_a_few_commas(make_message, webhooks):
    messages = [
        make_message(destination=f"38598111{i:04d}", content={"text": f"t{i % 3}"}) for i in range(10)
    ]
    batch = payload_module._Batch({"messageOrdering": {"respectOrder": False}})
    for message in messages:
        batch.add(payload_module._encode(payload_module.message_entry(message, webhooks)), message)
    (request,) = build_requests("rcs", messages, webhooks)
    exact = len(msgspec.json.encode(request.body))
    # The estimate counts a comma before every entry and destination; the first of each has none.
    assert len(batch.keys) == len(request.body["messages"]) == 3
    assert batch.size == exact + 1 + len(batch.keys)


def test_the_real_limit_leaves_room_under_10_mb():
    assert MAX_BODY_BYTES < 10_000_000


def test_a_message_without_an_id_is_a_bug(make_message, webhooks):
    message = msgspec.structs.replace(make_message(), id=None)
    with pytest.raises(ChannelEngineError, match="without an id"):
        build_payload("rcs", [message], webhooks)
