"""Full journeys: Journey Builder's JWT-signed execute for every channel, the simulator's reports, rows in
the right data extensions of a loopback fake SFMC, and Get Reports answering from them. Real HTTP over
loopback everywhere; every wait awaits an event."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from channel_engine.demo import demo_channels
from channel_engine.plugins import get_plugin_manager
from channel_engine_sfmc.data_extensions import (
    BY_KEY,
    OMNI_REPORTS,
    SMS_DELIVERY_REPORTS,
    UNIFIED_URL_TRACKING,
)
from channel_engine_sfmc.testing.journeys import Journey, journey

CHANNELS = demo_channels(get_plugin_manager())
SEEN = {"whatsapp", "viber", "rcs"}


@pytest.fixture
async def trip(tmp_path: Path) -> Any:
    async with journey(tmp_path) as j:
        yield j


def activity_arguments(
    trip: Journey, channel: str, destination: str, index: int = 0, with_link: bool = False
) -> dict[str, Any]:
    """The saved configuration of a message activity for `channel`, from the channel's own demo message."""
    sample = trip.harness.engine.plugins.hook.sample_message(
        channel=channel, index=index, destination=destination, with_link=with_link
    )
    return {
        "channel": channel,
        "phone": sample["destination"],
        "content": sample["content"],
        "sender": sample.get("sender"),
        "urlOptions": (sample.get("options") or {}).get("urlOptions"),
    }


def delivery_extension(channel: str) -> str:
    return SMS_DELIVERY_REPORTS.key if channel in ("sms", "lms") else OMNI_REPORTS.key


def test_every_channel_of_the_issue_can_be_sent_from_a_journey() -> None:
    assert {"sms", "lms", "mms", "whatsapp", "viber", "kakao-alim", "kakao-chingu", "rcs"} <= set(CHANNELS)


async def test_config_json_points_journey_builder_at_jwt_signed_endpoints(trip: Journey) -> None:
    config = (await trip.http.get(f"/sfmc/{trip.mid}/message/config.json")).json()
    execute = config["arguments"]["execute"]
    assert execute["url"] == f"{trip.harness.url}/sfmc/{trip.mid}/message/execute"
    assert execute["useJwt"] is True and config["type"] == "REST"
    assert {n: a["useJwt"] for n, a in config["configurationArguments"].items()} == dict.fromkeys(
        ("save", "publish", "validate", "stop"), True
    )
    out = [next(iter(a)) for a in config["schema"]["arguments"]["execute"]["outArguments"]]
    assert out == ["messageStatus", "messageId"]
    reports = (await trip.http.get(f"/sfmc/{trip.mid}/reports/config.json")).json()
    names = [next(iter(a)) for a in reports["schema"]["arguments"]["execute"]["outArguments"]]
    assert names[:8] == [
        "statusName",
        "statusGroupName",
        "errorName",
        "doneAt",
        "sentAt",
        "seenAt",
        "notificationType",
        "url",
    ]


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_journey_sends_on_every_channel_and_reports_land_in_the_right_extension(
    trip: Journey, channel: str
) -> None:
    base = 41790000000 + 100_000 * CHANNELS.index(channel)
    delivered = await trip.execute("contact-ok", **activity_arguments(trip, channel, f"{base + 1000}"))
    undeliverable = await trip.execute("contact-bad", **activity_arguments(trip, channel, f"{base + 2991}"))
    assert delivered["messageStatus"] == "Success" and undeliverable["messageStatus"] == "Success"
    await trip.harness.simulator.wait_reported([delivered["messageId"], undeliverable["messageId"]])

    extension = delivery_extension(channel)
    rows = {row["messageId"]: row for row in await trip.sfmc.wait_for_rows(extension, 2)}
    ok = rows[delivered["messageId"]]
    assert (ok["statusGroupName"], ok["statusName"]) == ("DELIVERED", "DELIVERED_TO_HANDSET")
    assert set(ok) <= set(BY_KEY[extension].column_names)
    assert ok["to"] and ok["sentAt"] and ok["doneAt"] and ok["callbackData"]
    assert '"ContactKey":"contact-ok"' in ok["callbackData"]
    assert rows[undeliverable["messageId"]]["statusName"] == "UNDELIVERABLE_NOT_DELIVERED"

    report = await trip.get_report("contact-ok", extension, delivered["messageId"])
    assert report["statusGroupName"] == "DELIVERED" and report["statusName"] == "DELIVERED_TO_HANDSET"
    assert report["seenAt"] == "NOT_SEEN" and report["messageId"] == delivered["messageId"]
    failed = await trip.get_report("contact-bad", extension, undeliverable["messageId"])
    assert failed["statusName"].startswith("UNDELIVERABLE") and failed["errorName"] == "EC_UNKNOWN_SUBSCRIBER"


