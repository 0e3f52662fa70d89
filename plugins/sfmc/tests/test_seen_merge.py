"""A delivery report and a seen report of one message handled by two engine processes at once: the stored
row and at least one row handed to SFMC carry both the status and the seen time, on SQLite shared by two
processes and on Redis. Each "process" is a ReportSink on its own store connection (its own SQLiteStore on
the same file, or its own Redis client); rows go over loopback HTTP to FakeSfmc."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from channel_engine import Batcher, HostRef, OutboundMessage, Report
from channel_engine.hosting import PluginData
from channel_engine_sfmc.config import BusinessUnit
from channel_engine_sfmc.data_extensions import OMNI_REPORTS
from channel_engine_sfmc.sfmc_api import SfmcApi
from channel_engine_sfmc.sink import ROWS_NAMESPACE, ReportSink, stored_delivery_row
from channel_engine_sfmc.testing.fake_sfmc import FakeSfmc

MID = "100000001"
MESSAGES = 60


class StoreServices:
    """What ReportSink asks of HostServices: the plugin's data, on one process's own store."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def data(self, namespace: str) -> PluginData:
        return PluginData(self.store, namespace)


class OneUnit:
    def __init__(self, unit: BusinessUnit) -> None:
        self.unit = unit

    async def get(self, mid: str) -> BusinessUnit | None:
        return self.unit if mid == self.unit.mid else None


async def open_stores(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> list[Any]:
    """Two stores on the same data, as two engine processes would open them."""
    if kind == "sqlite":
        from channel_engine.store.sqlite import SQLiteStore

        stores: list[Any] = [SQLiteStore(tmp_path / "store.db"), SQLiteStore(tmp_path / "store.db")]
    else:
        from channel_engine.store.redis import RedisStore

        url = request.getfixturevalue("redis_url")
        stores = [RedisStore(url), RedisStore(url)]
    for store in stores:
        await store.open()
    return stores


@pytest.fixture(params=["sqlite", "redis"])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[list[Any]]:
    opened = await open_stores(request.param, tmp_path, request)
    yield opened
    for store in opened:
        await store.close()


def recording(sink: ReportSink, handed: list[dict[str, Any]]) -> None:
    """Keep every row the sink hands to SFMC (its batcher's output), then hand it over as before."""
    flush = sink._flush

    async def record(destination: Any, rows: list[dict[str, Any]]) -> None:
        handed.extend(rows)
        await flush(destination, rows)

    sink.batcher = Batcher(record)


def message(n: int) -> OutboundMessage:
    return OutboundMessage(
        id=f"msg-{n:04d}",
        channel="viber",
        destination=f"4179123{n:04d}",
        sender="InfoViber",
        host=HostRef(name="sfmc", context={"mid": MID}),
    )


def delivery(n: int) -> Report:
    return Report(
        kind="DELIVERY",
        channel="viber",
        message_id=f"msg-{n:04d}",
        to=f"4179123{n:04d}",
        status_group_id=3,
        status_group="DELIVERED",
        status_id=5,
        status_name="DELIVERED_TO_HANDSET",
        status_description="Message delivered to handset",
        sent_at="2024-05-01T10:00:00.000+0000",
        done_at="2024-05-01T10:00:02.000+0000",
    )


def seen(n: int) -> Report:
    return Report(
        kind="SEEN", channel="viber", message_id=f"msg-{n:04d}", seen_at="2024-05-01T10:01:00.000+0000"
    )


async def test_delivery_and_seen_in_two_processes_both_reach_the_row(stores: list[Any]) -> None:
    fake = FakeSfmc(mid=MID)
    async with fake.running(), httpx.AsyncClient(timeout=20.0) as http:
        api = SfmcApi(http=http)
        units = OneUnit(BusinessUnit(mid=MID, sfmc=fake.credentials()))
        handed: list[dict[str, Any]] = []
        sinks = [ReportSink(StoreServices(store), units, api, http) for store in stores]
        for sink in sinks:
            recording(sink, handed)
        calls = []
        for n in range(MESSAGES):
            # Alternate which process gets which report, so both orders of the race are tried.
            first, second = (sinks[0], sinks[1]) if n % 2 else (sinks[1], sinks[0])
            calls += [first.deliver(delivery(n), message(n)), second.deliver(seen(n), message(n))]
        await asyncio.gather(*calls)

        rows = PluginData(stores[0], ROWS_NAMESPACE)
        for n in range(MESSAGES):
            stored = await stored_delivery_row(rows, OMNI_REPORTS.key, f"msg-{n:04d}")
            assert stored is not None and stored.get("statusName") == "DELIVERED_TO_HANDSET", n
            assert stored.get("seenAt") == "2024-05-01T10:01:00.000+00:00", n
        complete = {row["messageId"] for row in handed if row.get("statusName") and row.get("seenAt")}
        assert complete == {f"msg-{n:04d}" for n in range(MESSAGES)}
        in_sfmc = {row["messageId"]: row for row in fake.rows(OMNI_REPORTS.key)}
        assert len(in_sfmc) == MESSAGES
        assert all(row.get("statusName") and row.get("seenAt") for row in in_sfmc.values())
