"""The plugin manager: finds plugins through the `channel_engine` entry-point group and checks them.

`get_plugin_manager()` has no import-time side effects; the engine calls it once at start-up. Setting
`CHANNEL_ENGINE_DISABLE_PLUGINS=a,b` leaves the named plugins out.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pluggy

from . import hookspecs
from .channel_plugin import ChannelPlugin
from .errors import PluginError
from .models import OutboundMessage, Problem
from .registry import Channel, Host

DISABLE_ENV = "CHANNEL_ENGINE_DISABLE_PLUGINS"


@dataclass
class Plugins:
    """The loaded plugins and what they registered."""

    pm: pluggy.PluginManager
    channels: dict[str, Channel] = field(default_factory=dict)
    hosts: dict[str, Host] = field(default_factory=dict)

    @property
    def hook(self) -> pluggy.HookRelay:
        return self.pm.hook

    # per channel: the validate_message implementations it was worked out from, and whom to ask
    _validators: dict[str, tuple[list[Any], list[Callable[..., Any]] | None]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def channel(self, name: str) -> Channel | None:
        return self.channels.get(name)

    def validate(self, message: OutboundMessage) -> list[Problem]:
        """Every problem the `validate_message` implementations find, in the hook's order: what calling the
        hook answers, sooner. A ChannelPlugin answers None for channels it does not own, so only the
        owner of the message's channel is asked, and every other implementation. Intake calls this for
        every message, and under load asking all the channel plugins through pluggy cost as much as the
        SMS checks themselves."""
        impls = self.pm.hook.validate_message.get_hookimpls()
        known = self._validators.get(message.channel)
        if known is None or known[0] != impls:  # a plugin came or went since
            known = self._validators[message.channel] = (impls, _askers(impls, message.channel))
        askers = known[1]
        if askers is None:
            answers = self.pm.hook.validate_message(message=message)
        else:
            answers = [ask(message) for ask in askers]
        return [found for answer in answers if answer for found in answer]

    def describe(self) -> list[dict[str, object]]:
        """Name, version, kind and hooks of each plugin (for `channel-engine plugins` and `/-/plugins`)."""
        dists = {p: d for p, d in self.pm.list_plugin_distinfo()}
        out = []
        for name, plugin in sorted(self.pm.list_name_plugin(), key=lambda np: np[0]):
            if plugin is None:
                continue
            dist = dists.get(plugin)
            kinds = sorted(
                {"channel" for c in self.channels.values() if c.plugin == name}
                | {"host" for h in self.hosts.values() if h.plugin == name}
            )
            out.append(
                {
                    "name": name,
                    "version": dist.version if dist else None,
                    "kind": ",".join(kinds) or "extension",
                    "channels": sorted(c.name for c in self.channels.values() if c.plugin == name),
                    "hosts": sorted(h.name for h in self.hosts.values() if h.plugin == name),
                    "hooks": sorted(impl.name for impl in self.pm.get_hookcallers(plugin) or []),
                }
            )
        return out


def _askers(impls: list[Any], channel: str) -> list[Callable[..., Any]] | None:
    """The functions to call for a message of `channel`, in pluggy's order (last registered first); None
    when only pluggy can call them right (a wrapper, or an implementation without the `message` argument)."""
    if any(impl.wrapper or impl.hookwrapper or impl.argnames != ("message",) for impl in impls):
        return None
    owners_only = ChannelPlugin.validate_message
    return [
        impl.function
        for impl in reversed(impls)
        if not (
            isinstance(impl.plugin, ChannelPlugin)
            and type(impl.plugin).validate_message is owners_only
            and channel not in impl.plugin.names
        )
    ]


def disabled_plugins() -> set[str]:
    return {p.strip() for p in os.environ.get(DISABLE_ENV, "").split(",") if p.strip()}


def get_plugin_manager(extra: list[object] | None = None, *, entry_points: bool = True) -> Plugins:
    """Load the built-in defaults, every installed plugin and `extra` (objects or modules, for tests).

    Raises PluginError for an unknown hook, a plugin that fails to load, or a channel or host name that two
    plugins claim."""
    from . import defaults

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in disabled_plugins():
        pm.set_blocked(name)
    pm.register(defaults, name="channel_engine.defaults")
    if entry_points:
        try:
            pm.load_setuptools_entrypoints(hookspecs.PROJECT)
        except Exception as exc:  # a plugin that cannot even import: say which
            raise PluginError(f"a channel_engine plugin failed to load: {exc!r}") from exc
    for i, plugin in enumerate(extra or []):
        name = getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{i}"
        pm.register(plugin, name=name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {exc.plugin!r} implements an unknown hook: {exc}") from exc
    plugins = Plugins(pm)
    _collect(plugins)
    return plugins


def _registrar(kind: type, registry: dict, owner: str):  # type: ignore[no-untyped-def,type-arg]
    """The `register` callable handed to one plugin's register hook for channels or hosts."""
    label = kind.__name__.lower()

    def register(item: Channel | Host) -> None:
        if not isinstance(item, kind):
            raise PluginError(f"plugin {owner!r} registered {item!r}, which is not a {kind.__name__}")
        other = registry.get(item.name)
        if other is not None:
            raise PluginError(
                f"{label} {item.name!r} is claimed by two plugins: {other.plugin!r} and {owner!r}; "
                f"uninstall one or disable it with {DISABLE_ENV}={owner}"
            )
        registry[item.name] = replace(item, plugin=owner)

    return register


def _collect(plugins: Plugins) -> None:
    """Run the register hooks one plugin at a time, so a clash names both plugins."""
    pm = plugins.pm
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        for impl in pm.hook.register_channels.get_hookimpls():
            if impl.plugin is plugin:
                impl.function(register=_registrar(Channel, plugins.channels, name))
        for impl in pm.hook.register_hosts.get_hookimpls():
            if impl.plugin is plugin:
                impl.function(register=_registrar(Host, plugins.hosts, name))
