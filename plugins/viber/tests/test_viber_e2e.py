"""Viber end to end over loopback HTTP: our API -> engine -> simulator (as Infobip, `/viber/2/messages`) ->
delivery, seen, click and inbound webhooks back through this plugin's parser -> store -> the recording host.
Every wait awaits an event, never a sleep."""

from __future__ import annotations

from typing import Any

import pytest

BUTTON = {"title": "Book a table", "url": "https://bistro.example/book"}


def viber(destination: str, content: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "channel": "viber",
        "destination": destination,
        "sender": "BistroLipa",
        "content": content or {"text": "Your table is ready", "button": BUTTON, "trackingData": "table-42"},
        "host": {"name": "recorder", "context": {"journey": "j-viber"}},
    }
    message.update(extra)
    return message


async def test_delivered_seen_replied_undeliverable_and_clicked(engine_harness):
    h = engine_harness
    delivered = await h.send(viber("385981112000", options={"callbackData": "contact=0031"}))
    seen = await h.send(viber("385981112990"))
    replied = await h.send(viber("385981112998"))
    undeliverable = await h.send(viber("385981112991"))
    clicked = await h.send(
        viber(
            "385981112997",
            {"text": "Spring menu: https://bistro.example/spring", "label": "PROMOTIONAL"},
            options={"urlOptions": {"shortenUrl": True, "trackClicks": True}},
        )
    )

    report = await h.recorder.wait_final(delivered)
    assert (report.kind, report.channel, report.status_name) == ("DELIVERY", "viber", "DELIVERED_TO_HANDSET")
    assert (report.to, report.sender, report.callback_data) == ("385981112000", "BistroLipa", "contact=0031")

    read = await h.recorder.wait_for(lambda r: r.kind == "SEEN" and r.message_id == seen)
    assert read.status_name is None and read.status_group is None
    assert read.seen_at and read.to == "385981112990"

    reply = await h.recorder.wait_for(lambda r: r.kind == "INBOUND" and r.paired_message_id == replied)
    assert (reply.channel, reply.sender, reply.to, reply.text) == (
        "viber",
        "385981112998",
        "BistroLipa",
        "STOP",
    )
    assert reply.raw["message"]["trackingData"] == "table-42"

    failed = await h.recorder.wait_final(undeliverable)
    assert (failed.status_group, failed.status_name) == ("UNDELIVERABLE", "UNDELIVERABLE_NOT_DELIVERED")
    assert (failed.error_name, failed.error_permanent) == ("EC_UNKNOWN_SUBSCRIBER", True)

    click = await h.recorder.wait_for(lambda r: r.kind == "CLICK" and r.message_id == clicked)
    assert (click.url, click.to) == ("https://bistro.example/spring", "385981112997")
    # The simulator shortened the link, as Infobip does when shortenUrl is on.
    assert "https://bistro.example/spring" not in h.simulator.delivered_text[clicked]

    await h.simulator.wait_reported()
    assert (await h.view(delivered))["state"] == "DELIVERED"
    assert (await h.view(undeliverable))["state"] == "UNDELIVERABLE"
    view = await h.view(seen)  # a seen report adds to the timeline and never moves the state back
    assert view["state"] == "DELIVERED"
    events = [e["event"] for e in view["timeline"]]
    assert events[:2] == ["ACCEPTED", "SENT"] and sorted(events[2:]) == ["DELIVERY", "SEEN"]


@pytest.mark.parametrize(
    "content",
    [
        {"imageUrl": "https://cdn.bistro.example/dish.jpg", "text": "New dish", "button": BUTTON},
        {
            "videoUrl": "https://cdn.bistro.example/tour.mp4",
            "thumbnailUrl": "https://cdn.bistro.example/tour.jpg",
            "videoDuration": "PT45S",
            "text": "Take the tour",
        },
        {"fileUrl": "https://cdn.bistro.example/menu.pdf", "fileName": "menu.pdf", "label": "TRANSACTIONAL"},
    ],
    ids=["image", "video", "file"],
)
async def test_every_media_kind_is_sent_and_delivered(engine_harness, content):
    h = engine_harness
    mid = await h.send(
        viber("385981112001", content, options={"validityPeriod": {"amount": 2, "timeUnit": "HOURS"}})
    )
    report = await h.recorder.wait_final(mid)
    assert report.status_name == "DELIVERED_TO_HANDSET"
    sent = h.simulator.accepted[mid]
    assert (sent.to, sent.sender, sent.delivery_url, sent.seen_url) == (
        "385981112001",
        "BistroLipa",
        h.engine.webhook_url("viber", "reports"),
        h.engine.webhook_url("viber", "reports"),
    )


async def test_intake_refuses_a_bad_viber_message_with_the_sfmc_status(engine_harness):
    h = engine_harness
    refused = await h.http.post(
        "/v1/messages", json=viber("385981112002", {"text": "20% off", "label": "ADVERTISING"})
    )
    assert refused.status_code == 400
    (problem,) = refused.json()["problems"]
    assert (problem["path"], problem["status"]) == ("$.content.label", "Error: Invalid promotional flag")
    assert h.simulator.stats()["accepted"] == 0
