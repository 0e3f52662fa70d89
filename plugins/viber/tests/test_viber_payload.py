"""What `build_payload` puts where: content per kind, options, webhooks, ids, grouping and batching."""

from __future__ import annotations

import msgspec
import pytest

from channel_engine import ChannelEngineError
from channel_engine_viber import plugin
from channel_engine_viber.payload import build_requests

build_payload = plugin.build_payload


IMAGE = "https://cdn.bistro.example/spring/dish.jpg"
BUTTON = {"title": "Book a table", "url": "https://bistro.example/book"}


def only_entry(make_message, webhooks, **fields):
    (request,) = build_payload("viber", [make_message(**fields)], webhooks)
    (entry,) = request.body["messages"]
    return entry


def test_a_text_message(make_message, webhooks):
    message = make_message(content={"text": "Your table is ready"})
    (request,) = build_payload("viber", [message], webhooks)
    assert request.path == "/viber/2/messages"
    assert request.message_ids == [message.id]
    assert request.body == {
        "messages": [
            {
                "sender": "BistroLipa",
                "destinations": [{"to": "385981112233", "messageId": message.id}],
                "content": {"text": "Your table is ready", "type": "TEXT"},
                "webhooks": {
                    "delivery": {"url": webhooks.reports, "intermediateReport": True},
                    "seen": {"url": webhooks.reports},
                    "contentType": "application/json",
                },
            }
        ]
    }


def test_the_button_url_is_infobips_action(make_message, webhooks):
    entry = only_entry(make_message, webhooks, content={"text": "Menu", "button": BUTTON})
    assert entry["content"] == {
        "text": "Menu",
        "button": {"title": "Book a table", "action": "https://bistro.example/book"},
        "type": "TEXT",
    }


def test_an_image_with_text_and_button(make_message, webhooks):
    content = {"imageUrl": IMAGE, "text": "New", "button": BUTTON, "showImageInFullScreen": False}
    entry = only_entry(make_message, webhooks, content=content)
    assert entry["content"] == {
        "text": "New",
        "mediaUrl": IMAGE,
        "showImageInFullScreen": False,
        "button": {"title": "Book a table", "action": "https://bistro.example/book"},
        "type": "IMAGE",
    }


@pytest.mark.parametrize(("duration", "iso"), [(42, "PT42S"), ("PT1M30S", "PT1M30S")])
def test_a_video_takes_an_iso_duration(make_message, webhooks, duration, iso):
    content = {
        "videoUrl": "https://cdn.example/tour.mp4",
        "thumbnailUrl": "https://cdn.example/tour.jpg",
        "videoDuration": duration,
        "button": {"title": "Watch"},
    }
    entry = only_entry(make_message, webhooks, content=content)
    assert entry["content"] == {
        "mediaUrl": "https://cdn.example/tour.mp4",
        "mediaDuration": iso,
        "thumbnailUrl": "https://cdn.example/tour.jpg",
        "button": {"title": "Watch"},
        "type": "VIDEO",
    }


def test_a_file(make_message, webhooks):
    entry = only_entry(
        make_message, webhooks, content={"fileUrl": "https://x.example/m.pdf", "fileName": "m.pdf"}
    )
    assert entry["content"] == {"fileName": "m.pdf", "mediaUrl": "https://x.example/m.pdf", "type": "FILE"}


def test_message_options(make_message, webhooks):
    entry = only_entry(
        make_message,
        webhooks,
        content={
            "text": "Booked",
            "label": "promotional",
            "trackingData": "booking-77",
            "campaignReferenceId": "spring",
            "smsFailover": {"text": "Booked (SMS)", "validityPeriod": {"amount": 30}},
        },
        options={"validityPeriod": {"amount": 2, "timeUnit": "HOURS"}, "callbackData": "contact=0031"},
    )
    assert entry["options"] == {
        "validityPeriod": {"amount": 2, "timeUnit": "HOURS"},
        "label": "PROMOTIONAL",
        "trackingData": "booking-77",
        "campaignReferenceId": "spring",
        "smsFailover": {"text": "Booked (SMS)", "validityPeriod": {"amount": 30, "timeUnit": "MINUTES"}},
    }
    assert entry["webhooks"]["callbackData"] == "contact=0031"


def test_tracking_sends_clicks_to_the_engine_unless_the_host_names_a_url(make_message, webhooks):
    ours = make_message(options={"urlOptions": {}})
    theirs = make_message(options={"urlOptions": {"trackingUrl": "https://clicks.example.org/in"}})
    untracked = make_message(options={"urlOptions": {"trackClicks": False, "customDomain": "go.example.org"}})
    requests = build_payload("viber", [ours, theirs, untracked], webhooks)
    assert [r.body["options"]["tracking"] for r in requests] == [
        {"shortenUrl": True, "trackClicks": True, "trackingUrl": webhooks.clicks, "removeProtocol": False},
        {
            "shortenUrl": True,
            "trackClicks": True,
            "trackingUrl": "https://clicks.example.org/in",
            "removeProtocol": False,
        },
        {"shortenUrl": True, "trackClicks": False, "removeProtocol": False, "customDomain": "go.example.org"},
    ]
    assert [r.message_ids for r in requests] == [[ours.id], [theirs.id], [untracked.id]]


def test_bulk_id_is_request_level_and_speed_limit_is_never_sent(make_message, webhooks):
    options = {"bulkId": "spring-1", "speedLimit": {"amount": 5, "timeUnit": "MINUTE"}}
    a, b, c = make_message(options=options), make_message(), make_message(options=options)
    first, second = build_payload("viber", [a, b, c], webhooks)
    assert first.body["options"] == {"schedule": {"bulkId": "spring-1"}}
    assert first.message_ids == [a.id, c.id]
    assert "options" not in second.body and second.message_ids == [b.id]
    assert "sendingSpeedLimit" not in msgspec.json.encode(first.body).decode()


def test_messages_that_differ_only_in_destination_share_an_entry(make_message, webhooks):
    same = [make_message(destination=f"38598111220{i}") for i in range(3)]
    other = make_message(content={"text": "Something else"})
    (request,) = build_payload("viber", [same[0], other, same[1], same[2]], webhooks)
    first, second = request.body["messages"]
    assert first["destinations"] == [{"to": m.destination, "messageId": m.id} for m in same]
    assert second["destinations"] == [{"to": other.destination, "messageId": other.id}]
    assert request.message_ids == [m.id for m in same] + [other.id]


def test_different_callback_data_keeps_entries_apart(make_message, webhooks):
    a = make_message(options={"callbackData": "a"})
    b = make_message(options={"callbackData": "b"})
    (request,) = build_payload("viber", [a, b], webhooks)
    assert [e["webhooks"]["callbackData"] for e in request.body["messages"]] == ["a", "b"]


def test_batches_are_cut_at_max_batch(make_message, webhooks):
    messages = [make_message(destination=f"3859811{i:05d}") for i in range(7)]
    requests = build_requests("viber", messages, webhooks, max_batch=3)
    assert [len(r.message_ids) for r in requests] == [3, 3, 1]
    assert [i for r in requests for i in r.message_ids] == [m.id for m in messages]


def test_a_message_without_an_id_is_an_error(make_message, webhooks):
    message = msgspec.structs.replace(make_message(), id=None)
    with pytest.raises(ChannelEngineError, match="without an id"):
        build_payload("viber", [message], webhooks)
