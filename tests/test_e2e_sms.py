"""End to end over loopback HTTP: our API -> engine -> simulator (as Infobip) -> reports back through the
webhooks -> store -> the owning host. Every wait awaits an event (a report reaching the recording host, the
simulator having posted everything), never a sleep."""

from __future__ import annotations

import gc

import pytest

from channel_engine import OutboundMessage, hookimpl
from channel_engine.engine import YOUNG_COLLECTION_AFTER
from channel_engine.testing.harness import run_engine
from channel_engine.testing.recorder import RecordingHost


def sms(destination: str, text: str = "Hello from the tests", **extra: object) -> dict:
    message = {
        "channel": "sms",
        "destination": destination,
        "sender": "TestSender",
        "content": {"text": text},
        "host": {"name": "recorder", "context": {"journey": "j-1"}},
    }
    message.update(extra)
    return message


async def test_a_message_is_delivered_and_its_report_reaches_the_host(engine_harness):
    h = engine_harness
    mid = await h.send(sms("41793026727", options={"callbackData": "order=17"}))
    report = await h.recorder.wait_final(mid)
    assert report.status_name == "DELIVERED_TO_HANDSET"
    assert report.callback_data == "order=17"
    view = await h.view(mid)
    assert view["state"] == "DELIVERED"
    assert view["statusName"] == "DELIVERED_TO_HANDSET"
    assert [e["event"] for e in view["timeline"]] == ["ACCEPTED", "SENT", "DELIVERY"]
    assert view["messageCount"] == 1


async def test_a_running_engine_leaves_its_start_up_objects_and_requests_in_flight_to_rest(engine_harness):
    """Start-up's objects are frozen out of the collector's sight, and a young collection waits for
    10,000 allocations: the objects of requests in flight alone passed the default 700 every 50 requests."""
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == YOUNG_COLLECTION_AFTER == 10_000


async def test_a_steady_stream_goes_out_in_few_requests(tmp_path):
    """After a claim that found something, the dispatcher lingers before the next: messages queued in the
    meantime go to Infobip together, in one request, instead of one request for each claim."""
    async with run_engine(tmp_path, dispatch_linger=1.0) as h:
        await h.send(sms("41793000000"))
        await h.simulator.wait_accepted(1)
        assert h.simulator.requests == 1
        for i in range(1, 6):
            await h.send(sms(f"4179300000{i}"))
        await h.simulator.wait_accepted(6)
        assert h.simulator.requests == 2


async def test_a_host_that_asks_hears_when_infobip_accepts_its_message(tmp_path):
    async with run_engine(tmp_path, RecordingHost(sent_reports=True)) as h:
        mid = await h.send(sms("41793026727", text="x" * 200))  # two parts
        final = await h.recorder.wait_final(mid)
        kinds = [r.kind for r in h.recorder.reports if r.message_id == mid]
        assert kinds.index("SENT") < kinds.index("DELIVERY")
        sent = next(r for r in h.recorder.reports if r.kind == "SENT")
        assert (sent.status_group, sent.status_name, sent.message_count) == ("PENDING", "PENDING_ACCEPTED", 2)
        assert (sent.channel, sent.to) == ("sms", "41793026727")
        assert final.status_name == "DELIVERED_TO_HANDSET"


async def test_a_host_that_does_not_ask_gets_no_sent_report(engine_harness):
    mid = await engine_harness.send(sms("41793026727"))
    await engine_harness.recorder.wait_final(mid)
    assert [r.kind for r in engine_harness.recorder.reports] == ["DELIVERY"]


@pytest.mark.parametrize(
    ("suffix", "state", "status_name"),
    [
        ("000", "DELIVERED", "DELIVERED_TO_HANDSET"),
        ("991", "UNDELIVERABLE", "UNDELIVERABLE_NOT_DELIVERED"),
        ("992", "REJECTED", "REJECTED_DESTINATION"),
        ("993", "EXPIRED", "EXPIRED_EXPIRED"),
        ("995", "DELIVERED", "DELIVERED_TO_HANDSET"),  # HTTP 429 first
        ("996", "DELIVERED", "DELIVERED_TO_HANDSET"),  # HTTP 500 first
        ("999", "DELIVERED", "DELIVERED_TO_HANDSET"),  # DELIVERED_TO_OPERATOR first
    ],
)
async def test_every_simulator_outcome_reaches_its_final_state(engine_harness, suffix, state, status_name):
    h = engine_harness
    h.engine.dispatcher.retry = type(h.engine.dispatcher.retry)(base=0.05)
    mid = await h.send(sms(f"4179302{suffix}"))
    report = await h.recorder.wait_final(mid)
    assert report.status_name == status_name
    view = await h.view(mid)
    assert view["state"] == state
    events = [e["event"] for e in view["timeline"]]
    if suffix in ("995", "996"):
        assert events[:3] == ["ACCEPTED", "RETRY", "SENT"], events
        assert view["attempts"] == 2
    if suffix == "999":
        names = [e.get("statusName") for e in view["timeline"] if e["event"] == "DELIVERY"]
        assert names == ["DELIVERED_TO_OPERATOR", "DELIVERED_TO_HANDSET"]
    if state != "DELIVERED":
        assert report.error_name and report.error_group


