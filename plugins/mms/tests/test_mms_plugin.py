"""The plugin is installed, found by entry point, and answers only for its own channel."""

from __future__ import annotations

import msgspec

from channel_engine import Channel, OutboundMessage
from channel_engine.plugins import get_plugin_manager


def test_plugin_is_installed_and_registers_mms():
    plugins = get_plugin_manager()
    channel = plugins.channel("mms")
    assert isinstance(channel, Channel)
    assert (channel.name, channel.product, channel.max_batch, channel.plugin) == ("mms", "mms", 1000, "mms")
    described = {entry["name"]: entry for entry in plugins.describe()}
    assert described["mms"]["kind"] == "channel"
    assert described["mms"]["channels"] == ["mms"]
    assert set(described["mms"]["hooks"]) >= {
        "register_channels",
        "validate_message",
        "check_message",
        "build_payload",
        "normalize_report",
        "register_simulator_endpoints",
        "sample_message",
    }


def test_hooks_decline_other_channels(make_message, webhooks):
    from channel_engine_mms import plugin as mms

    sms = make_message(channel="sms", content={"text": "hi"})
    assert mms.validate_message(sms) is None
    assert mms.check_message(sms) is None
    assert mms.build_payload("sms", [sms], webhooks) is None
    assert mms.normalize_report("sms", "reports", {"results": []}) is None
    assert mms.sample_message("sms", 0, "41790000000", False) is None


def test_the_engine_reaches_the_plugin_through_pluggy(make_message, webhooks):
    plugins = get_plugin_manager()
    answers = plugins.hook.validate_message(message=make_message(destination=""))
    assert [p.status for answer in answers for p in answer] == ["Error: Missing phone number in request"]
    requests = plugins.hook.build_payload(channel="mms", messages=[make_message()], webhooks=webhooks)
    assert [r.path for r in requests] == ["/mms/2/messages"]
    reports = plugins.hook.normalize_report(
        channel="mms",
        kind="clicks",
        payload={"messageId": "m-1", "url": "https://x.example", "sendDateTime": 0},
    )
    assert [r.kind for r in reports] == ["CLICK"]


def test_sample_messages_pass_validation_and_keep_the_outcome_digits(plugins):
    for with_link in (False, True):
        raw = plugins.hook.sample_message(
            channel="mms", index=7, destination="41790000997", with_link=with_link
        )
        assert raw["channel"] == "mms" and raw["destination"].endswith("997")
        assert ("urlOptions" in raw.get("options", {})) is with_link
        texts = [s["text"] for s in raw["content"]["segments"] if s["type"] == "text"]
        assert any("https://" in t for t in texts) is with_link
        assert any(s["type"] == "image" for s in raw["content"]["segments"])
        message = msgspec.convert(raw, OutboundMessage)
        assert [p for answer in plugins.hook.validate_message(message=message) for p in answer] == []
