"""`ChannelPlugin`: a channel plugin's hooks, answering only for its own channels, through pluggy."""

from __future__ import annotations

import sys
import types

import msgspec

from channel_engine import Channel, ChannelPlugin, OutboundMessage, Problem, WebhookUrls, hookimpl
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


def problem_of(name: str) -> list[Problem]:
    return [Problem(code=name, path="$", message=f"{name} says no")]


def test_plugins_validate_answers_what_the_hook_answers_asking_only_owners_and_extensions():
    asked: list[str] = []

    def validator(name: str):
        def validate(message):
            asked.append(name)
            return problem_of(name)

        return validate

    pigeon = ChannelPlugin(
        [Channel(name="pigeon", product="sms")], validate=validator("pigeon"), build=None, normalize=None
    )
    owl = ChannelPlugin(
        [Channel(name="owl", product="sms")], validate=validator("owl"), build=None, normalize=None
    )

    class Compliance:  # a third party's check of every channel's messages
        __name__ = "compliance"

        @hookimpl
        def validate_message(self, message):
            asked.append("compliance")
            return problem_of("compliance")

    plugins = get_plugin_manager([pigeon, owl, Compliance()], entry_points=False)
    for channel in ("pigeon", "owl"):
        asked.clear()
        answers = plugins.hook.validate_message(message=message(channel))
        through_pluggy, pluggy_asked = [p for answer in answers for p in answer], list(asked)
        assert sorted(pluggy_asked) == sorted([channel, "compliance"])
        asked.clear()
        assert plugins.validate(message(channel)) == through_pluggy  # the same problems, in the same order
        assert asked == pluggy_asked  # and the other channel's plugin was not asked


def test_plugins_validate_asks_a_channel_plugin_that_answers_for_other_channels_too():
    class Strict(ChannelPlugin):
        @hookimpl
        def validate_message(self, message):
            return problem_of("strict")

    strict = Strict(
        [Channel(name="pigeon", product="sms")], validate=lambda m: [], build=None, normalize=None
    )
    plugins = get_plugin_manager([strict], entry_points=False)
    assert plugins.validate(message("owl")) == problem_of("strict")


def test_plugins_validate_sees_a_plugin_registered_later_and_leaves_wrappers_to_pluggy():
    plugins = get_plugin_manager([pigeon_plugin()], entry_points=False)
    assert plugins.validate(message("pigeon")) == []

    class Late:
        @hookimpl
        def validate_message(self, message):
            return problem_of("late")

    plugins.pm.register(Late(), name="late")
    assert plugins.validate(message("pigeon")) == problem_of("late")

    class Wrapper:
        @hookimpl(wrapper=True)
        def validate_message(self, message):
            answers = yield
            return [*answers, problem_of("wrapper")]

    plugins.pm.register(Wrapper(), name="wrapper")
    assert plugins.validate(message("pigeon")) == problem_of("late") + problem_of("wrapper")