async def test_pending_forever_stays_sent_with_no_report(engine_harness):
    h = engine_harness
    pending = await h.send(sms("41793026994"))
    delivered = await h.send(sms("41793026001"))
    await h.recorder.wait_final(delivered)
    await h.simulator.wait_reported([pending, delivered])
    view = await h.view(pending)
    assert view["state"] == "SENT"
    assert view["statusName"] == "PENDING_ACCEPTED"
    assert [e["event"] for e in view["timeline"]] == ["ACCEPTED", "SENT"]


async def test_clicks_and_inbound_replies_come_back_to_the_host(engine_harness):
    h = engine_harness
    clicked = await h.send(
        sms(
            "41793026997",
            "Spring sale: https://shop.example.com/spring",
            options={"urlOptions": {"shortenUrl": True, "trackClicks": True}},
        )
    )
    replied = await h.send(sms("41793026998"))
    click = await h.recorder.wait_for(lambda r: r.kind == "CLICK" and r.message_id == clicked)
    assert click.url == "https://shop.example.com/spring"
    # The simulator shortened the link, as Infobip does when shortenUrl is on.
    assert "https://shop.example.com/spring" not in h.simulator.delivered_text[clicked]
    reply = await h.recorder.wait_for(lambda r: r.kind == "INBOUND")
    assert reply.paired_message_id == replied
    assert reply.sender == "41793026998"
    assert reply.text


async def test_replayed_and_out_of_order_reports_change_nothing(engine_harness):
    h = engine_harness
    mid = await h.send(sms("41793026005"))
    await h.recorder.wait_final(mid)
    await h.simulator.wait_reported([mid])
    before = await h.view(mid)
    url = h.engine.webhook_url("sms", "reports")

    def report(group_id: int, group: str, status_id: int, name: str, done_at: str) -> dict:
        return {
            "results": [
                {
                    "messageId": mid,
                    "to": "41793026005",
                    "sender": "TestSender",
                    "sentAt": "2026-11-21T10:00:00.000+0000",
                    "doneAt": done_at,
                    "messageCount": 1,
                    "status": {"groupId": group_id, "groupName": group, "id": status_id, "name": name},
                    "error": {
                        "groupId": 0,
                        "groupName": "OK",
                        "id": 0,
                        "name": "NO_ERROR",
                        "permanent": False,
                    },
                }
            ]
        }

    final = report(3, "DELIVERED", 5, "DELIVERED_TO_HANDSET", "2026-11-21T10:00:05.000+0000")
    first = await h.http.post(url, json=final)
    again = await h.http.post(url, json=final)
    assert first.status_code == again.status_code == 200
    assert again.json() == {"received": 1, "new": 0, "duplicates": 1}
    # An intermediate status arriving after the final one is kept in the timeline but changes nothing.
    late = await h.http.post(
        url, json=report(1, "PENDING", 7, "PENDING_ENROUTE", "2026-11-21T10:00:09.000+0000")
    )
    assert late.json()["new"] == 1
    after = await h.view(mid)
    assert after["state"] == "DELIVERED"
    assert after["statusName"] == "DELIVERED_TO_HANDSET"
    assert len(after["timeline"]) == len(before["timeline"]) + 2  # the new final + the late pending


async def test_a_host_that_is_down_loses_nothing(engine_harness):
    h = engine_harness
    from channel_engine.dispatcher import RetryPolicy

    h.engine.delivery.retry = RetryPolicy(base=0.05, cap=0.1)
    h.recorder.failures_left = 3
    mid = await h.send(sms("41793026010"))
    report = await h.recorder.wait_final(mid)
    assert report.message_id == mid
    assert h.recorder.failures_left == 0
    assert h.engine.metrics.host_deliveries[("recorder", "error")] == 3


async def test_reports_go_to_the_callers_notify_url(engine_harness):
    from channel_engine.testing.servers import WebhookReceiver, serve_app

    h = engine_harness
    receiver = WebhookReceiver()
    async with serve_app(receiver.app) as url:
        mid = await h.send(
            sms("41793026011", host={"name": "api", "context": {"notifyUrl": f"{url}/dlr", "campaign": "c9"}})
        )
        got = await receiver.wait_for(lambda rs: any(r.body.get("messageId") == mid for r in rs))
    body = next(r.body for r in got if r.body.get("messageId") == mid)
    assert body["statusName"] == "DELIVERED_TO_HANDSET"
    assert body["hostContext"] == {"campaign": "c9"}
    assert "raw" not in body


async def test_speed_limit_spaces_messages_evenly(engine_harness):
    h = engine_harness
    per_minute = 1200  # one every 50 ms
    ids = [
        await h.send(
            sms(f"4179302{i:04d}", options={"speedLimit": {"amount": per_minute, "timeUnit": "MINUTE"}})
        )
        for i in range(5)
    ]
    for mid in ids:
        await h.recorder.wait_final(mid)
    views = [await h.view(mid) for mid in ids]
    start = views[0]["timeline"][0]["at"]  # the first message's acceptance: its slot is "now"
    sent = sorted(next(e["at"] for e in v["timeline"] if e["event"] == "SENT") for v in views)
    interval = 60 / per_minute
    for i, at in enumerate(sent):
        # The i-th message cannot leave before its slot, and leaves soon after it.
        assert i * interval <= at - start < i * interval + 2.0, (i, at - start)


