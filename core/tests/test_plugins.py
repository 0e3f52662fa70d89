"""The plugin manager: discovery, the registry of channels and hosts, and its start-up errors."""

from __future__ import annotations

import pytest

from channel_engine import Channel, Host, PluginError, hookimpl
from channel_engine.plugins import DISABLE_ENV, get_plugin_manager


class ChannelPlugin:
    def __init__(self, name: str, *channels: str) -> None:
        self.__name__ = name
        self._channels = channels

    @hookimpl
    def register_channels(self, register):
        for channel in self._channels:
            register(Channel(channel, product="sms"))


class HostPlugin:
    __name__ = "hosty"

    @hookimpl
    def register_hosts(self, register):
        register(Host("crm", "a test host"))


def test_registers_channels_and_hosts_with_their_owner():
    plugins = get_plugin_manager([ChannelPlugin("alpha", "pigeon"), HostPlugin()], entry_points=False)
    assert plugins.channels["pigeon"].plugin == "alpha"
    assert plugins.hosts["crm"].plugin == "hosty"
    assert plugins.hosts["api"].plugin == "channel_engine.defaults"


def test_two_plugins_claiming_one_channel_fail_at_start_up_naming_both():
    with pytest.raises(PluginError) as caught:
        get_plugin_manager(
            [ChannelPlugin("alpha", "pigeon"), ChannelPlugin("beta", "pigeon")], entry_points=False
        )
    assert "'pigeon'" in caught.value.message
    assert "'alpha'" in caught.value.message and "'beta'" in caught.value.message
    assert DISABLE_ENV in caught.value.message


def test_a_host_name_claimed_twice_fails():
    class Again:
        __name__ = "again"

        @hookimpl
        def register_hosts(self, register):
            register(Host("api"))

    with pytest.raises(PluginError, match="host 'api' is claimed by two plugins"):
        get_plugin_manager([Again()], entry_points=False)


def test_registering_something_else_than_a_channel_fails():
    class Wrong:
        __name__ = "wrong"

        @hookimpl
        def register_channels(self, register):
            register("sms")

    with pytest.raises(PluginError, match="not a Channel"):
        get_plugin_manager([Wrong()], entry_points=False)


def test_a_misspelt_hook_fails_at_start_up():
    class Typo:
        __name__ = "typo"

        @hookimpl
        def register_chanels(self, register):  # sic
            pass

    with pytest.raises(PluginError, match="unknown hook"):
        get_plugin_manager([Typo()], entry_points=False)


def test_disabled_plugins_are_left_out(monkeypatch):
    monkeypatch.setenv(DISABLE_ENV, "alpha, other")
    plugins = get_plugin_manager(
        [ChannelPlugin("alpha", "pigeon"), ChannelPlugin("beta", "owl")], entry_points=False
    )
    assert "pigeon" not in plugins.channels
    assert "owl" in plugins.channels


def test_describe_lists_name_kind_channels_and_hooks():
    plugins = get_plugin_manager([ChannelPlugin("alpha", "pigeon")], entry_points=False)
    by_name = {p["name"]: p for p in plugins.describe()}
    assert by_name["alpha"]["kind"] == "channel"
    assert by_name["alpha"]["channels"] == ["pigeon"]
    assert by_name["alpha"]["hooks"] == ["register_channels"]
    assert by_name["channel_engine.defaults"]["kind"] == "host"


def test_installed_plugins_are_found_through_the_entry_point_group():
    plugins = get_plugin_manager()
    names = {p["name"] for p in plugins.describe()}
    assert "channel_engine.defaults" in names
    # Every installed distribution that declares the group shows up with its version.
    from importlib.metadata import entry_points

    for ep in entry_points(group="channel_engine"):
        assert ep.name in names


async def test_deliver_report_answers_only_for_its_own_host():
    from channel_engine import OutboundMessage, Report

    plugins = get_plugin_manager(entry_points=False)
    report = Report(kind="DELIVERY", channel="sms", message_id="m")
    message = OutboundMessage(channel="sms", destination="41793026727")
    assert plugins.hook.deliver_report(host="nobody", report=report, message=message) is None
    # The api host without a notifyUrl has nowhere to send: it completes at once.
    pending = plugins.hook.deliver_report(host="api", report=report, message=message)
    assert pending is not None
    await pending
