"""The plugin is installed, found by entry point, answers only for its own channel, and its demo messages
pass its own validation."""

from __future__ import annotations

import msgspec
import pytest

from channel_engine import Channel, OutboundMessage
from channel_engine.plugins import get_plugin_manager


def test_plugin_is_installed_and_registers_whatsapp():
    plugins = get_plugin_manager()
    channel = plugins.channel("whatsapp")
    assert isinstance(channel, Channel)
    assert (channel.name, channel.product, channel.max_batch, channel.plugin) == (
        "whatsapp",
        "whatsapp",
        100,
        "whatsapp",
    )
    described = {entry["name"]: entry for entry in plugins.describe()}
    assert described["whatsapp"]["kind"] == "channel"
    assert described["whatsapp"]["channels"] == ["whatsapp"]
    assert set(described["whatsapp"]["hooks"]) >= {
        "register_channels",
        "validate_message",
        "build_payload",
        "parse_send_response",
        "normalize_report",
        "register_simulator_endpoints",
        "sample_message",
    }


def test_hooks_decline_other_channels(make_message, webhooks):
    from channel_engine_whatsapp import plugin as whatsapp

    sms = make_message(channel="sms", content={"text": "hi"})
    assert whatsapp.validate_message(sms) is None
    assert whatsapp.build_payload("sms", [sms], webhooks) is None
    assert whatsapp.normalize_report("sms", "reports", {"results": []}) is None
    assert whatsapp.sample_message("sms", 0, "41790000000", False) is None


def test_the_engine_reaches_the_plugin_through_pluggy(make_message, webhooks):
    plugins = get_plugin_manager()
    answers = plugins.hook.validate_message(message=make_message(sender="Bistro"))
    assert [p.status for answer in answers for p in answer] == ["Error: Invalid from field"]
    requests = plugins.hook.build_payload(
        channel="whatsapp", messages=[make_message(content={"type": "TEXT", "text": "hi"})], webhooks=webhooks
    )
    assert [r.path for r in requests] == ["/whatsapp/1/message/text"]
    outcomes = plugins.hook.parse_send_response(
        channel="whatsapp",
        request=requests[0],
        body={"to": "385981112233", "status": {"groupName": "PENDING"}},
    )
    assert [(o.message_id, o.accepted) for o in outcomes] == [(requests[0].message_ids[0], True)]


@pytest.mark.parametrize("with_link", [False, True])
def test_sample_messages_pass_validation_and_keep_the_outcome_digits(plugins, with_link):
    raw = plugins.hook.sample_message(
        channel="whatsapp", index=7, destination="41790000997", with_link=with_link
    )
    assert raw["channel"] == "whatsapp" and raw["destination"] == "41790000997"
    assert raw["content"]["type"] == "TEMPLATE"
    assert ("urlOptions" in raw.get("options", {})) is with_link
    assert any("https://" in p for p in raw["content"]["placeholders"]) is with_link
    message = msgspec.convert(raw, OutboundMessage)
    assert [p for answer in plugins.hook.validate_message(message=message) for p in answer] == []