async def test_get_reports_answers_each_outcome_the_seeds_name(trip: Journey) -> None:
    outcomes = {"rejected": "992", "expired": "993", "pending": "994", "seen": "990", "clicked": "997"}
    sent: dict[str, dict[str, Any]] = {}
    for name, suffix in outcomes.items():
        channel = "viber" if name == "seen" else "sms"
        arguments = activity_arguments(trip, channel, f"4179123{suffix}", with_link=name == "clicked")
        sent[name] = await trip.execute(f"contact-{name}", **arguments)
    await trip.harness.simulator.wait_reported([s["messageId"] for s in sent.values()])
    await trip.sfmc.wait_for_rows(SMS_DELIVERY_REPORTS.key, 3)
    await trip.sfmc.wait_for_rows(UNIFIED_URL_TRACKING.key, 1)
    seen_rows = await trip.sfmc.wait_for_rows(OMNI_REPORTS.key, 1)

    async def report(name: str, extension: str) -> dict[str, Any]:  # as the inspector binds it
        return await trip.get_report(f"contact-{name}", extension, sent[name]["messageId"])

    rejected = await report("rejected", SMS_DELIVERY_REPORTS.key)
    assert (rejected["statusGroupName"], rejected["statusName"]) == ("REJECTED", "REJECTED_DESTINATION")
    expired = await report("expired", SMS_DELIVERY_REPORTS.key)
    assert expired["statusName"].startswith("EXPIRED")
    pending = await report("pending", SMS_DELIVERY_REPORTS.key)
    assert (pending["statusName"], pending["statusGroupName"]) == ("NOT_AVAILABLE", "NOT_AVAILABLE")
    nobody = await trip.get_report("contact-never-sent", SMS_DELIVERY_REPORTS.key, "")
    assert nobody["statusName"] == "NOT_AVAILABLE"

    # The seen report follows the delivery report: await the row it completes.
    seen_row = await trip.wait_for_row(OMNI_REPORTS.key, lambda row: bool(row.get("seenAt")))
    assert seen_row["messageId"] == seen_rows[0]["messageId"] == sent["seen"]["messageId"]
    seen = await report("seen", OMNI_REPORTS.key)
    assert seen["seenAt"] == "SEEN" and seen["statusGroupName"] == "DELIVERED"

    clicked = await report("clicked", UNIFIED_URL_TRACKING.key)
    assert clicked["notificationType"] == "CLICKED" and clicked["url"].startswith("https://shop.example.com/")
    not_clicked = await report("rejected", UNIFIED_URL_TRACKING.key)
    assert not_clicked == not_clicked | {"notificationType": "NOT_CLICKED", "url": "NOT_CLICKED"}
    click_row = trip.sfmc.rows(UNIFIED_URL_TRACKING.key)[0]
    assert click_row["channel"] == "SMS" and click_row["messageId"] == sent["clicked"]["messageId"]
    assert set(click_row) <= set(UNIFIED_URL_TRACKING.column_names)


async def test_a_retried_execute_sends_nothing_twice(trip: Journey) -> None:
    body = trip.execute_body(
        "contact-1", instance="instance-retried", **activity_arguments(trip, "sms", "41791234000")
    )
    first = (await trip.post_jwt("message/execute", body)).json()
    second = (await trip.post_jwt("message/execute", body)).json()
    assert first == second and first["messageStatus"] == "Success"
    await trip.harness.simulator.wait_reported([first["messageId"]])
    view = await trip.harness.engine.store.get_message(first["messageId"])
    assert view is not None and [e.event for e in view.timeline].count("ACCEPTED") == 1
    assert len(trip.harness.simulator.accepted) == 1
    # The same contact in a new activity instance (a re-entry) is a new message.
    again = await trip.execute("contact-1", **activity_arguments(trip, "sms", "41791234000"))
    assert again["messageId"] != first["messageId"] and again["messageStatus"] == "Success"
    # Nothing but the message is written: no lookup beside it, no index entry for its retry key.
    assert await trip.harness.engine.store.list_data("sfmc-sent", time.time()) == {}


