"""Bloomreach campaigns end to end over loopback HTTP: a scenario's webhook posts each message to our send
endpoint, the engine sends it to the simulator (as Infobip), and every outcome comes back to the customer's
profile as a campaign event in a fake of Bloomreach's tracking API, field by field; batching, throttling,
an outage and refused events."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from channel_engine.config import Secret
from channel_engine.dispatcher import RetryPolicy
from channel_engine.testing.harness import Harness, run_engine
from channel_engine_bloomreach import plugin
from channel_engine_bloomreach.testing.fake_bloomreach import Event, FakeBloomreach

ADMIN = "bloomreach-tests-admin-key"
WEBHOOK_TOKEN = "scenario-webhook-token-0123456789"


@dataclass
class Campaign:
    harness: Harness
    bloomreach: FakeBloomreach

    @property
    def token(self) -> str:
        return self.bloomreach.project_token

    async def post(self, body: dict[str, Any], token: str = WEBHOOK_TOKEN) -> httpx.Response:
        return await self.harness.http.post(
            f"/bloomreach/{self.token}/messages", json=body, headers={"Authorization": f"Bearer {token}"}
        )

    async def send(self, to: str, **fields: Any) -> str:
        response = await self.post(message(to, **fields))
        assert response.status_code == 202, response.text
        return str(response.json()["messageId"])

    async def events_of(self, message_id: str, count: int) -> dict[str, Event]:
        found = await self.bloomreach.wait_for_events(
            lambda e: e["properties"].get("message_id") == message_id, count
        )
        return {e["properties"]["status"]: e for e in found}

    async def configure(self, **extra: Any) -> httpx.Response:
        document = self.bloomreach.project_config(WEBHOOK_TOKEN, **extra)
        return await self.harness.http.put(
            f"/bloomreach/config/{self.token}", json=document, headers={"Authorization": f"Bearer {ADMIN}"}
        )


def message(to: str, **fields: Any) -> dict[str, Any]:
    return {
        "to": to,
        "text": "Spring sale: 20% off everything until Sunday.",
        "customer_ids": {"registered": f"customer-{to[-4:]}"},
        "campaign_id": "65f1c0ffee",
        "campaign_name": "Spring sale",
        "action_id": 7,
        "action_name": "SMS reminder",
        **fields,
    }


@contextlib.asynccontextmanager
async def running(tmp_path: Path, store_url: str | None = None, **project: Any) -> AsyncIterator[Campaign]:
    fake = FakeBloomreach()
    async with fake.running(), run_engine(tmp_path, api_key=Secret(ADMIN), store_url=store_url) as harness:
        harness.engine.dispatcher.retry = RetryPolicy(base=0.05)
        harness.engine.delivery.retry = RetryPolicy(base=0.2, cap=1.0)
        campaign = Campaign(harness, fake)
        settings = {"senders": ["InfoSMS", "ShopNews"], "defaultSender": "InfoSMS", **project}
        configured = await campaign.configure(**settings)
        assert configured.status_code == 200, configured.text
        yield campaign


@pytest.fixture
async def campaign(tmp_path: Path) -> AsyncIterator[Campaign]:
    async with running(tmp_path) as c:
        yield c


# -- every outcome, field by field ----------------------------------------------------------------------


async def test_a_delivered_sms_tracks_enqueued_then_delivered_with_every_property(campaign: Campaign) -> None:
    started = time.time()
    mid = await campaign.send("41793026000", properties={"language": "en"})
    events = await campaign.events_of(mid, 2)
    assert set(events) == {"enqueued", "delivered"}

    enqueued = events["enqueued"]
    assert enqueued["customer_ids"] == {"registered": "customer-6000"}
    assert enqueued["event_type"] == "campaign"
    assert started - 1 <= enqueued["timestamp"] <= time.time() + 1  # seconds, not milliseconds
    assert enqueued["properties"] == {
        "campaign_id": "65f1c0ffee",
        "campaign_name": "Spring sale",
        "action_id": 7,
        "action_name": "SMS reminder",
        "language": "en",
        "action_type": "sms",
        "status": "enqueued",
        "recipient": "41793026000",
        "message_id": mid,
        "sender_id": "InfoSMS",
        "number_of_message_parts": 1,
        "delivery_report_expected": True,
    }
    delivered = events["delivered"]["properties"]
    assert {k: delivered[k] for k in ("status", "status_code", "error", "infobip_status")} == {
        "status": "delivered",
        "status_code": 0,
        "error": "NO_ERROR",
        "infobip_status": "DELIVERED_TO_HANDSET",
    }
    assert "comment" not in delivered
    assert delivered["campaign_name"] == "Spring sale" and delivered["number_of_message_parts"] == 1
    assert events["delivered"]["timestamp"] >= enqueued["timestamp"]


@pytest.mark.parametrize(
    ("suffix", "status", "error"),
    [
        ("991", "failed", "EC_UNKNOWN_SUBSCRIBER"),
        ("992", "rejected", None),
        ("993", "failed", "EC_ABSENT_SUBSCRIBER"),
    ],
)
async def test_undelivered_outcomes_carry_infobips_error(
    campaign: Campaign, suffix: str, status: str, error: str | None
) -> None:
    mid = await campaign.send(f"41793026{suffix}")
    events = await campaign.events_of(mid, 2)
    assert set(events) == {"enqueued", status}
    props = events[status]["properties"]
    view = await campaign.harness.engine.store.get_message(mid)
    assert view is not None
    assert props["error"] == (error or view.error_name)
    assert isinstance(props["status_code"], int)
    if props["status_code"]:
        assert props["comment"]


async def test_a_message_with_no_report_yet_stays_enqueued(campaign: Campaign) -> None:
    pending = await campaign.send("41793026994")
    delivered = await campaign.send("41793026001")
    await campaign.events_of(delivered, 2)
    await campaign.harness.simulator.wait_reported([pending, delivered])
    assert [
        e["properties"]["status"]
        for e in campaign.bloomreach.events
        if e["properties"]["message_id"] == pending
    ] == ["enqueued"]


async def test_an_mms_tracks_action_type_mms(campaign: Campaign) -> None:
    mid = await campaign.send(
        "41793026010",
        channel="mms",
        title="Spring menu",
        media_url="https://cdn.example.com/spring.jpg",
        text="Book a table this week.",
    )
    events = await campaign.events_of(mid, 2)
    assert {e["properties"]["action_type"] for e in events.values()} == {"mms"}
    assert set(events) == {"enqueued", "delivered"}
    assert campaign.harness.simulator.accepted[mid].bulk_id == "65f1c0ffee-7"


async def test_infobip_refusing_the_message_tracks_enqueue_failed(tmp_path: Path) -> None:
    async with running(tmp_path) as c:
        wrong = {"name": "main", "baseUrl": f"{c.harness.url}/simulator", "apiKey": "not-the-simulators-key"}
        assert (await c.configure(infobipAccount=wrong)).status_code == 200
        mid = await c.send("41793026020")
        events = await c.events_of(mid, 1)
        failed = events["enqueue_failed"]["properties"]
        assert failed["error"] == "E401"
        assert "not-the-simulators-key" not in failed["comment"]
        assert failed["campaign_id"] == "65f1c0ffee"


async def test_a_country_without_delivery_reports_is_marked_so(campaign: Campaign) -> None:
    response = await campaign.post(message("4915112345678"))
    assert response.status_code == 202
    assert response.json()["deliveryReportExpected"] is False
    assert "Germany" in response.json()["comment"]
    events = await campaign.events_of(response.json()["messageId"], 1)
    enqueued = events["enqueued"]["properties"]
    assert enqueued["delivery_report_expected"] is False and "Germany" in enqueued["comment"]


async def test_replies_and_clicks_are_tracked(campaign: Campaign) -> None:
    replied = await campaign.send("41793026998", text="How was your order? Reply 1-10.")
    clicked = await campaign.send(
        "41793026997", text="Shop now: https://shop.example.com/spring", track_clicks=True
    )
    reply = (await campaign.events_of(replied, 3))["incoming_message"]
    assert reply["customer_ids"] == {"registered": "customer-6998"}
    props = reply["properties"]
    assert (props["message"], props["sender"], props["action_type"]) == ("STOP", "41793026998", "sms")
    assert props["campaign_name"] == "Spring sale" and props["reply_id"]
    click = (await campaign.events_of(clicked, 3))["clicked"]
    assert click["properties"]["url"] == "https://shop.example.com/spring"


# -- the send endpoint's contract ---------------------------------------------------------------------


async def test_bad_requests_are_refused_with_the_field_and_the_reason(campaign: Campaign) -> None:
    async def problem(body: Any, token: str = WEBHOOK_TOKEN) -> tuple[int, str]:
        response = await campaign.post(body, token)
        answer = response.json()
        return response.status_code, answer["problems"][0]["path"] if "problems" in answer else answer[
            "error"
        ]

    assert await problem({**message("41793026000"), "customer_ids": {}}) == (400, "$.customer_ids")
    assert await problem({k: v for k, v in message("41793026000").items() if k != "to"}) == (400, "$")
    assert await problem(message("not-a-number")) == (400, "$.to")
    assert await problem(message("41793026000", text=None)) == (400, "$.text")
    assert await problem(message("41793026000", sender="Nobody")) == (400, "$.sender")
    assert await problem(message("41793026000", colour="red")) == (400, "$")
    assert await problem(message("41793026000", channel="fax")) == (400, "$.channel")
    status, error = await problem(message("41793026000"), token="wrong-token-0123456789")
    assert status == 401 and "Bearer" in error
    unknown = await campaign.harness.http.post("/bloomreach/nope/messages", json=message("41793026000"))
    assert unknown.status_code == 404 and "nope" in unknown.json()["error"]
    assert campaign.bloomreach.events == []  # nothing refused was sent or tracked


async def test_a_repeated_message_id_sends_once(campaign: Campaign) -> None:
    first = await campaign.send("41793026030", message_id="scenario-run-1")
    again = await campaign.send("41793026030", message_id="scenario-run-1")
    assert first == again
    await campaign.events_of(first, 2)
    await campaign.harness.simulator.wait_reported([first])
    assert campaign.harness.simulator.stats()["requests"] == 1


# -- the tracking API: batches, throttling, outage, refusals ------------------------------------------


async def test_events_go_in_batches_of_at_most_fifty(campaign: Campaign) -> None:
    ids = await asyncio.gather(*(campaign.send(f"4179310{n:04d}") for n in range(120)))
    await campaign.bloomreach.wait_for_events(lambda e: e["properties"]["status"] == "delivered", 120)
    batches = [r for r in campaign.bloomreach.requests if r["path"].endswith("/batch") and r["commands"]]
    assert max(r["commands"] for r in batches) <= 50
    assert len(batches) < 240 / 2  # two events per message, many per request
    assert {e["properties"]["message_id"] for e in campaign.bloomreach.events} == set(ids)


async def test_throttling_is_retried_and_loses_nothing(campaign: Campaign) -> None:
    campaign.bloomreach.throttle(3)
    ids = [await campaign.send(f"4179320000{n}") for n in range(3)]
    for mid in ids:
        await campaign.events_of(mid, 2)
    assert [r["status"] for r in campaign.bloomreach.requests[:3]] == [429, 429, 429]


async def test_an_outage_of_bloomreach_loses_nothing(campaign: Campaign) -> None:
    campaign.bloomreach.down = True
    ids = [await campaign.send(f"4179330000{n}") for n in range(3)]
    await campaign.harness.simulator.wait_reported(ids)
    await campaign.bloomreach.wait_until(lambda: len(campaign.bloomreach.requests) >= 4)  # tried, and retried
    assert campaign.bloomreach.events == []
    assert (await campaign.harness.engine.store.stats())["outbox"] >= 1

    campaign.bloomreach.down = False
    campaign.harness.engine.delivery.wake()
    for mid in ids:
        events = await campaign.events_of(mid, 2)
        assert set(events) == {"enqueued", "delivered"}


async def test_events_bloomreach_refuses_are_recorded_and_not_sent_again(campaign: Campaign) -> None:
    first = await campaign.send("41793026040")
    campaign.bloomreach.refuse(
        lambda e: (
            "property language is not allowed"
            if e["properties"] == {**e["properties"], "message_id": first, "status": "delivered"}
            else None
        )
    )
    await campaign.bloomreach.wait_until(lambda: bool(campaign.bloomreach.refused))
    await plugin.tracker.batcher.drain()  # the refusal is recorded before its batch is done
    auth = {"Authorization": f"Bearer {ADMIN}"}
    response = await campaign.harness.http.get(f"/bloomreach/rejected/{campaign.token}", headers=auth)
    (item,) = response.json()["rejected"]
    assert item["reason"] == "property language is not allowed"
    assert item["command"]["data"]["properties"]["status"] == "delivered"

    # A later message goes through; by then a refusal handed back for a retry would have been counted.
    later = await campaign.send("41793026041")
    await campaign.events_of(later, 2)
    assert len(campaign.bloomreach.refused) == 1
    assert campaign.harness.engine.metrics.host_deliveries[("bloomreach", "error")] == 0


async def test_a_campaign_on_the_redis_store(tmp_path: Path, redis_url: str) -> None:
    """Projects, SENT reports, the outbox and refused events live in the engine's store: Redis works too."""
    async with running(tmp_path, store_url=redis_url) as c:
        mid = await c.send("41793026050")
        events = await c.events_of(mid, 2)
        assert set(events) == {"enqueued", "delivered"}
