"""The plugin as the engine sees it: its channel, its hooks through pluggy, and its demo messages."""

from __future__ import annotations

import msgspec
import pytest

from channel_engine import OutboundMessage
from channel_engine.plugins import get_plugin_manager
from channel_engine_rcs import plugin as rcs


def test_the_rcs_channel_is_registered(plugins):
    channel = plugins.channels["rcs"]
    assert (channel.name, channel.product, channel.max_batch) == ("rcs", "rcs", 1000)
    described = {entry["name"]: entry for entry in plugins.describe()}
    assert described["rcs"]["channels"] == ["rcs"]
    assert set(described["rcs"]["hooks"]) >= {
        "register_channels",
        "validate_message",
        "build_payload",
        "normalize_report",
        "register_simulator_endpoints",
        "sample_message",
    }


def test_hooks_decline_other_channels(make_message, webhooks):
    sms = make_message(channel="sms")
    assert rcs.validate_message(sms) is None
    assert rcs.build_payload("sms", [sms], webhooks) is None
    assert rcs.normalize_report("viber", "reports", {"results": []}) is None
    assert rcs.sample_message("viber", 0, "41790000000", False) is None


def test_the_engine_reaches_the_plugin_through_pluggy(make_message, webhooks):
    plugins = get_plugin_manager()
    answers = plugins.hook.validate_message(message=make_message(destination=""))
    assert [p.code for answer in answers for p in answer] == ["missing_destination"]
    requests = plugins.hook.build_payload(channel="rcs", messages=[make_message()], webhooks=webhooks)
    assert [r.path for r in requests] == ["/rcs/2/messages"]
    reports = plugins.hook.normalize_report(
        channel="rcs",
        kind="reports",
        payload={
            "results": [{"messageId": "m-1", "to": "385981112233", "seenAt": "2025-10-02T16:00:00.000+0000"}]
        },
    )
    assert [r.kind for r in reports] == ["SEEN"]


@pytest.mark.parametrize("index", range(6))
@pytest.mark.parametrize("with_link", [False, True])
def test_sample_messages_pass_validation_and_keep_the_outcome_digits(plugins, index, with_link, webhooks):
    raw = plugins.hook.sample_message(
        channel="rcs", index=index, destination="41790000997", with_link=with_link
    )
    assert raw["channel"] == "rcs" and raw["destination"].endswith("997")
    assert ("urlOptions" in raw.get("options", {})) is with_link
    assert raw["content"]["type"] == ("TEXT", "CARD", "CAROUSEL")[index % 3]
    message = msgspec.convert({**raw, "id": f"demo-{index}"}, OutboundMessage)
    assert [p for answer in plugins.hook.validate_message(message=message) for p in answer] == []
    # A linked sample has something to click: an OPEN_URL suggestion somewhere in it.
    assert ("OPEN_URL" in msgspec.json.encode(raw).decode()) is with_link
    assert plugins.hook.build_payload(channel="rcs", messages=[message], webhooks=webhooks)
