"""HostDelivery: the outbox's reports handed to the host plugins that own their messages."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from channel_engine import Batcher, HostRef, OutboundMessage, Report, SendOutcome, hookimpl
from channel_engine.delivery import HostDelivery
from channel_engine.metrics import Metrics
from channel_engine.plugins import get_plugin_manager
from channel_engine.store.sqlite import SQLiteStore

CLAIM = 200


async def test_a_batching_host_gets_a_whole_claim_of_reports_in_one_request(tmp_path: Path) -> None:
    # A host that joins reports into requests (SFMC's rows, Bloomreach's events) can only join what is in
    # flight at once; 32 at a time capped SFMC's report rows at about 530 a second.
    store = SQLiteStore(tmp_path / "ce.db")
    await store.open()
    try:
        ids = [f"m{i}" for i in range(CLAIM)]
        await store.enqueue(
            [
                OutboundMessage(
                    channel="sms",
                    destination="41790000001",
                    content={"text": "hi"},
                    host=HostRef(name="crm"),
                    id=mid,
                )
                for mid in ids
            ],
            0.0,
        )
        await store.claim(0.0, CLAIM, 30.0)
        await store.mark_sent([SendOutcome(mid, True, "PENDING", "PENDING_ACCEPTED", 26) for mid in ids], 0.0)
        delivered = [
            Report(
                kind="DELIVERY",
                channel="sms",
                message_id=mid,
                status_group="DELIVERED",
                status_id=5,
                status_name="DELIVERED_TO_HANDSET",
                done_at="2025-01-01T10:00:00.000+0000",
            )
            for mid in ids
        ]
        assert len(await store.record_reports(delivered, 1.0)) == CLAIM

        requests: list[list[str]] = []
        everything_sent = asyncio.Event()

        async def flush(destination: Any, rows: list[dict[str, Any]]) -> None:
            requests.append([row["id"] for row in rows])
            if sum(map(len, requests)) == CLAIM:
                everything_sent.set()

        # Only a full batch leaves (the linger is an hour): it fills only if the whole claim is in flight.
        batcher = Batcher(flush, max_rows=CLAIM, linger=3600.0)

        class Crm:
            @hookimpl
            def deliver_report(self, host: str, report: Report, message: OutboundMessage | None) -> Any:
                return batcher.add(host, {"id": report.message_id}) if host == "crm" else None

        delivery = HostDelivery(
            store, get_plugin_manager([Crm()], entry_points=False), Metrics(), batch=CLAIM
        )
        await delivery.start()
        try:
            await asyncio.wait_for(everything_sent.wait(), 10.0)
        finally:
            await delivery.stop()
        assert [sorted(r) for r in requests] == [sorted(ids)]
    finally:
        await store.close()
