"""The plugin is installed, found by entry point, and answers only for its own channel."""

from __future__ import annotations

import msgspec
import pytest

from channel_engine import Channel, OutboundMessage
from channel_engine.plugins import get_plugin_manager


def test_plugin_is_installed_and_registers_viber():
    plugins = get_plugin_manager()
    channel = plugins.channel("viber")
    assert isinstance(channel, Channel)
    assert (channel.name, channel.product, channel.max_batch, channel.plugin) == (
        "viber",
        "viber",
        1000,
        "viber",
    )
    described = {entry["name"]: entry for entry in plugins.describe()}
    assert described["viber"]["kind"] == "channel"
    assert described["viber"]["channels"] == ["viber"]
    assert set(described["viber"]["hooks"]) >= {
        "register_channels",
        "validate_message",
        "build_payload",
        "normalize_report",
        "register_simulator_endpoints",
        "sample_message",
    }


def test_hooks_decline_other_channels(make_message, webhooks):
    from channel_engine_viber import plugin as viber

    sms = make_message(channel="sms", content={"anything": True})
    assert viber.validate_message(sms) is None
    assert viber.build_payload("sms", [sms], webhooks) is None
    assert viber.normalize_report("sms", "reports", {"results": []}) is None
    assert viber.sample_message("sms", 0, "41790000000", False) is None


def test_the_engine_reaches_the_plugin_through_pluggy(make_message, webhooks):
    plugins = get_plugin_manager()
    answers = plugins.hook.validate_message(message=make_message(sender=None))
    assert [p.status for answer in answers for p in answer] == ["Error: Invalid from field"]
    requests = plugins.hook.build_payload(channel="viber", messages=[make_message()], webhooks=webhooks)
    assert [r.path for r in requests] == ["/viber/2/messages"]
    reports = plugins.hook.normalize_report(
        channel="viber",
        kind="reports",
        payload={
            "results": [{"messageId": "m-1", "to": "385981112233", "seenAt": "2025-03-14T09:31:12.004+0000"}]
        },
    )
    assert [r.kind for r in reports] == ["SEEN"]


@pytest.mark.parametrize("index", [0, 1, 2, 7])
@pytest.mark.parametrize("with_link", [False, True])
def test_sample_messages_pass_validation_and_keep_the_outcome_digits(index, with_link):
    plugins = get_plugin_manager()
    raw = plugins.hook.sample_message(
        channel="viber", index=index, destination="41790000997", with_link=with_link
    )
    assert raw["channel"] == "viber" and raw["destination"] == "41790000997"
    assert ("urlOptions" in raw.get("options", {})) is with_link
    assert ("https://" in raw["content"]["text"]) is with_link
    assert ("imageUrl" in raw["content"]) is bool(index % 2)
    message = msgspec.convert(raw, OutboundMessage)
    assert [p for answer in plugins.hook.validate_message(message=message) for p in answer] == []
