"""The simulator over real HTTP: the simulator and a webhook receiver each run under uvicorn on loopback.

Every wait is on an event (the simulator's `wait_reported`, the receiver's `wait_for`), never a sleep."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.responses import JSONResponse
from starlette.routing import Route

from channel_engine import PluginError, hookimpl
from channel_engine.plugins import get_plugin_manager
from channel_engine.simulator import NewGenEndpoint, Simulator, create_simulator, simulator_from_plugins
from channel_engine.testing.servers import WebhookReceiver, serve_app

KEY = "test-key"
AUTH = {"Authorization": f"App {KEY}"}
SMS_PATH = "/sms/3/messages"


@dataclass
class Env:
    sim: Simulator
    client: httpx.AsyncClient  # to the simulator, authorized
    receiver: WebhookReceiver
    hooks: str  # the receiver's base URL

    async def send(
        self, *messages: dict, options: dict | None = None, headers: dict | None = None
    ) -> httpx.Response:
        payload: dict[str, Any] = {"messages": list(messages)}
        if options:
            payload["options"] = options
        return await self.client.post(SMS_PATH, json=payload, headers=headers)

    def message(self, *tos: str, text: str = "Hello", ids: list[str] | None = None, **webhooks: Any) -> dict:
        ids = ids or [f"m-{to}" for to in tos]
        return {
            "sender": "InfoSMS",
            "destinations": [{"to": to, "messageId": mid} for to, mid in zip(tos, ids, strict=True)],
            "content": {"text": text},
            "webhooks": {"delivery": {"url": f"{self.hooks}/dlr", **webhooks}, "callbackData": "cb"},
        }


@asynccontextmanager
async def environment(**kw: Any) -> AsyncIterator[Env]:
    receiver = WebhookReceiver()
    async with serve_app(receiver.app) as hooks:
        options = {
            "report_delay": 0.01,
            "inbound_url": f"{hooks}/inbound/{{channel}}",
            "retry_delay": 0.01,
        } | kw
        sim = create_simulator([NewGenEndpoint(SMS_PATH, "sms")], api_keys={KEY}, **options)
        async with serve_app(sim.app) as base, httpx.AsyncClient(base_url=base, headers=AUTH) as client:
            yield Env(sim, client, receiver, hooks)


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with environment() as e:
        yield e


# --- authentication and validation ---


async def test_the_account_balance_answers_only_a_valid_api_key(env: Env):
    """What a host's "validate" action checks an Infobip API key and base URL with."""
    ok = await env.client.get("/account/1/balance")
    assert ok.status_code == 200 and ok.json()["currency"] == "EUR"
    refused = await env.client.get("/account/1/balance", headers={"Authorization": "App wrong-key"})
    assert refused.status_code == 401 and refused.json()["errorCode"] == "E401"


@pytest.mark.parametrize("header", [None, "App wrong-key", f"Basic {KEY}", "App", f"Bearer {KEY}"])
async def test_without_a_valid_api_key_the_answer_is_401(env: Env, header: str | None):
    headers = {"Authorization": header} if header else {}
    async with httpx.AsyncClient(base_url=str(env.client.base_url), headers=headers) as anonymous:
        response = await anonymous.post(SMS_PATH, json={"messages": [env.message("41793026727")]})
    assert response.status_code == 401
    body = response.json()
    assert body["errorCode"] == "E401" and body["violations"] == []
    assert body["resources"][0]["name"] == "API Authentication"
    assert env.sim.requests == 1 and env.sim.accepted == {}


async def test_the_key_scheme_is_case_insensitive(env: Env):
    response = await env.send(env.message("41793026727"), headers={"Authorization": f"app {KEY}"})
    assert response.status_code == 200


