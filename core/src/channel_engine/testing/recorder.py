"""A host for tests: it records every report the engine hands it and lets a test await the ones it needs,
through the real outbox path, with no sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from ..hookspecs import hookimpl
from ..models import OutboundMessage, Report
from ..registry import Host

Predicate = Callable[[Report], bool]


class RecordingHost:
    """Register with `get_plugin_manager([RecordingHost()])`; send messages with `host.name` = "recorder"."""

    __name__ = "recording-host"
    name = "recorder"

    def __init__(self, *, sent_reports: bool = False) -> None:
        self.sent_reports = sent_reports  # also hear when Infobip accepts each message (SENT reports)
        self.reports: list[Report] = []
        self.failures_left = 0  # answer this many deliveries with an error first (a host that is down)
        self._waiters: list[tuple[Predicate, asyncio.Future[Report]]] = []

    @hookimpl
    def register_hosts(self, register: Callable[[Host], None]) -> None:
        register(Host(self.name, "records reports for tests", sent_reports=self.sent_reports))

    @hookimpl
    def deliver_report(
        self, host: str, report: Report, message: OutboundMessage | None
    ) -> Awaitable[None] | None:
        if host != self.name:
            return None
        return self._take(report)

    async def _take(self, report: Report) -> None:
        if self.failures_left > 0:
            self.failures_left -= 1
            raise ConnectionError("the recording host is down (on purpose)")
        self.reports.append(report)
        for predicate, future in list(self._waiters):
            if not future.done() and predicate(report):
                future.set_result(report)
                self._waiters.remove((predicate, future))

    async def wait_for(self, predicate: Predicate, timeout: float = 15.0) -> Report:
        """The first report (already received or still to come) that matches."""
        for report in self.reports:
            if predicate(report):
                return report
        future: asyncio.Future[Report] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        return await asyncio.wait_for(future, timeout)

    async def wait_final(self, message_id: str, timeout: float = 15.0) -> Report:
        return await self.wait_for(lambda r: r.message_id == message_id and r.is_final, timeout)
