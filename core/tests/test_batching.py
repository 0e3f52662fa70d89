"""The Batcher host plugins use to write reports back in batches: rows that arrive together leave in one
request, a full batch leaves at once, and a failed request fails every waiter (so the outbox retries)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from channel_engine import Batcher


async def test_rows_added_together_leave_in_one_request_per_destination() -> None:
    sent: list[tuple[Any, list[dict[str, Any]]]] = []

    async def flush(destination: Any, rows: list[dict[str, Any]]) -> None:
        sent.append((destination, rows))

    batcher = Batcher(flush, max_rows=10, linger=0.01)
    await asyncio.gather(*(batcher.add("a" if i % 2 else "b", {"n": i}) for i in range(6)))
    assert sorted((d, [r["n"] for r in rows]) for d, rows in sent) == [("a", [1, 3, 5]), ("b", [0, 2, 4])]
    assert batcher.requests == 2


async def test_a_full_batch_leaves_without_waiting_for_the_linger() -> None:
    sizes: list[int] = []

    async def flush(destination: Any, rows: list[dict[str, Any]]) -> None:
        sizes.append(len(rows))

    batcher = Batcher(flush, max_rows=3, linger=3600.0)  # only fullness can send these
    await asyncio.wait_for(asyncio.gather(*(batcher.add("a", {"n": i}) for i in range(6))), 5.0)
    assert sizes == [3, 3]


async def test_a_failed_request_fails_every_row_of_its_batch() -> None:
    async def flush(destination: Any, rows: list[dict[str, Any]]) -> None:
        raise ConnectionError("down")

    batcher = Batcher(flush, linger=0.0)
    results = await asyncio.gather(*(batcher.add("a", {"n": i}) for i in range(3)), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    with pytest.raises(ConnectionError):
        await batcher.add("a", {"n": 9})  # the next batch is a new request, and fails on its own


async def test_drain_sends_what_is_open_and_waits_for_it() -> None:
    done: list[int] = []

    async def flush(destination: Any, rows: list[dict[str, Any]]) -> None:
        await asyncio.sleep(0)
        done.extend(r["n"] for r in rows)

    batcher = Batcher(flush, linger=3600.0)
    waiter = asyncio.ensure_future(batcher.add("a", {"n": 1}))
    await asyncio.sleep(0)  # the row is in an open batch that would wait an hour
    await asyncio.wait_for(batcher.drain(), 5.0)
    assert done == [1]
    await waiter
