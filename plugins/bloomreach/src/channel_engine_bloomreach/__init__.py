"""Bloomreach Engagement as a host of Channel Engine: Infobip as the SMS/MMS provider of Bloomreach
campaigns. A scenario's webhook node sends each message to `POST /bloomreach/{projectToken}/messages`; its
outcome comes back to the customer's profile as campaign events through Bloomreach's tracking API.

Everything is served under /bloomreach: the send endpoint, the configuration API (`/bloomreach/config...`)
and the events Bloomreach refused (`/bloomreach/rejected/{projectToken}`).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import httpx

from channel_engine import Host, HostApp, HostServices, OutboundMessage, Report, hookimpl

from .events import HOST


class BloomreachPlugin:
    def __init__(self) -> None:
        self.tracker: Any = None

    @hookimpl
    def register_hosts(self, register: Any) -> None:
        # sent_reports: Bloomreach tracks `enqueued` when Infobip takes the message.
        register(Host(HOST, "Bloomreach Engagement campaigns (SMS and MMS)", sent_reports=True))

    @hookimpl
    def register_host_apps(self, register: Any, services: HostServices) -> None:
        from .admin import admin_routes
        from .send_api import send_routes

        http = httpx.AsyncClient(timeout=20.0)
        routes, self.tracker = admin_routes(services, http)
        routes = [*send_routes(services, self.tracker.projects), *routes]
        register(HostApp("/bloomreach", routes, stop=http.aclose))

    @hookimpl
    def deliver_report(
        self, host: str, report: Report, message: OutboundMessage | None
    ) -> Awaitable[None] | None:
        if host != HOST:
            return None
        if self.tracker is None:  # a process that serves no HTTP (delivery only) still tracks events
            raise RuntimeError(
                "the bloomreach plugin's tracker is not set up: the engine did not register host apps"
            )
        return self.tracker.deliver(report, message)


plugin = BloomreachPlugin()
