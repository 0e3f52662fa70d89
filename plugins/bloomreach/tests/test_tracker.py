"""The tracker inside a running engine (no channel plugin needed): reports handed to the plugin's
`deliver_report` become events in a fake of Bloomreach, in batches of at most 50; what Bloomreach refuses is
kept for the operator and not retried; an outage raises, so the engine's outbox keeps the report and hands it
over again. The last tests go through the engine's own outbox: a message the engine cannot send (its channel
is not installed) fails for good, and its FAILED report reaches Bloomreach as `enqueue_failed`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from channel_engine import HostRef, OutboundMessage, Report
from channel_engine.config import Secret
from channel_engine.dispatcher import RetryPolicy
from channel_engine.testing.harness import Harness, run_engine
from channel_engine_bloomreach import plugin
from channel_engine_bloomreach.testing.fake_bloomreach import FakeBloomreach
from channel_engine_bloomreach.tracking import MAX_COMMANDS, TrackingUnavailable

ADMIN = "bloomreach-plugin-tests-admin-key"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
WEBHOOK_TOKEN = "scenario-webhook-token-0123456789"
TEN_AM = "2025-01-01T10:00:00.000+0000"
NOWHERE = "no-such-channel"  # installed in no environment: the engine cannot send it


@dataclass
class Setup:
    harness: Harness
    bloomreach: FakeBloomreach

    @property
    def token(self) -> str:
        return self.bloomreach.project_token

    async def rejected(self) -> list[dict[str, Any]]:
        response = await self.harness.http.get(f"/bloomreach/rejected/{self.token}", headers=AUTH)
        assert response.status_code == 200, response.text
        return list(response.json()["rejected"])


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    fake = FakeBloomreach()
    async with fake.running(), run_engine(tmp_path, api_key=Secret(ADMIN)) as harness:
        put = await harness.http.put(
            f"/bloomreach/config/{fake.project_token}", json=fake.project_config(WEBHOOK_TOKEN), headers=AUTH
        )
        assert put.status_code == 200, put.text
        yield Setup(harness, fake)


def message(n: int = 1, project: str = "fake-project-token", channel: str = "sms") -> OutboundMessage:
    return OutboundMessage(
        channel=channel,
        destination=f"4179302{n:04d}",
        sender="InfoSMS",
        content={"text": "Spring sale"},
        host=HostRef(
            "bloomreach",
            {
                "project": project,
                "customerIds": {"registered": f"customer-{n}"},
                "properties": {"campaign_id": "65f1c0ffee", "action_id": 7},
            },
        ),
        id=f"msg-{n}",
    )


def sent(n: int = 1) -> Report:
    return Report(kind="SENT", channel="sms", message_id=f"msg-{n}", sent_at=TEN_AM, message_count=1)


def delivered(n: int = 1) -> Report:
    return Report(
        kind="DELIVERY",
        channel="sms",
        message_id=f"msg-{n}",
        status_group="DELIVERED",
        status_name="DELIVERED_TO_HANDSET",
        error_id=0,
        error_name="NO_ERROR",
        done_at=TEN_AM,
    )


async def deliver(report: Report, msg: OutboundMessage | None) -> None:
    pending = plugin.deliver_report("bloomreach", report, msg)
    assert pending is not None
    await pending


async def cached(setup: Setup) -> None:
    """Reads the project once, so the next deliveries find it without waiting on the store and all join
    one batch in the same turn of the event loop."""
    assert await plugin.tracker.projects.get(setup.token) is not None


async def test_a_report_becomes_an_event_on_the_customer(setup: Setup) -> None:
    await deliver(sent(), message())
    (event,) = setup.bloomreach.events
    assert event["customer_ids"] == {"registered": "customer-1"}
    assert (event["event_type"], event["timestamp"]) == ("campaign", 1735725600.0)
    assert event["properties"]["status"] == "enqueued" and event["properties"]["campaign_id"] == "65f1c0ffee"
    assert await setup.rejected() == []


async def test_reports_handed_over_together_go_in_one_batch(setup: Setup) -> None:
    await cached(setup)
    pending = Report(
        kind="DELIVERY",
        channel="sms",
        message_id="msg-2",
        status_group="PENDING",
        status_name="PENDING_ENROUTE",
    )
    await asyncio.gather(
        deliver(sent(1), message(1)),
        deliver(delivered(1), message(1)),
        deliver(pending, message(2)),  # intermediate: tracks nothing
        deliver(sent(2), message(2)),
    )
    assert [r["commands"] for r in setup.bloomreach.requests] == [3]
    statuses = [(e["properties"]["message_id"], e["properties"]["status"]) for e in setup.bloomreach.events]
    assert statuses == [("msg-1", "enqueued"), ("msg-1", "delivered"), ("msg-2", "enqueued")]


async def test_more_than_fifty_events_are_split_into_batches_of_fifty(setup: Setup) -> None:
    await cached(setup)
    await asyncio.gather(*(deliver(sent(n), message(n)) for n in range(120)))
    assert sorted(r["commands"] for r in setup.bloomreach.requests) == [20, MAX_COMMANDS, MAX_COMMANDS]
    assert {e["properties"]["message_id"] for e in setup.bloomreach.events} == {
        f"msg-{n}" for n in range(120)
    }


async def test_reports_of_no_configured_project_or_another_host_track_nothing(setup: Setup) -> None:
    assert plugin.deliver_report("sfmc", sent(), message()) is None  # not ours: another plugin's host
    await deliver(sent(), None)  # a report whose message is unknown
    await deliver(sent(), message(project="not-configured"))
    assert setup.bloomreach.requests == [] and await setup.rejected() == []


async def test_events_bloomreach_refuses_are_kept_with_the_reason_and_not_retried(setup: Setup) -> None:
    setup.bloomreach.refuse(
        lambda e: "property campaign_id is not allowed" if e["properties"]["status"] == "delivered" else None
    )
    await cached(setup)
    await asyncio.gather(deliver(sent(), message()), deliver(delivered(), message()))  # neither raises
    assert [e["properties"]["status"] for e in setup.bloomreach.events] == ["enqueued"]
    (item,) = await setup.rejected()
    assert item["reason"] == "property campaign_id is not allowed"
    assert item["command"]["command_id"] == "msg-1:delivered:"
    assert item["command"]["data"]["properties"]["status"] == "delivered"
    assert len(setup.bloomreach.requests) == 1


async def test_a_refused_key_keeps_the_whole_batch_with_bloomreachs_answer(setup: Setup) -> None:
    setup.bloomreach.secret = "rotated-secret"  # the stored key no longer works
    await cached(setup)
    await asyncio.gather(deliver(sent(1), message(1)), deliver(sent(2), message(2)))
    rejected = await setup.rejected()
    assert sorted(item["command"]["command_id"] for item in rejected) == [
        "msg-1:enqueued:",
        "msg-2:enqueued:",
    ]
    assert {item["reason"] for item in rejected} == {"HTTP 401: access key or secret is not valid"}
    assert [r["status"] for r in setup.bloomreach.requests] == [401]  # not retried


async def test_an_outage_raises_so_the_engine_keeps_the_report(setup: Setup) -> None:
    plugin.tracker.api.backoff = 0.001
    setup.bloomreach.down = True
    with pytest.raises(TrackingUnavailable, match="HTTP 503"):
        await deliver(sent(), message())
    assert len(setup.bloomreach.requests) == plugin.tracker.api.attempts
    assert await setup.rejected() == []  # not refused: handed over again later


async def test_a_project_deleted_before_its_batch_goes_is_recorded(setup: Setup) -> None:
    plugin.tracker.batcher.linger = 30.0  # the batch waits until drained
    await cached(setup)
    waiting = asyncio.create_task(deliver(sent(), message()))
    deleted = await setup.harness.http.delete(f"/bloomreach/config/{setup.token}", headers=AUTH)
    assert deleted.status_code == 204
    await plugin.tracker.batcher.drain()
    await waiting
    (item,) = await setup.rejected()
    assert item["reason"] == "the project's configuration was deleted"
    assert setup.bloomreach.requests == []


# -- through the engine's outbox ----------------------------------------------------------------------------


async def enqueue_unsendable(harness: Harness, n: int) -> str:
    """Store a message of a channel no plugin sends, as if a host had submitted it: it fails for good."""
    failing = message(n, channel=NOWHERE)
    await harness.engine.store.enqueue([failing], time.time())
    harness.engine.dispatcher.wake()
    assert failing.id is not None
    return failing.id


async def test_a_message_that_fails_for_good_is_tracked_as_enqueue_failed(setup: Setup) -> None:
    started = time.time()
    mid = await enqueue_unsendable(setup.harness, 1)
    (event,) = await setup.bloomreach.wait_for_events(lambda e: e["properties"]["message_id"] == mid)
    properties = event["properties"]
    assert (properties["status"], properties["error"]) == ("enqueue_failed", "NOT_SENT")
    assert NOWHERE in properties["comment"]
    assert properties["action_type"] == NOWHERE and properties["campaign_id"] == "65f1c0ffee"
    assert event["customer_ids"] == {"registered": "customer-1"}
    assert started - 1 <= event["timestamp"] <= time.time() + 1  # seconds, when it failed


async def test_an_outage_of_bloomreach_loses_nothing(setup: Setup) -> None:
    engine = setup.harness.engine
    engine.delivery.retry = RetryPolicy(base=0.05, cap=0.2)
    plugin.tracker.api.backoff = 0.001
    plugin.tracker.api.attempts = 2
    setup.bloomreach.down = True
    mid = await enqueue_unsendable(setup.harness, 1)
    await setup.bloomreach.wait_until(lambda: len(setup.bloomreach.requests) >= 2)  # tried, and retried
    assert setup.bloomreach.events == []

    setup.bloomreach.down = False
    engine.delivery.wake()
    (event,) = await setup.bloomreach.wait_for_events(lambda e: e["properties"]["message_id"] == mid)
    assert event["properties"]["status"] == "enqueue_failed"
    assert engine.metrics.host_deliveries[("bloomreach", "error")] >= 1  # it was handed over again
