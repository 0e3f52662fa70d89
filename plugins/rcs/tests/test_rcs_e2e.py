"""End to end over loopback HTTP: our API -> engine -> simulator (as Infobip's /rcs/2/messages) ->
delivery, seen, click and inbound webhooks -> engine -> the recording host. Every wait awaits an event,
never a sleep."""

from __future__ import annotations

import pytest

from channel_engine.testing.harness import run_engine

MENU = "https://bistro-lipa.example/menu"
CARD_CONTENT = {
    "type": "CARD",
    "card": {
        "title": "Autumn tasting menu",
        "description": "Five courses of truffles and chestnuts.",
        "mediaUrl": "https://bistro-lipa.example/img/autumn.jpg",
        "suggestions": [{"type": "OPEN_URL", "text": "See the menu", "url": MENU}],
    },
    "suggestions": [{"type": "REPLY", "text": "Book a table", "postbackData": "book"}],
}


def rcs(destination: str, content: dict | None = None, **extra: object) -> dict:
    message = {
        "channel": "rcs",
        "destination": destination,
        "sender": "BistroLipa",
        "content": content or {"text": "Your table at Bistro Lipa is ready."},
        "host": {"name": "recorder", "context": {"journey": "j-1"}},
    }
    message.update(extra)
    return message


@pytest.fixture
async def h(tmp_path):
    async with run_engine(tmp_path) as harness:
        yield harness


async def test_a_delivered_message_reaches_the_host(h):
    mid = await h.send(rcs("385981112000", CARD_CONTENT, options={"callbackData": "contact=0031"}))
    report = await h.recorder.wait_final(mid)
    assert (report.kind, report.channel, report.status_name) == ("DELIVERY", "rcs", "DELIVERED_TO_HANDSET")
    assert (report.callback_data, report.to, report.sender) == ("contact=0031", "385981112000", "BistroLipa")
    assert report.raw["interactionType"] == "RICH_MEDIA_MESSAGE"
    view = await h.view(mid)
    assert view["state"] == "DELIVERED"
    assert [e["event"] for e in view["timeline"]] == ["ACCEPTED", "SENT", "DELIVERY"]


async def test_a_seen_message_gives_a_seen_report_without_status(h):
    mid = await h.send(rcs("385981112990"))
    seen = await h.recorder.wait_for(lambda r: r.kind == "SEEN" and r.message_id == mid)
    assert (seen.channel, seen.to, seen.status_name, seen.status_group) == ("rcs", "385981112990", None, None)
    assert seen.seen_at and seen.sent_at
    delivered = await h.recorder.wait_final(mid)
    assert delivered.status_name == "DELIVERED_TO_HANDSET"


async def test_a_reply_comes_back_from_the_end_user(h):
    mid = await h.send(rcs("385981112998"))
    reply = await h.recorder.wait_for(lambda r: r.kind == "INBOUND")
    assert (reply.channel, reply.sender, reply.to, reply.text) == (
        "rcs",
        "385981112998",
        "BistroLipa",
        "STOP",
    )
    assert reply.paired_message_id == mid


async def test_an_undeliverable_message(h):
    mid = await h.send(rcs("385981112991"))
    report = await h.recorder.wait_final(mid)
    assert (report.status_group, report.status_name) == ("UNDELIVERABLE", "UNDELIVERABLE_NOT_DELIVERED")
    assert (report.error_name, report.error_permanent) == ("EC_UNKNOWN_SUBSCRIBER", True)
    assert (await h.view(mid))["state"] == "UNDELIVERABLE"


async def test_a_tracked_card_link_is_clicked(h):
    tracking = {"urlOptions": {"shortenUrl": True, "trackClicks": True}}
    mid = await h.send(rcs("385981112997", CARD_CONTENT, options=tracking))
    click = await h.recorder.wait_for(lambda r: r.kind == "CLICK" and r.message_id == mid)
    assert (click.channel, click.url, click.to) == ("rcs", MENU, "385981112997")
    assert click.received_at.endswith("+0000")
    assert MENU not in h.simulator.delivered_text[mid]  # shortened, as Infobip does with shortenUrl


async def test_intake_refuses_bad_messages_with_the_field_and_reason(h):
    missing = await h.http.post("/v1/messages", json=rcs(""))
    assert missing.status_code == 400
    (problem,) = missing.json()["problems"]
    assert (problem["path"], problem["status"]) == ("$.destination", "Error: Missing phone number in request")
    long_text = await h.http.post("/v1/messages", json=rcs("385981112001", {"text": "a" * 3073}))
    (problem,) = long_text.json()["problems"]
    assert (problem["path"], problem["status"]) == ("$.content.text", "Error: Invalid text length")
    bad_card = await h.http.post(
        "/v1/messages", json=rcs("385981112002", {"type": "CAROUSEL", "cards": [{}]})
    )
    paths = [p["path"] for p in bad_card.json()["problems"]]
    assert paths == ["$.content.cards", "$.content.cards[0]"]
