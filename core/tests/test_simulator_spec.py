"""Everything the simulator says conforms to Infobip's published OpenAPI documents.

Webhook bodies are checked with `channel_engine.testing.conformance.check_webhook`, send answers with its
`check_response` (strict: undeclared keys fail too). The specs
are read from CHANNEL_ENGINE_SPEC_DIR.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from channel_engine.reports import infobip_time
from channel_engine.simulator import NewGenEndpoint, SimulatedSend, create_simulator
from channel_engine.simulator.apierrors import api_error_body
from channel_engine.simulator.outcomes import (
    DEFAULT,
    MAGIC_DESTINATIONS,
    PENDING_ACCEPTED,
    REJECTED_DUPLICATE_MESSAGE_ID,
)
from channel_engine.testing.conformance import check_response, check_webhook, spec_dir, spec_document
from channel_engine.testing.servers import WebhookReceiver, serve_app

# product, send path, delivery-report webhook, inbound webhook, click webhook
CHANNELS = {
    "sms": (
        "sms",
        "/sms/3/messages",
        "receive-outbound-sms-message-reports-v3",
        "receive-inbound-sms-messages",
        "receive-sms-tracking-notification",
    ),
    "viber": (
        "viber",
        "/viber/2/messages",
        "receive-outbound-viber-message-delivery-reports",
        "receive-inbound-viber-messages",
        None,
    ),
    "mms": (
        "mms",
        "/mms/2/messages",
        "receive-outbound-mms-message-delivery-reports",
        "receive-inbound-mms-messages",
        "receive-mms-tracking-notification",
    ),
    "rcs": (
        "rcs",
        "/rcs/2/messages",
        "receive-outbound-rcs-message-delivery-reports",
        "receive-inbound-rcs-messages",
        None,
    ),
    "kakao-alim": (
        "kakao",
        "/kakao-alim/1/messages",
        "receive-outbound-kakao-alim-message-delivery-reports",
        None,
        None,
    ),
}


def a_send(**kw: Any) -> SimulatedSend:
    fields = {
        "message_id": "m-1",
        "to": "41793026727",
        "sender": "InfoSMS",
        "bulk_id": "B-1",
        "text": "Hi https://example.com",
        "callback_data": "cb",
    }
    return SimulatedSend(**(fields | kw))


ALL_REPORTED = sorted(
    {
        o.name: o for m in (DEFAULT, *MAGIC_DESTINATIONS.values()) for o in (m.final, m.intermediate) if o
    }.values(),
    key=lambda o: o.id,
)


@pytest.mark.parametrize("channel", CHANNELS)
def test_rendered_bodies_conform(channel: str):
    product, path, dlr_hook, inbound_hook, click_hook = CHANNELS[channel]
    endpoint = NewGenEndpoint(path, channel)
    send = a_send()
    now = infobip_time(time.time())
    answer = endpoint.response(
        [send, a_send(message_id="m-2")], [PENDING_ACCEPTED, REJECTED_DUPLICATE_MESSAGE_ID], "B-1"
    )
    assert check_response(product, path, 200, answer) == []
    reports = {"results": [endpoint.delivery_report(send, outcome, now, now) for outcome in ALL_REPORTED]}
    assert check_webhook(product, dlr_hook, reports) == []
    if inbound_hook:
        inbound = {
            "results": [endpoint.inbound_message(send, "STOP", "mo-1", now)],
            "messageCount": 1,
            "pendingMessageCount": 0,
        }
        assert check_webhook(product, inbound_hook, inbound) == []
    if click_hook:
        assert (
            check_webhook(
                product, click_hook, endpoint.click_report(send, "https://example.com", 1704106800000)
            )
            == []
        )


@pytest.mark.parametrize(
    ("channel", "hook"), [("viber", "receive-viber-seen-reports"), ("rcs", "receive-rcs-seen-reports")]
)
def test_seen_reports_conform(channel: str, hook: str):
    endpoint = NewGenEndpoint(CHANNELS[channel][1], channel)
    now = infobip_time(time.time())
    seen = {"results": [endpoint.seen_report(a_send(), now, now)]}
    assert check_webhook(channel, hook, seen) == []
    assert "status" not in seen["results"][0]


@pytest.mark.parametrize("channel", ["sms", "mms", "kakao-alim"])
def test_channels_without_read_receipts_render_no_seen_report(channel: str):
    with pytest.raises(NotImplementedError):
        NewGenEndpoint(CHANNELS[channel][1], channel).seen_report(a_send(), "t", "t")


@pytest.mark.parametrize("status", [400, 401, 500])
def test_error_answers_conform(status: int):
    """(and the checker sees an undeclared key in an answer)"""
    assert check_response("sms", "/sms/3/messages", 200, {"messages": [{"bogus": 1}]}) == [
        "$.messages[0].bogus: the spec declares no such key"
    ]
    violations = [("messages[0].destinations[0].to", "must not be blank")] if status == 400 else None
    assert check_response("sms", "/sms/3/messages", status, api_error_body(status, violations)) == []


def test_the_429_answer_is_infobips_api_error_429():
    # /sms/3/messages documents no 429; the shared component ApiError429 is what Infobip answers.
    document = spec_document("sms")
    example = document["components"]["responses"]["ApiError429"]["content"]["application/json"]["example"]
    assert api_error_body(429) == example


def _examples(name: str) -> dict[str, Any]:
    return json.loads((Path(spec_dir()).parent / "examples" / name).read_text(encoding="utf-8"))


def test_of_anyof_branches_that_require_nothing_the_one_declaring_the_keys_is_checked():
    # inbound MMS parts are `anyOf` text / link branches with no required keys
    entry = {"from": "41793026727", "to": "InfoMMS", "messageId": "mo-1", "receivedAt": "x",
             "message": [{"contentType": "image/png", "url": "https://example.com/a.png"}]}  # fmt: skip
    assert check_webhook("mms", "receive-inbound-mms-messages", {"results": [entry]}) == []
    entry["message"][0]["bogus"] = 1
    assert check_webhook("mms", "receive-inbound-mms-messages", {"results": [entry]}) == [
        "$.results[0].message[0].bogus: the spec declares no such key"
    ]


@pytest.mark.parametrize(
    ("channel", "file"),
    [
        ("sms", "sms3_req.json"),
        ("viber", "viber_req.json"),
        ("mms", "mms_req.json"),
        ("rcs", "rcs_req.json"),
        ("kakao-alim", "kakao_alim_req.json"),
        ("kakao-alim", "kakao_chingu_req.json"),
    ],
)
def test_infobips_request_examples_parse(channel: str, file: str):
    endpoint = NewGenEndpoint(CHANNELS[channel][1], channel)
    for name, example in _examples(file).items():
        sends = endpoint.parse(example)
        assert sends, name
        destinations = sum(len(d.get("group", [d])) for m in example["messages"] for d in m["destinations"])
        assert len(sends) == destinations, name


async def test_everything_sent_over_http_conforms():
    """One send to every magic destination, with tracking; every answer and webhook body is checked."""
    receiver = WebhookReceiver()
    async with serve_app(receiver.app) as hooks:
        sim = create_simulator(
            [NewGenEndpoint("/sms/3/messages", "sms")],
            api_keys={"k"},
            report_delay=0.01,
            inbound_url=f"{hooks}/inbound",
            retry_delay=0.01,
        )
        async with serve_app(sim.app) as base, httpx.AsyncClient(base_url=base) as client:
            tos = ["41793026000", *(f"41793026{suffix}" for suffix in MAGIC_DESTINATIONS)]
            payload = {
                "messages": [
                    {
                        "sender": "InfoSMS",
                        "destinations": [{"to": to, "messageId": f"m-{to}"} for to in tos],
                        "content": {"text": "Offer: https://example.com/offer"},
                        "webhooks": {
                            "delivery": {"url": f"{hooks}/dlr", "intermediateReport": True},
                            "callbackData": "cb",
                        },
                    }
                ],
                "options": {"tracking": {"trackingUrl": f"{hooks}/clicks"}},
            }
            auth = {"Authorization": "App k"}
            refused = await client.post("/sms/3/messages", json=payload, headers=auth)
            assert refused.status_code == 429
            assert check_response("sms", "/sms/3/messages", 400, refused.json()) == []  # same ApiError schema
            refused = await client.post("/sms/3/messages", json=payload, headers=auth)
            assert refused.status_code == 500
            assert check_response("sms", "/sms/3/messages", 500, refused.json()) == []
            accepted = await client.post("/sms/3/messages", json=payload, headers=auth)
            assert accepted.status_code == 200
            assert check_response("sms", "/sms/3/messages", 200, accepted.json()) == []
            again = await client.post("/sms/3/messages", json=payload, headers=auth)
            assert {m["status"]["id"] for m in again.json()["messages"]} == {23}
            assert check_response("sms", "/sms/3/messages", 200, again.json()) == []
            unauthorized = await client.post("/sms/3/messages", json=payload)
            assert check_response("sms", "/sms/3/messages", 401, unauthorized.json()) == []
            await sim.wait_reported()

    kinds = {r.path for r in receiver.received}
    assert kinds == {"/dlr", "/clicks", "/inbound"}
    for body in receiver.bodies("/dlr"):
        assert check_webhook("sms", "receive-outbound-sms-message-reports-v3", body) == []
    for body in receiver.bodies("/clicks"):
        assert check_webhook("sms", "receive-sms-tracking-notification", body) == []
    for body in receiver.bodies("/inbound"):
        assert check_webhook("sms", "receive-inbound-sms-messages", body) == []
    statuses = sorted(e["status"]["name"] for e in receiver.results("/dlr"))
    assert statuses == sorted(
        ["DELIVERED_TO_HANDSET"] * 7  # default, 990 (sms: no seen report), 995, 996, 997, 998, 999
        + ["UNDELIVERABLE_NOT_DELIVERED", "REJECTED_DESTINATION", "EXPIRED_EXPIRED", "DELIVERED_TO_OPERATOR"]
    )