class LinkRewriter:
    """A plugin with its own URL shortener."""

    __name__ = "link-rewriter"

    @hookimpl
    def shorten_urls(self, message: OutboundMessage) -> OutboundMessage | None:
        text = message.content.get("text", "")
        if "https://long.example.com/" not in text:
            return None
        content = {
            **message.content,
            "text": text.replace("https://long.example.com/path", "https://sho.rt/x1"),
        }
        import msgspec

        return msgspec.structs.replace(message, content=content)


async def test_a_shorten_urls_plugin_rewrites_links_before_sending(tmp_path):
    from channel_engine.testing.harness import run_engine

    async with run_engine(tmp_path, LinkRewriter()) as h:
        mid = await h.send(sms("41793026012", "See https://long.example.com/path now"))
        await h.recorder.wait_final(mid)
        assert h.simulator.accepted[mid].text == "See https://sho.rt/x1 now"


async def test_intake_refuses_bad_messages_with_the_field_and_reason(engine_harness):
    h = engine_harness
    one = await h.http.post("/v1/messages", json=sms(""))
    assert one.status_code == 400
    problem = one.json()["problems"][0]
    assert problem["path"] == "$.destination"
    assert problem["status"] == "Error: Missing phone number in request"

    batch = await h.http.post(
        "/v1/messages",
        json={
            "messages": [
                sms("41793026013"),
                sms("41793026014", options={"speedLimit": {"amount": 0, "timeUnit": "MINUTE"}}),
                sms("41793026015", options={"callbackData": "x" * 4001}),
                {"channel": "pigeon", "destination": "41793026016", "content": {"text": "hi"}},
                {**sms("41793026017"), "colour": "blue"},
            ]
        },
    )
    assert batch.status_code == 202
    body = batch.json()
    assert body["accepted"] == 1 and body["refused"] == 4
    paths = [m["problems"][0]["path"] for m in body["messages"][1:]]
    assert paths == [
        "$.messages[1].options.speedLimit.amount",
        "$.messages[2].options.callbackData",
        "$.messages[3].channel",
        "$.messages[4]",
    ]
    assert ">= 1" in body["messages"][1]["problems"][0]["message"]
    assert "colour" in body["messages"][4]["problems"][0]["message"]
    # The good one of the batch was accepted and goes out.
    await h.recorder.wait_final(body["messages"][0]["id"])


async def test_a_client_supplied_id_makes_intake_idempotent(engine_harness):
    h = engine_harness
    message = sms("41793026018", id="order-18-sms")
    assert await h.send(message) == "order-18-sms"
    assert await h.send(message) == "order-18-sms"
    await h.recorder.wait_final("order-18-sms")
    await h.simulator.wait_reported(["order-18-sms"])
    assert h.simulator.stats()["accepted"] == 1
    view = await h.view("order-18-sms")
    assert [e["event"] for e in view["timeline"]].count("ACCEPTED") == 1


@pytest.mark.parametrize("field", ["idempotencyKey", "retryKey"])
async def test_a_key_answers_a_retry_with_the_first_messages_id(engine_harness, field):
    h = engine_harness
    first = await h.send(sms("41793026019", **{field: "order-19-sms"}))
    retried = await h.send(sms("41793026019", text="changed", **{field: "order-19-sms"}))
    other = await h.send(sms("41793026019", **{field: "order-20-sms"}))

    assert retried == first != other
    assert first[:12] <= other[:12]  # the engine's ids grow with time
    await h.recorder.wait_final(first)
    await h.recorder.wait_final(other)
    await h.simulator.wait_reported([first, other])
    assert h.simulator.stats()["accepted"] == 2
    view = await h.view(first)
    assert [e["event"] for e in view["timeline"]].count("ACCEPTED") == 1
    response = await h.http.post("/v1/messages", json=sms("41793026019", **{field: ""}))
    assert response.status_code == 400 and field in response.text


async def test_health_metrics_and_plugins_endpoints(engine_harness):
    h = engine_harness
    mid = await h.send(sms("41793026019"))
    await h.recorder.wait_final(mid)
    assert (await h.http.get("/healthz")).json()["status"] == "ok"
    metrics = (await h.http.get("/metrics")).text
    assert "channel_engine_messages_accepted_total 1" in metrics
    assert 'channel_engine_reports_total{kind="DELIVERY",status_group="DELIVERED"} 1' in metrics
    assert 'channel_engine_messages{state="DELIVERED"} 1' in metrics
    assert "channel_engine_provider_latency_seconds_count 1" in metrics
    plugins = {p["name"]: p for p in (await h.http.get("/-/plugins")).json()}
    assert plugins["sms"]["channels"] == ["lms", "sms"]
    assert (await h.http.get("/v1/messages/nope")).status_code == 404
