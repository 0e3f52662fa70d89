"""`ChannelPlugin`: a channel plugin's hooks, answering only for its own channels, through pluggy."""

from __future__ import annotations

import sys
import types

import msgspec

from channel_engine import Channel, ChannelPlugin, OutboundMessage, WebhookUrls
from channel_engine.plugins import get_plugin_manager
from channel_engine.simulator import NewGenEndpoint, collect_endpoints

HOOKS = WebhookUrls(reports="r", clicks="c", inbound="i")


def pigeon_plugin(**extra) -> ChannelPlugin:
    return ChannelPlugin(
        [Channel(name="pigeon", product="sms")],
        validate=lambda message: [],
        build=lambda channel, messages, webhooks: [("built", channel, len(messages))],
        normalize=lambda channel, kind, payload: [("normalized", channel, kind)],
        **extra,
    )


def message(channel: str) -> OutboundMessage:
    return msgspec.convert({"channel": channel, "destination": "41793026727"}, OutboundMessage)


def test_it_answers_for_its_channels_only():
    plugins = get_plugin_manager([pigeon_plugin()], entry_points=False)
    hook = plugins.hook
    assert set(plugins.channels) == {"pigeon"}
    assert hook.validate_message(message=message("pigeon")) == [[]]
    assert hook.validate_message(message=message("owl")) == []
    assert hook.build_payload(channel="pigeon", messages=[1, 2], webhooks=HOOKS) == [("built", "pigeon", 2)]
    assert hook.build_payload(channel="owl", messages=[1], webhooks=HOOKS) is None
    assert hook.normalize_report(channel="pigeon", kind="clicks", payload={}) == [
        ("normalized", "pigeon", "clicks")
    ]
    # hooks whose function was not given answer None, as a plugin without them would
    assert hook.sample_message(channel="pigeon", index=0, destination="1", with_link=False) is None
    assert hook.check_message(message=message("pigeon")) == []
    # the plugin declines to read the send answer, so the core's generic reader answers
    body = {"messages": [{"messageId": "m-1", "status": {"groupName": "PENDING"}}]}
    [outcome] = hook.parse_send_response(channel="pigeon", request=None, body=body)
    assert (outcome.message_id, outcome.accepted) == ("m-1", True)
    assert collect_endpoints(plugins) == []


def test_endpoints_given_as_a_path_are_imported_only_when_a_simulator_asks(monkeypatch):
    module = types.ModuleType("pigeon_simulator")
    module.endpoints = lambda: [NewGenEndpoint("/pigeon/1/messages", "pigeon")]  # type: ignore[attr-defined]
    plugin = pigeon_plugin(endpoints="pigeon_simulator:endpoints")
    plugins = get_plugin_manager([plugin], entry_points=False)
    assert "pigeon_simulator" not in sys.modules
    monkeypatch.setitem(sys.modules, "pigeon_simulator", module)
    [endpoint] = collect_endpoints(plugins)
    assert endpoint.path == "/pigeon/1/messages"
