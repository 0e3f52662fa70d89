"""How fast the SQLite store runs the hot path (a measurement, not a test).

    uv run --no-sync python bench/store_sqlite.py [--messages 10000] [--batch 500] [--dir PATH]

Phases, each timed: enqueue in batches (one after another, then concurrently), claim + mark_sent,
record one delivery report per message (and a seen report for a tenth), claim + ack the outbox, and a
pipelined run where every stage works at once as in the engine. The file lives under --dir (default: a
temporary directory on the disk the tests use), with synchronous=FULL as in production.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from channel_engine.models import HostRef, OutboundMessage, Report, SendOutcome
from channel_engine.store.sqlite import SQLiteStore


def message(i: int, prefix: str) -> OutboundMessage:
    return OutboundMessage(
        channel="sms",
        destination=f"4179{i:07d}",
        sender="InfoSMS",
        content={"text": f"Your code is {i:06d}. It expires in 10 minutes."},
        host=HostRef(name="sfmc", context={"journey": "j-1", "activity": "a-7", "contact": f"c-{i}"}),
        id=f"{prefix}{i}",
    )


def delivered(mid: str) -> Report:
    return Report(
        kind="DELIVERY",
        channel="sms",
        message_id=mid,
        to="41790000000",
        status_group_id=3,
        status_group="DELIVERED",
        status_id=5,
        status_name="DELIVERED_TO_HANDSET",
        error_name="NO_ERROR",
        done_at="2025-01-01T10:00:00.000+0000",
        message_count=1,
        raw={"messageId": mid, "status": {"groupName": "DELIVERED", "name": "DELIVERED_TO_HANDSET"}},
    )


def seen(mid: str) -> Report:
    return Report(kind="SEEN", channel="sms", message_id=mid, seen_at="2025-01-01T10:01:00.000+0000")


class Timer:
    def __init__(self, store: SQLiteStore, n: int) -> None:
        self.store, self.n = store, n

    def __enter__(self) -> Timer:
        self.started, self.commits = time.perf_counter(), self.store.commits
        return self

    def report(self, name: str, items: int | None = None) -> None:
        took = time.perf_counter() - self.started
        count = items if items is not None else self.n
        commits = self.store.commits - self.commits
        print(f"{name:<44} {took * 1000:8.1f} ms  {count / took:>9,.0f}/s  {commits:>4} commits")

    def __exit__(self, *exc: object) -> None:
        pass


def chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def phases(store: SQLiteStore, n: int, batch: int) -> None:
    now = 1000.0
    with Timer(store, n) as t:
        for part in chunks([message(i, "s") for i in range(n)], batch):
            await store.enqueue(part, now)
        t.report(f"enqueue {n} in batches of {batch}, sequential")
    with Timer(store, n) as t:
        await asyncio.gather(
            *(store.enqueue(part, now) for part in chunks([message(i, "c") for i in range(n)], batch))
        )
        t.report(f"enqueue {n} in batches of {batch}, concurrent")
    with Timer(store, 2 * n) as t:
        total = 0
        while claimed := await store.claim(now, batch, 30.0):
            await store.mark_sent(
                [
                    SendOutcome(q.message.id or "", True, "PENDING", "PENDING_ACCEPTED", 26, None, 1)
                    for q in claimed
                ],
                now,
            )
            total += len(claimed)
        assert total == 2 * n, total
        t.report(f"claim + mark_sent {2 * n} in batches of {batch}")
    ids = [f"s{i}" for i in range(n)] + [f"c{i}" for i in range(n)]
    reports = [delivered(mid) for mid in ids] + [seen(mid) for mid in ids[::10]]
    with Timer(store, len(reports)) as t:
        new = await asyncio.gather(*(store.record_reports(part, now) for part in chunks(reports, 100)))
        assert sum(map(len, new)) == len(reports)
        t.report(f"record {len(reports)} reports, 100 a webhook, concurrent")
    with Timer(store, len(reports)) as t:
        again = await asyncio.gather(*(store.record_reports(part, now) for part in chunks(reports, 100)))
        assert sum(map(len, again)) == 0
        t.report("the same reports replayed (all duplicates)")
    with Timer(store, len(reports)) as t:
        total = 0
        while items := await store.claim_outbox(now, batch, 30.0):
            await store.ack_outbox([i.id for i in items])
            total += len(items)
        assert total == len(reports)
        t.report(f"claim_outbox + ack {len(reports)} in batches of {batch}")
    with Timer(store, 1) as t:
        for _ in range(100):
            await store.stats()
        t.report(f"stats() x100 (~{2 * n} messages)", 100)


async def pipelined(store: SQLiteStore, n: int, batch: int) -> None:
    """Intake, dispatcher and webhooks all at once: 40 intake calls of n/40 messages at a time."""
    now = 2000.0
    done = asyncio.Event()
    sent_ids: asyncio.Queue[list[str]] = asyncio.Queue()

    async def intake() -> None:
        parts = chunks([message(i, "p") for i in range(n)], 50)
        for group in chunks(parts, 40):
            await asyncio.gather(*(store.enqueue(part, now) for part in group))

    async def dispatcher() -> None:
        total = 0
        while total < n:
            claimed = await store.claim(now, batch, 30.0)
            if not claimed:
                await asyncio.sleep(0.001)
                continue
            ids = [q.message.id or "" for q in claimed]
            await store.mark_sent([SendOutcome(mid, True, "PENDING", "PENDING_ACCEPTED") for mid in ids], now)
            sent_ids.put_nowait(ids)
            total += len(ids)
        sent_ids.put_nowait([])

    async def webhooks() -> None:
        pending: list[asyncio.Future] = []
        while ids := await sent_ids.get():
            for part in chunks(ids, 100):
                reports = [delivered(mid) for mid in part] + [seen(mid) for mid in part[::2]]
                pending.append(asyncio.ensure_future(store.record_reports(reports, now)))
        await asyncio.gather(*pending)
        done.set()

    async def delivery() -> None:
        while not (done.is_set() and not (await store.stats())["outbox"]):
            items = await store.claim_outbox(now, batch, 30.0)
            if items:
                await store.ack_outbox([i.id for i in items])
            else:
                await asyncio.sleep(0.001)

    with Timer(store, n) as t:
        await asyncio.gather(intake(), dispatcher(), webhooks(), delivery())
        t.report(f"pipelined: {n} messages end to end, 1.5 reports each")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir or Path(__file__).parent) as directory:
        store = SQLiteStore(Path(directory) / "bench.db")
        await store.open()
        print(f"SQLite store, {os.cpu_count()} CPUs, synchronous=FULL, file in {directory}")
        await phases(store, args.messages, args.batch)
        await pipelined(store, args.messages, args.batch)
        with Timer(store, 1) as t:
            await store.close()
            t.report("close", 1)


if __name__ == "__main__":
    asyncio.run(main())
