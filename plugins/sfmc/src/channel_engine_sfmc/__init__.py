"""Salesforce Marketing Cloud as a host of Channel Engine."""

from __future__ import annotations

from typing import Any

from channel_engine import Host, hookimpl


class SfmcPlugin:
    @hookimpl
    def register_hosts(self, register: Any) -> None:
        register(Host("sfmc", "Salesforce Marketing Cloud Journey Builder"))


plugin = SfmcPlugin()
