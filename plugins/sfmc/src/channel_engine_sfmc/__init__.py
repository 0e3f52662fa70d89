"""Salesforce Marketing Cloud as a host of Channel Engine: Journey Builder's message and Get Reports
activities, the per-business-unit configuration API, and reports written back into data extensions.

Everything is served under /sfmc: `/sfmc/{mid}/message/...`, `/sfmc/{mid}/reports/...`, `/sfmc/config...`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import httpx

from channel_engine import Host, HostApp, HostServices, OutboundMessage, Report, hookimpl

from .in_arguments import HOST


class SfmcPlugin:
    def __init__(self) -> None:
        self.sink: Any = None

    @hookimpl
    def register_hosts(self, register: Any) -> None:
        register(Host(HOST, "Salesforce Marketing Cloud Journey Builder"))

    @hookimpl
    def register_host_apps(self, register: Any, services: HostServices) -> None:
        from .activity import activity_routes
        from .config_api import config_routes
        from .inspector import inspector_routes
        from .reports_activity import reports_routes
        from .sfmc_api import SfmcApi
        from .sink import ReportSink
        from .units import Units

        http = httpx.AsyncClient(timeout=20.0)
        api = SfmcApi(http=http)
        units = Units(services)
        self.sink = ReportSink(services, units, api, http)

        async def stop() -> None:
            await api.aclose()
            await http.aclose()

        # The engine keeps the way to each endpoint per path (channel_engine.routing), so the order of these
        # routes costs an execute nothing.
        routes = [
            *config_routes(services, units, api, http),
            *activity_routes(services, units),
            *reports_routes(services, units),
            *inspector_routes(services, units, http),
        ]
        register(HostApp("/sfmc", routes, stop=stop))

    @hookimpl
    def deliver_report(
        self, host: str, report: Report, message: OutboundMessage | None
    ) -> Awaitable[None] | None:
        if host != HOST:
            return None
        if self.sink is None:  # a process that serves no HTTP (delivery only) still writes rows
            raise RuntimeError(
                "the sfmc plugin's report sink is not set up: the engine did not register host apps"
            )
        return self.sink.deliver(report, message)

    @hookimpl
    def register_commands(self, add: Any) -> None:
        from .install import add_commands

        add_commands(add)


plugin = SfmcPlugin()
