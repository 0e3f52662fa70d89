"""The plugin is installed, found by entry point, and answers only for its own channels."""

from __future__ import annotations

import msgspec
import pytest

from channel_engine import Channel, OutboundMessage
from channel_engine.plugins import get_plugin_manager

CHANNELS = ("kakao-alim", "kakao-chingu")


def test_plugin_is_installed_and_registers_both_channels(plugins):
    for name in CHANNELS:
        channel = plugins.channel(name)
        assert isinstance(channel, Channel)
        assert (channel.name, channel.product, channel.max_batch, channel.plugin) == (
            name,
            "kakao",
            1000,
            "kakao",
        )
    described = {entry["name"]: entry for entry in plugins.describe()}
    assert described["kakao"]["kind"] == "channel"
    assert described["kakao"]["channels"] == list(CHANNELS)
    assert set(described["kakao"]["hooks"]) >= {
        "register_channels",
        "validate_message",
        "build_payload",
        "normalize_report",
        "register_simulator_endpoints",
        "sample_message",
    }


def test_hooks_decline_other_channels(make_message, webhooks):
    from channel_engine_kakao import plugin as kakao

    sms = make_message("sms", content={"text": "hi"})
    assert kakao.validate_message(sms) is None
    assert kakao.build_payload("sms", [sms], webhooks) is None
    assert kakao.normalize_report("kakao-sangdam", "inbound", {"results": []}) is None
    assert kakao.sample_message("sms", 0, "41790000000", False) is None


def test_the_engine_reaches_the_plugin_through_pluggy(make_message, webhooks):
    plugins = get_plugin_manager()
    answers = plugins.hook.validate_message(message=make_message("kakao-chingu", destination=""))
    assert [p.status for answer in answers for p in answer] == ["Error: Missing phone number in request"]
    for channel, path in (
        ("kakao-alim", "/kakao-alim/1/messages"),
        ("kakao-chingu", "/kakao-chingu/1/messages"),
    ):
        requests = plugins.hook.build_payload(
            channel=channel, messages=[make_message(channel)], webhooks=webhooks
        )
        assert [r.path for r in requests] == [path]


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("with_link", [False, True])
@pytest.mark.parametrize("destination", ["41790000997", "385981112000", "821012345993"])
def test_sample_messages_pass_validation_and_keep_the_outcome_digits(
    plugins, channel, with_link, destination
):
    for index in range(3):
        raw = plugins.hook.sample_message(
            channel=channel, index=index, destination=destination, with_link=with_link
        )
        assert raw["channel"] == channel
        assert raw["destination"].startswith("8210") and raw["destination"][-3:] == destination[-3:]
        # Only ChinguTalk tracks URLs; an AlimTalk demo with a link carries it in a web link button.
        assert ("urlOptions" in raw.get("options", {})) is (with_link and channel == "kakao-chingu")
        links = [b for b in raw["content"]["buttons"] if b["type"] == "URL" and "/orders/" in b["urlMobile"]]
        assert ("https://" in raw["content"]["text"] or bool(links)) is with_link
        message = msgspec.convert(raw, OutboundMessage)
        assert [p for answer in plugins.hook.validate_message(message=message) for p in answer] == []