async def test_get_reports_reads_the_bound_message_and_only_this_contacts(trip: Journey) -> None:
    arguments = activity_arguments(trip, "sms", "41791234000")
    first = await trip.execute("contact-twice", **arguments)
    second = await trip.execute("contact-twice", **activity_arguments(trip, "sms", "41791234992"))
    other = await trip.execute("contact-other", **arguments)
    await trip.harness.simulator.wait_reported([first["messageId"], second["messageId"], other["messageId"]])
    await trip.sfmc.wait_for_rows(SMS_DELIVERY_REPORTS.key, 3)

    # The contact entered twice: each run's Get Reports reads its own run's message, not the newest.
    earlier = await trip.get_report("contact-twice", SMS_DELIVERY_REPORTS.key, first["messageId"])
    assert earlier["messageId"] == first["messageId"] and earlier["statusGroupName"] == "DELIVERED"
    later = await trip.get_report("contact-twice", SMS_DELIVERY_REPORTS.key, second["messageId"])
    assert later["messageId"] == second["messageId"] and later["statusGroupName"] == "REJECTED"
    # A design saved without the binding (before the inspector made one) is told to be saved again.
    unbound = await trip.get_report("contact-twice", SMS_DELIVERY_REPORTS.key, None)
    assert unbound["statusName"].startswith("Error: messageId: not bound to the message activity's messageId")
    assert "save it again" in unbound["statusName"] and "messageId" not in unbound

    # What does not name a message this business unit sent this contact reads nothing: another contact's
    # message, an id nobody sent, a binding Journey Builder left unresolved (the contact took another path).
    for bound in (other["messageId"], "0" * 32, "{{Interaction.REST-1.messageId}}"):
        answer = await trip.get_report("contact-twice", SMS_DELIVERY_REPORTS.key, bound)
        assert (answer["statusName"], answer["messageId"]) == ("NOT_AVAILABLE", ""), bound
    # Another business unit's Get Reports cannot read this one's messages, whatever id it is handed.
    elsewhere = Journey(trip.harness, trip.sfmc, mid="200000002", activity_id=trip.activity_id)
    assert (await elsewhere.configure()).status_code == 200
    answer = await elsewhere.get_report("contact-twice", SMS_DELIVERY_REPORTS.key, second["messageId"])
    assert (answer["statusName"], answer["messageId"]) == ("NOT_AVAILABLE", "")


async def test_the_first_populated_phone_field_is_used(trip: Journey) -> None:
    arguments = activity_arguments(trip, "sms", "41791234000") | {
        "phone": ["", "  ", "41795550000", "41796660000"]
    }
    answer = await trip.execute("contact-phones", **arguments)
    view = await trip.harness.engine.store.get_message(answer["messageId"])
    assert view is not None and view.destination == "41795550000"


async def test_contact_fields_are_merged_into_the_message(trip: Journey) -> None:
    arguments = activity_arguments(trip, "sms", "41791234000") | {
        "content": {"text": "Hi %%FirstName%%, your code is %%Code%%"},
        "FirstName": "Ana",
        "Code": 1234,
    }
    answer = await trip.execute("contact-merge", **arguments)
    await trip.harness.simulator.wait_reported([answer["messageId"]])
    assert trip.harness.simulator.accepted[answer["messageId"]].text == "Hi Ana, your code is 1234"


async def test_bulk_id_defaults_per_channel_or_is_the_activity_name(trip: Journey) -> None:
    default = await trip.execute("c1", **activity_arguments(trip, "lms", "41791234000"))
    named = await trip.execute(
        "c2", **activity_arguments(trip, "sms", "41791234001"), activityName="Spring promo"
    )
    await trip.harness.simulator.wait_reported([default["messageId"], named["messageId"]])
    accepted = trip.harness.simulator.accepted
    assert accepted[default["messageId"]].bulk_id == "Infobip LMS"
    assert accepted[named["messageId"]].bulk_id == "Spring promo"
    rows = {row["messageId"]: row for row in await trip.sfmc.wait_for_rows(SMS_DELIVERY_REPORTS.key, 2)}
    assert '"BulkId":"Infobip LMS"' in rows[default["messageId"]]["callbackData"]
    assert '"BulkId":"Spring promo"' in rows[named["messageId"]]["callbackData"]
