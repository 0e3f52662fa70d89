"""Rows that arrive together leave together: for host plugins that write reports back in batches (SFMC
data extension rows, Bloomreach tracking commands).

The engine hands a host its reports many at a time, concurrently. Each `add` joins the open batch of its
destination and waits for that batch's one request; the batch goes out `linger` seconds after its first
row (or at once when full): the rows of one webhook reach it a store round trip apart, not in one turn.
If the request fails, every waiter sees the error, and the engine's outbox retries each report later:
nothing is lost, and no second queue is needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

Flush = Callable[[Any, list[dict[str, Any]]], Awaitable[None]]


class _Batch:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()


class Batcher:
    def __init__(self, flush: Flush, max_rows: int = 500, linger: float = 0.05) -> None:
        self._flush = flush
        self.max_rows = max_rows
        self.linger = linger
        self._open: dict[Hashable, _Batch] = {}
        self.requests = 0  # how many flushes ran (for tests and metrics)
        self._running: set[asyncio.Task[None]] = set()  # held, so a running flush is never collected

    async def add(self, destination: Hashable, row: dict[str, Any]) -> None:
        batch = self._open.get(destination)
        if batch is None:
            batch = self._open[destination] = _Batch()
            asyncio.get_running_loop().call_later(self.linger, self._send, destination, batch)
        batch.rows.append(row)
        if len(batch.rows) >= self.max_rows:
            self._send(destination, batch)
        await asyncio.shield(batch.done)

    async def drain(self) -> None:
        """Send every open batch now and wait until every batch sent so far is done (at shutdown, or in a
        test that needs what a flush did)."""
        while self._open or self._running:
            for destination, batch in list(self._open.items()):
                self._send(destination, batch)
            if self._running:
                await asyncio.wait(set(self._running))

    def _send(self, destination: Hashable, batch: _Batch) -> None:
        if self._open.get(destination) is not batch:
            return  # sent already (it filled up before its turn came)
        del self._open[destination]
        task = asyncio.get_running_loop().create_task(self._run(destination, batch))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, destination: Hashable, batch: _Batch) -> None:
        self.requests += 1
        try:
            await self._flush(destination, batch.rows)
        except Exception as exc:
            batch.done.set_exception(exc)
            batch.done.exception()  # retrieved: a batch nobody waits for any more logs nothing
        else:
            batch.done.set_result(None)
