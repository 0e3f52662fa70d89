"""The plugin is installed, found by entry point, and answers only for its own channels."""

from __future__ import annotations

from channel_engine import Channel
from channel_engine.plugins import get_plugin_manager


def test_plugin_is_installed_and_registers_sms_and_lms():
    plugins = get_plugin_manager()
    for name in ("sms", "lms"):
        channel = plugins.channel(name)
        assert isinstance(channel, Channel)
        assert (channel.name, channel.product, channel.max_batch, channel.plugin) == (
            name,
            "sms",
            1000,
            "sms",
        )
    described = {entry["name"]: entry for entry in plugins.describe()}
    assert described["sms"]["kind"] == "channel"
    assert described["sms"]["channels"] == ["lms", "sms"]
    assert set(described["sms"]["hooks"]) >= {
        "register_channels",
        "validate_message",
        "build_payload",
        "normalize_report",
        "register_simulator_endpoints",
    }


def test_the_fixture_loads_the_same_plugins(plugins):
    assert {"sms", "lms"} <= set(plugins.channels)


def test_hooks_decline_other_channels(make_message, webhooks):
    from channel_engine_sms import plugin as sms

    whatsapp = make_message("whatsapp", content={"anything": True})
    assert sms.validate_message(whatsapp) is None
    assert sms.build_payload("whatsapp", [whatsapp], webhooks) is None
    assert sms.normalize_report("whatsapp", "reports", {"results": []}) is None
    assert sms.sample_message("whatsapp", 0, "41790000000", False) is None


def test_the_engine_reaches_the_plugin_through_pluggy(make_message, webhooks):
    plugins = get_plugin_manager()
    bad = make_message(destination="")
    answers = plugins.hook.validate_message(message=bad)
    assert [p.code for answer in answers for p in answer] == ["missing_destination"]
    requests = plugins.hook.build_payload(channel="lms", messages=[make_message("lms")], webhooks=webhooks)
    assert [r.path for r in requests] == ["/sms/3/messages"]
    reports = plugins.hook.normalize_report(
        channel="sms",
        kind="clicks",
        payload={"messageId": "m-1", "url": "https://x.example", "sendDateTime": 0},
    )
    assert [r.kind for r in reports] == ["CLICK"]


def test_sample_messages_pass_validation_and_keep_the_outcome_digits(plugins):
    import msgspec

    from channel_engine import OutboundMessage

    for channel in ("sms", "lms"):
        for with_link in (False, True):
            raw = plugins.hook.sample_message(
                channel=channel, index=7, destination="41790000997", with_link=with_link
            )
            assert raw["channel"] == channel and raw["destination"].endswith("997")
            assert ("urlOptions" in raw.get("options", {})) is with_link
            assert ("https://" in raw["content"]["text"]) is with_link
            message = msgspec.convert(raw, OutboundMessage)
            assert [p for answer in plugins.hook.validate_message(message=message) for p in answer] == []
    assert plugins.hook.sample_message(channel="pigeon", index=0, destination="1", with_link=False) is None
