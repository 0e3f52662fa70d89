"""Where reports go: native data extensions with SFMC down for a while, external notification URLs, and
two-way replies that fire a journey's API event. Real HTTP over loopback; waits await events."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from channel_engine.testing.servers import WebhookReceiver, serve_app
from channel_engine_sfmc.data_extensions import INBOUND_MESSAGES, OMNI_REPORTS, SMS_DELIVERY_REPORTS
from channel_engine_sfmc.testing.journeys import Journey, journey


@pytest.fixture
async def trip(tmp_path: Path) -> Any:
    async with journey(tmp_path) as j:
        yield j


def sms(destination: str, **extra: Any) -> dict[str, Any]:
    return {"channel": "sms", "phone": destination, "content": {"text": "Your order has shipped."}, **extra}


async def test_nothing_is_lost_while_sfmc_is_down(trip: Journey) -> None:
    trip.sfmc.down = True
    answers = [await trip.execute(f"contact-{n}", **sms(f"4179123400{n}")) for n in range(3)]
    await trip.harness.simulator.wait_reported([a["messageId"] for a in answers])
    # The reports were taken and stored; handing them to SFMC failed and waits in the outbox.
    stats = await trip.harness.engine.store.stats()
    assert stats["outbox"] >= 1 and trip.sfmc.rows(SMS_DELIVERY_REPORTS.key) == []
    # Get Reports already answers from the engine's own copy of the rows.
    report = await trip.get_report("contact-0", SMS_DELIVERY_REPORTS.key, answers[0]["messageId"])
    assert report["statusGroupName"] == "DELIVERED"

    trip.sfmc.down = False
    trip.harness.engine.delivery.wake()
    rows = await trip.sfmc.wait_for_rows(SMS_DELIVERY_REPORTS.key, 3, timeout=30.0)
    assert {row["messageId"] for row in rows} == {a["messageId"] for a in answers}


async def test_rows_written_together_go_in_one_request(trip: Journey) -> None:
    answers = await asyncio.gather(
        *(trip.execute(f"contact-{n}", **sms(f"417912340{n:02d}")) for n in range(20))
    )
    await trip.harness.simulator.wait_reported([a["messageId"] for a in answers])
    await trip.sfmc.wait_for_rows(SMS_DELIVERY_REPORTS.key, 20)
    writes = [r for r in trip.sfmc.requests if r[1].endswith(f"key:{SMS_DELIVERY_REPORTS.key}/rows")]
    assert len(writes) < 20  # batched, not one request per report


async def test_external_storage_posts_the_same_rows_to_the_notification_urls(trip: Journey) -> None:
    receiver = WebhookReceiver()
    async with serve_app(receiver.app) as hooks:
        external = {
            "mode": "external",
            "external": {
                "smsNotificationUrl": f"{hooks}/sms-reports",
                "omniNotificationUrl": f"{hooks}/omni-reports",
            },
        }
        assert (await trip.configure(reportStorage=external)).status_code == 200
        sent_sms = await trip.execute("c-sms", **sms("41791234000"))
        sent_viber = await trip.execute(
            "c-viber",
            channel="viber",
            phone="41791234001",
            sender="InfoViber",
            content={"text": "Hello", "label": "TRANSACTIONAL"},
        )
        await trip.harness.simulator.wait_reported([sent_sms["messageId"], sent_viber["messageId"]])
        await receiver.wait_for(lambda got: {"/sms-reports", "/omni-reports"} <= {r.path for r in got}, 10.0)
    body = receiver.bodies("/sms-reports")[0]
    assert body["dataExtension"] == SMS_DELIVERY_REPORTS.name and body["mid"] == trip.mid
    assert body["rows"][0]["messageId"] == sent_sms["messageId"]
    assert set(body["rows"][0]) <= set(SMS_DELIVERY_REPORTS.column_names)
    omni = receiver.bodies("/omni-reports")[0]
    assert omni["dataExtension"] == OMNI_REPORTS.name and omni["rows"][0]["channel"] == "Viber"
    assert trip.sfmc.rows(SMS_DELIVERY_REPORTS.key) == []  # nothing went to the data extensions


async def test_a_reply_lands_in_inbound_messages_and_fires_the_journey_event(trip: Journey) -> None:
    arguments = sms("41791234998", triggerEventOnResponse={"eventDefinitionKey": "APIEvent-sms-response"})
    sent = await trip.execute("contact-replies", **arguments)
    await trip.harness.simulator.wait_reported([sent["messageId"]])
    rows = await trip.sfmc.wait_for_rows(INBOUND_MESSAGES.key, 1)
    row = rows[0]
    assert row["text"] == "STOP" and row["from"].lstrip("+") == "41791234998"
    assert row["contactKey"] == "contact-replies" and row["pairedMessageId"] == sent["messageId"]
    assert row["channel"] == "SMS" and set(row) <= set(INBOUND_MESSAGES.column_names)
    event = (await trip.sfmc.wait_for_events(1))[0]
    assert event["ContactKey"] == "contact-replies" and event["EventDefinitionKey"] == "APIEvent-sms-response"
    assert event["Data"]["text"] == "STOP"


async def test_a_reply_without_trigger_event_is_stored_but_fires_nothing(trip: Journey) -> None:
    sent = await trip.execute("contact-quiet", **sms("41791234998"))
    await trip.harness.simulator.wait_reported([sent["messageId"]])
    await trip.sfmc.wait_for_rows(INBOUND_MESSAGES.key, 1)
    assert trip.sfmc.events == []


async def test_the_speed_limit_spaces_an_activitys_messages_and_keeps_going_after_a_stop(
    trip: Journey,
) -> None:
    limit = {"speedLimit": {"amount": 1, "timeUnit": "HOUR"}}
    first = await trip.execute("c1", **sms("41791234000", **limit))
    second = await trip.execute("c2", **sms("41791234001", **limit))
    other_activity = Journey(trip.harness, trip.sfmc, journey_id=trip.journey_id)
    third = await other_activity.execute("c3", **sms("41791234002", **limit))
    await trip.post_jwt("message/stop", {"activityObjectID": trip.activity_id})
    await trip.harness.simulator.wait_reported([first["messageId"], third["messageId"]])
    store = trip.harness.engine.store
    later = await store.get_message(second["messageId"])
    assert later is not None and later.state == "QUEUED"  # due an hour after the first, stop or not
    assert (await store.get_message(third["messageId"])).state != "QUEUED"  # another activity, its own pace


async def test_a_journey_on_the_redis_store(tmp_path: Path, redis_url: str) -> None:
    """The plugin keeps its configuration, sent messages and rows in the engine's store: Redis works too."""
    async with journey(tmp_path, store_url=redis_url) as trip:
        sent = await trip.execute("contact-redis", **sms("41791234000"))
        await trip.harness.simulator.wait_reported([sent["messageId"]])
        rows = await trip.sfmc.wait_for_rows(SMS_DELIVERY_REPORTS.key, 1)
        assert rows[0]["messageId"] == sent["messageId"]
        report = await trip.get_report("contact-redis", SMS_DELIVERY_REPORTS.key, sent["messageId"])
        assert report["statusGroupName"] == "DELIVERED"
