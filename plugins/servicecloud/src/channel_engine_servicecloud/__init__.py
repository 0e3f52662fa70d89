"""Salesforce Service Cloud as a host of Channel Engine: WhatsApp conversations between end users and
Service Cloud agents through Salesforce's Bring Your Own Channel (the Interaction Service API).

Everything is served under /servicecloud.
"""

from __future__ import annotations

from typing import Any

from channel_engine import Host, hookimpl

HOST = "servicecloud"


class ServiceCloudPlugin:
    @hookimpl
    def register_hosts(self, register: Any) -> None:
        register(Host(HOST, "Salesforce Service Cloud messaging sessions (WhatsApp, Bring Your Own Channel)"))


plugin = ServiceCloudPlugin()