async def test_a_malformed_body_gets_400_naming_the_property(env: Env):
    bad = env.message("41793026727")
    bad["destinations"].append({"messageId": "x"})
    response = await env.send(bad)
    assert response.status_code == 400
    assert response.json() == {
        "errorCode": "E400",
        "description": "Request cannot be processed.",
        "action": "Check the syntax, violations and adjust the request.",
        "violations": [{"property": "messages[0].destinations[1].to", "violation": "must not be blank"}],
        "resources": [],
    }
    assert env.sim.accepted == {}
    broken = await env.client.post(
        SMS_PATH, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400 and broken.json()["violations"][0]["property"] == "body"


# --- outcomes ---


def status_of(response: httpx.Response, index: int = 0) -> dict:
    return response.json()["messages"][index]["status"]


async def test_waiting_for_a_message_not_sent_yet_waits_for_it_to_be_sent_and_reported(env: Env):
    # What a test of an engine does right after the engine accepted a message it has not yet sent.
    waiting = asyncio.ensure_future(env.sim.wait_reported(["m-41793026727"], timeout=5))
    await asyncio.sleep(0)  # its first step: where a message it does not know would count as done
    assert not waiting.done()
    assert (await env.send(env.message("41793026727"))).status_code == 200
    await waiting
    assert [e["messageId"] for e in env.receiver.results("/dlr")] == ["m-41793026727"]
    with pytest.raises(TimeoutError):  # one that never comes is not waited for forever
        await env.sim.wait_reported(["m-never-sent"], timeout=0.1)


@pytest.mark.parametrize(
    ("to", "status", "error"),
    [
        ("41793026727", ("DELIVERED", 5, "DELIVERED_TO_HANDSET"), ("OK", 0, "NO_ERROR", False)),
        (
            "41793026991",
            ("UNDELIVERABLE", 9, "UNDELIVERABLE_NOT_DELIVERED"),
            ("HANDSET_ERRORS", 1, "EC_UNKNOWN_SUBSCRIBER", True),
        ),
        ("41793026992", ("REJECTED", 52, "REJECTED_DESTINATION"), ("OK", 0, "NO_ERROR", False)),
        (
            "41793026993",
            ("EXPIRED", 15, "EXPIRED_EXPIRED"),
            ("HANDSET_ERRORS", 27, "EC_ABSENT_SUBSCRIBER", False),
        ),
    ],
)
async def test_each_outcome_is_accepted_then_reported(env: Env, to: str, status: tuple, error: tuple):
    response = await env.send(env.message(to), options={"schedule": {"bulkId": "B-1"}})
    assert response.status_code == 200
    body = response.json()
    assert body["bulkId"] == "B-1"
    assert body["messages"][0]["messageId"] == f"m-{to}" and body["messages"][0]["destination"] == to
    assert status_of(response)["name"] == "PENDING_ACCEPTED" and status_of(response)["groupId"] == 1
    await env.sim.wait_reported([f"m-{to}"])
    [entry] = env.receiver.results("/dlr")
    assert (entry["status"]["groupName"], entry["status"]["id"], entry["status"]["name"]) == status
    err = entry["error"]
    assert (err["groupName"], err["id"], err["name"], err["permanent"]) == error
    assert (entry["messageId"], entry["to"], entry["bulkId"], entry["callbackData"]) == (
        f"m-{to}",
        to,
        "B-1",
        "cb",
    )


async def test_994_stays_pending_and_is_never_reported(env: Env):
    response = await env.send(env.message("41793026994", "41793026727"))
    assert [status_of(response, i)["name"] for i in range(2)] == ["PENDING_ACCEPTED", "PENDING_ACCEPTED"]
    await env.sim.wait_reported()  # everything that will ever be reported
    assert [e["messageId"] for e in env.receiver.results("/dlr")] == ["m-41793026727"]
    assert env.sim.reporter.outstanding("m-41793026994") == 0 and env.sim.reporter.pending == 0
    assert "m-41793026994" in env.sim.accepted


@pytest.mark.parametrize(
    ("to", "status", "code"), [("41793026995", 429, "E429"), ("41793026996", 500, "E500")]
)
async def test_995_and_996_fail_the_whole_request_once(env: Env, to: str, status: int, code: str):
    request = env.message(to, "41793026727")
    first = await env.send(request)
    assert first.status_code == status and first.json()["errorCode"] == code
    if status == 429:
        assert first.headers["retry-after"] == "1"
    assert env.sim.accepted == {} and env.sim.refused == 1
    retry = await env.send(request)
    assert retry.status_code == 200
    assert [status_of(retry, i)["name"] for i in range(2)] == ["PENDING_ACCEPTED", "PENDING_ACCEPTED"]
    await env.sim.wait_reported([f"m-{to}", "m-41793026727"])
    assert sorted(e["messageId"] for e in env.receiver.results("/dlr")) == sorted(
        [f"m-{to}", "m-41793026727"]
    )
    assert {e["status"]["name"] for e in env.receiver.results("/dlr")} == {"DELIVERED_TO_HANDSET"}
    again = await env.send(env.message(to, ids=["another-id"]))
    assert again.status_code == status  # a new messageId fails once too


async def test_a_duplicate_message_id_is_rejected_and_not_reported_again(env: Env):
    first = await env.send(env.message("41793026727", ids=["dup-1"]))
    assert status_of(first)["name"] == "PENDING_ACCEPTED"
    second = await env.send(env.message("41793026728", "41793026729", ids=["dup-1", "new-1"]))
    assert second.status_code == 200
    assert status_of(second, 0) == {
        "groupId": 5,
        "groupName": "REJECTED",
        "id": 23,
        "name": "REJECTED_DUPLICATE_MESSAGE_ID",
        "description": "Message rejected due to duplicate message ID",
    }
    assert status_of(second, 1)["name"] == "PENDING_ACCEPTED"
    same_request = await env.send(env.message("41793026730", "41793026731", ids=["twice", "twice"]))
    assert [status_of(same_request, i)["id"] for i in range(2)] == [26, 23]
    assert env.sim.duplicates == 2
    await env.sim.wait_reported()
    reported = sorted(e["messageId"] for e in env.receiver.results("/dlr"))
    assert reported == ["dup-1", "new-1", "twice"]
    assert env.sim.accepted["dup-1"].to == "41793026727"  # the first one stands


async def test_999_reports_delivered_to_operator_first_when_asked(env: Env):
    await env.send(env.message("41793026999", intermediateReport=True))
    await env.send(env.message("41793027999", intermediateReport=False))
    await env.sim.wait_reported()
    by_id: dict[str, list[str]] = {}
    for entry in env.receiver.results("/dlr"):
        by_id.setdefault(entry["messageId"], []).append(entry["status"]["name"])
    assert by_id == {
        "m-41793026999": ["DELIVERED_TO_OPERATOR", "DELIVERED_TO_HANDSET"],
        "m-41793027999": ["DELIVERED_TO_HANDSET"],
    }


async def test_997_clicks_each_url_with_the_original_and_the_text_is_shortened(env: Env):
    text = "Sale: https://shop.example.com/summer?utm=sms and http://example.org/terms."
    tracking = {"shortenUrl": True, "trackClicks": True, "trackingUrl": f"{env.hooks}/clicks"}
    response = await env.send(env.message("41793026997", text=text), options={"tracking": tracking})
    assert response.status_code == 200
    await env.sim.wait_reported(["m-41793026997"])
    clicks = env.receiver.bodies("/clicks")
    assert sorted(c["url"] for c in clicks) == [
        "http://example.org/terms",
        "https://shop.example.com/summer?utm=sms",
    ]
    for click in clicks:
        assert click["notificationType"] == "CLICKED" and click["recipient"] == "41793026997"
        assert click["messageId"] == "m-41793026997" and click["callbackData"] == "cb"
        assert isinstance(click["sendDateTime"], int)
    shortened = env.sim.delivered_text["m-41793026997"]
    assert "example" not in shortened and shortened.count("https://ibs.sh/") == 2
    assert [link.url for link in env.sim.links["m-41793026997"]] == [
        "https://shop.example.com/summer?utm=sms",
        "http://example.org/terms",
    ]
    assert len(env.receiver.results("/dlr")) == 1  # and it was delivered


@pytest.mark.parametrize(
    "tracking",
    [None, {"trackClicks": False, "trackingUrl": "TRACKING"}, {"trackClicks": True}],
    ids=["no-tracking", "clicks-off", "no-tracking-url"],
)
async def test_997_sends_no_clicks_without_click_tracking(env: Env, tracking: dict | None):
    if tracking and tracking.get("trackingUrl"):
        tracking["trackingUrl"] = f"{env.hooks}/clicks"
    options = {"tracking": tracking} if tracking else None
    await env.send(env.message("41793026997", text="see https://example.com"), options=options)
    await env.sim.wait_reported()
    assert env.receiver.bodies("/clicks") == []
    assert len(env.receiver.results("/dlr")) == 1


async def test_shortening_without_protocol_on_a_custom_domain(env: Env):
    tracking = {
        "shortenUrl": True,
        "trackClicks": False,
        "removeProtocol": True,
        "customDomain": "go.brand.com",
    }
    await env.send(
        env.message("41793026727", text="https://example.com/x " * 1), options={"tracking": tracking}
    )
    text = env.sim.delivered_text["m-41793026727"]
    assert text.startswith("go.brand.com/") and "https://" not in text


async def test_998_replies_stop_to_the_inbound_url(env: Env):
    await env.send(env.message("41793026998"))
    await env.sim.wait_reported(["m-41793026998"])
    [inbound] = env.receiver.bodies("/inbound/sms")
    assert inbound["messageCount"] == 1 and inbound["pendingMessageCount"] == 0
    [entry] = inbound["results"]
    assert (entry["from"], entry["to"], entry["text"], entry["keyword"]) == (
        "41793026998",
        "InfoSMS",
        "STOP",
        "STOP",
    )
    assert entry["messageId"] != "m-41793026998"
    assert len(env.receiver.results("/dlr")) == 1


async def test_990_sends_a_seen_report_after_delivery_on_channels_with_read_receipts():
    receiver = WebhookReceiver()
    async with serve_app(receiver.app) as hooks:
        viber = NewGenEndpoint("/viber/2/messages", "viber")
        sim = create_simulator([viber, NewGenEndpoint(SMS_PATH, "sms")], api_keys={KEY}, report_delay=0.01)
        async with serve_app(sim.app) as base, httpx.AsyncClient(base_url=base, headers=AUTH) as client:
            for path, mid in (("/viber/2/messages", "v-1"), (SMS_PATH, "s-1")):
                message = {
                    "sender": "Brand",
                    "destinations": [{"to": "41793026990", "messageId": mid}],
                    "content": {"text": "Hi", "type": "TEXT"},
                    "webhooks": {"delivery": {"url": f"{hooks}/dlr"}, "seen": {"url": f"{hooks}/seen"}},
                }
                assert (await client.post(path, json={"messages": [message]})).status_code == 200
            await sim.wait_reported(["v-1", "s-1"])
    [seen] = receiver.results("/seen")
    assert seen["messageId"] == "v-1" and seen["to"] == "41793026990" and "status" not in seen
    assert {r["messageId"] for r in receiver.results("/dlr")} == {"v-1", "s-1"}


# --- reports: batching, retries, waiting ---


async def test_reports_are_batched_per_url_in_buckets():
    async with environment(bucket_size=10) as env:
        tos = [f"4179302{n:04d}" for n in range(25)]
        one = env.message(*tos)
        other = env.message("41793020000", ids=["elsewhere"])
        other["webhooks"]["delivery"]["url"] = f"{env.hooks}/dlr2"
        response = await env.send(one, other)
        assert len(response.json()["messages"]) == 26
        await env.sim.wait_reported()
        sizes = sorted(len(b["results"]) for b in env.receiver.bodies("/dlr"))
        assert sizes == [5, 10, 10]
        assert [e["messageId"] for e in env.receiver.results("/dlr2")] == ["elsewhere"]
        assert sorted(e["messageId"] for e in env.receiver.results("/dlr")) == sorted(f"m-{to}" for to in tos)
        assert env.sim.reporter.posts == 4 and env.sim.reporter.posted == 26


async def test_a_refused_report_is_retried_until_it_is_accepted(env: Env):
    env.receiver.fail_next(2, status=503)
    await env.send(env.message("41793026727"))
    await env.sim.wait_reported()
    assert env.receiver.refused == 2
    assert [e["messageId"] for e in env.receiver.results("/dlr")] == ["m-41793026727"]
    assert env.sim.reporter.failures == 2 and env.sim.reporter.dropped == 0
    # Each retry is the same report, as Infobip's are: an engine that stored it but could not answer must
    # find the retry a duplicate (its doneAt is part of what identifies it).
    attempts = [body["results"][0] for body in env.receiver.refused_bodies] + env.receiver.results("/dlr")
    assert len(attempts) == 3 and all(a == attempts[0] for a in attempts), attempts


async def test_an_unreachable_receiver_is_given_up_after_max_attempts():
    async with environment(max_attempts=3) as env:
        env.receiver.fail_next(100, status=500)
        await env.send(env.message("41793026727"))
        await env.sim.wait_reported()
        assert env.receiver.refused == 3
        assert env.sim.reporter.dropped == 1 and env.receiver.received == []


async def test_the_send_answer_never_waits_for_reports():
    async with environment(report_delay=30.0) as env:
        response = await env.send(env.message("41793026727"))
        assert response.status_code == 200
        assert env.sim.reporter.outstanding("m-41793026727") == 1
        with pytest.raises(TimeoutError):
            await env.sim.wait_reported(timeout=0.05)


async def test_stats_and_outcome_table_are_served(env: Env):
    await env.send(env.message("41793026727"))
    stats = (await env.client.get("/-/simulator/stats")).json()
    assert stats["requests"] == 1 and stats["accepted"] == 1
    table = (await env.client.get("/-/simulator/outcomes")).json()
    assert [row["ending"] for row in table][:2] == ["any other", "990"]


async def test_only_the_latest_sends_are_remembered():
    async with environment(max_remembered=2) as env:
        for to in ("41793026701", "41793026702", "41793026703"):
            await env.send(env.message(to))
        assert list(env.sim.accepted) == ["m-41793026702", "m-41793026703"]
        again = await env.send(env.message("41793026701"))
        assert status_of(again)["name"] == "PENDING_ACCEPTED" and env.sim.duplicates == 0


def test_a_simulator_can_run_again_on_another_event_loop():
    sim = create_simulator([NewGenEndpoint(SMS_PATH, "sms")], api_keys={KEY}, report_delay=0.01)

    async def one_round(to: str) -> list[dict]:
        receiver = WebhookReceiver()
        async with serve_app(receiver.app) as hooks, serve_app(sim.app) as base:
            env = Env(sim, httpx.AsyncClient(base_url=base, headers=AUTH), receiver, hooks)
            async with env.client:
                await env.send(env.message(to))
            await sim.wait_reported([f"m-{to}"])
        return receiver.results("/dlr")

    assert [e["to"] for e in asyncio.run(one_round("41793026701"))] == ["41793026701"]
    assert [e["to"] for e in asyncio.run(one_round("41793026702"))] == ["41793026702"]


# --- plugins ---


class EndpointPlugin:
    def __init__(self, name: str, *paths: str) -> None:
        self.__name__ = name
        self._paths = paths

    @hookimpl
    def register_simulator_endpoints(self, register):
        for path in self._paths:
            register(NewGenEndpoint(path, "sms"))


def test_simulator_from_plugins_serves_every_registered_endpoint():
    plugins = get_plugin_manager(
        [EndpointPlugin("a", "/sms/3/messages"), EndpointPlugin("b", "/viber/2/messages")], entry_points=False
    )
    sim = simulator_from_plugins(plugins, api_keys={KEY})
    assert set(sim.endpoints) == {"/sms/3/messages", "/viber/2/messages"}


def test_two_plugins_registering_one_path_is_a_plugin_error():
    plugins = get_plugin_manager(
        [EndpointPlugin("a", "/sms/3/messages"), EndpointPlugin("b", "/sms/3/messages")], entry_points=False
    )
    with pytest.raises(PluginError) as caught:
        simulator_from_plugins(plugins, api_keys={KEY})
    assert "'a'" in caught.value.message and "'b'" in caught.value.message


class RoutePlugin:
    """Serves an Infobip API that is not a send endpoint: a sender's template list."""

    def __init__(self, name: str) -> None:
        self.__name__ = name

    @hookimpl
    def register_simulator_routes(self, register):
        async def templates(request):
            return JSONResponse({"templates": [{"name": "welcome", "sender": request.path_params["sender"]}]})

        register(Route("/whatsapp/2/senders/{sender}/templates", templates, methods=["GET"]))


async def test_simulator_serves_a_plugins_route_behind_the_api_key():
    plugins = get_plugin_manager([RoutePlugin("catalog")], entry_points=False)
    sim = simulator_from_plugins(plugins, api_keys={KEY})
    async with serve_app(sim.app) as url, httpx.AsyncClient(base_url=url) as http:
        path = "/whatsapp/2/senders/447860099299/templates"
        refused = await http.get(path)
        answered = await http.get(path, headers={"Authorization": f"App {KEY}"})
    assert refused.status_code == 401
    assert refused.json()["errorCode"] == "E401"
    assert answered.json() == {"templates": [{"name": "welcome", "sender": "447860099299"}]}


def test_two_plugins_serving_one_route_is_a_plugin_error():
    plugins = get_plugin_manager([RoutePlugin("a"), RoutePlugin("b")], entry_points=False)
    with pytest.raises(PluginError) as caught:
        simulator_from_plugins(plugins, api_keys={KEY})
    assert "GET /whatsapp/2/senders/{sender}/templates" in caught.value.message
