"""Every installed channel end to end, the way the demo mixes them: each plugin writes its own message
(`sample_message`), our API takes it, the simulator answers in that channel's formats, and the reports come
back through the channel's parser to the owning host. Real HTTP over loopback; every wait awaits an event.
"""

from __future__ import annotations

import pytest

from channel_engine.demo import demo_channels
from channel_engine.plugins import get_plugin_manager

CHANNELS = demo_channels(get_plugin_manager())
SEEN = {"whatsapp", "viber", "rcs"}  # channels with read receipts
INBOUND = {"sms", "lms", "whatsapp", "viber", "rcs", "mms"}  # channels whose numbers take replies


def test_every_channel_of_the_issue_is_installed_with_a_demo_message():
    expected = {"sms", "lms", "whatsapp", "viber", "kakao-alim", "kakao-chingu", "rcs", "mms"}
    assert expected <= set(CHANNELS)


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_channel_sends_and_its_reports_come_back(engine_harness, channel: str):
    h = engine_harness
    base = 41790000000 + 100_000 * CHANNELS.index(channel)  # a number range of its own per channel
    sent: dict[str, str] = {}
    for n, suffix in enumerate(("000", "991", "990", "998")):
        message = h.engine.plugins.hook.sample_message(
            channel=channel, index=n, destination=f"{base + n * 1000 + int(suffix)}", with_link=False
        )
        assert message["destination"].endswith(suffix)
        message["host"] = {"name": "recorder"}
        sent[suffix] = await h.send(message)

    delivered = await h.recorder.wait_final(sent["000"])
    assert (delivered.channel, delivered.status_group) == (channel, "DELIVERED")
    undeliverable = await h.recorder.wait_final(sent["991"])
    assert undeliverable.status_name == "UNDELIVERABLE_NOT_DELIVERED"
    if channel in SEEN:
        seen = await h.recorder.wait_for(lambda r: r.kind == "SEEN" and r.message_id == sent["990"])
        assert seen.status_name is None and seen.seen_at
    if channel in INBOUND:
        reply = await h.recorder.wait_for(
            lambda r: r.kind == "INBOUND" and r.paired_message_id == sent["998"]
        )
        # a reply to an LMS is an inbound SMS: it arrives at the SMS number's inbound URL
        assert reply.text == "STOP" and reply.channel == {"lms": "sms"}.get(channel, channel)
    await h.simulator.wait_reported()
    view = await h.view(sent["000"])
    assert view["state"] == "DELIVERED" and view["channel"] == channel
