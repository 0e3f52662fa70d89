"""Hands stored reports to the hosts that own their messages, from the store's outbox.

A host that is down loses nothing: an item stays in the outbox until its host takes it, retried with
backoff; the webhook that brought the report has long been answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import msgspec

from .dispatcher import RetryPolicy, cancel_and_wait
from .metrics import Metrics
from .models import OutboundMessage, OutboxItem, Report
from .plugins import Plugins
from .store import Store

log = logging.getLogger("channel_engine.delivery")


class HostDelivery:
    def __init__(
        self,
        store: Store,
        plugins: Plugins,
        metrics: Metrics,
        *,
        batch: int = 500,
        lease: float = 60.0,
        concurrency: int | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.plugins = plugins
        self.metrics = metrics
        self.batch = batch
        self.lease = lease
        self.retry = retry or RetryPolicy(base=2.0, cap=600.0)
        self.clock = clock
        # By default every claimed item is handed over at once. A host that batches (SFMC's rows, Bloomreach's
        # events) joins what arrives within its linger into one request, so its throughput is the number
        # in flight divided by that linger: 32 at a time capped SFMC's report rows at about 530 a second. A
        # host that makes a request per report is held back by its own HTTP client's connection pool.
        self._slots = asyncio.Semaphore(concurrency or batch)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._next_retry = 0.0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="host-delivery")

    async def stop(self) -> None:
        if self._task:
            await cancel_and_wait([self._task])

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                self._wake.clear()
                items = await self.store.claim_outbox(self.clock(), self.batch, self.lease)
                if not items:
                    # Nothing due: wait for new reports, or poll now and then for retries coming due.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), 1.0)
                    continue
                results = await asyncio.gather(*(self._deliver(item) for item in items))
                done = [item.id for item, ok in zip(items, results, strict=True) if ok]
                if done:
                    await self.store.ack_outbox(done)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("host delivery loop failed; retrying in 1 s")
                await asyncio.sleep(1.0)

    async def _deliver(self, item: OutboxItem) -> bool:
        async with self._slots:
            try:
                pending = self.plugins.hook.deliver_report(
                    host=item.host, report=with_callback_data(item.report, item.message), message=item.message
                )
                if pending is None:
                    raise LookupError(f"no installed plugin delivers to host {item.host!r}")
                await pending
            except Exception as exc:
                self.metrics.host_deliveries[(item.host, "error")] += 1
                due = self.clock() + self.retry.delay(item.attempts + 1)
                self._next_retry = min(self._next_retry, due) if self._next_retry > self.clock() else due
                log.warning(
                    "handing a report to host %s failed (attempt %d): %s", item.host, item.attempts + 1, exc
                )
                await self.store.retry_outbox(item.id, due, str(exc)[:500])
                return False
            self.metrics.host_deliveries[(item.host, "ok")] += 1
            return True


def with_callback_data(report: Report, message: OutboundMessage | None) -> Report:
    """The report with its message's callback data when Infobip left it out (WhatsApp's delivery reports
    carry none): a host always sees the callback data it sent."""
    if report.callback_data is not None or message is None or message.options.callback_data is None:
        return report
    return msgspec.structs.replace(report, callback_data=message.options.callback_data)
