"""The tracking API client against a loopback fake of Bloomreach: Basic auth and the batch endpoint, 429
and 5xx retried (Retry-After honoured) until it gives up with TrackingUnavailable, other 4xx answered at
once, requests spaced by the project's rate limit, and the `validate` check."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest

from channel_engine import HostRef, OutboundMessage, Report
from channel_engine_bloomreach.config import Project
from channel_engine_bloomreach.events import event_command
from channel_engine_bloomreach.testing.fake_bloomreach import FakeBloomreach
from channel_engine_bloomreach.tracking import TrackingApi, TrackingUnavailable

WEBHOOK_TOKEN = "scenario-webhook-token-0123456789"
TIME = [{"name": "system/time"}]


@pytest.fixture
async def fake() -> AsyncIterator[FakeBloomreach]:
    bloomreach = FakeBloomreach()
    async with bloomreach.running():
        yield bloomreach


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client


def project(fake: FakeBloomreach, **extra: Any) -> Project:
    document = fake.project_config(WEBHOOK_TOKEN, **extra) | {"projectToken": fake.project_token}
    return msgspec.convert(document, Project)


class Sleeps:
    """Records the pauses the client asks for between attempts, without pausing."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def plain_project(**changes: Any) -> Project:
    """A project of an API host that is not the fake (for a mocked transport)."""
    document = {"projectToken": "p", "apiKeyId": "k", "apiSecret": "s", "webhookToken": WEBHOOK_TOKEN}
    return msgspec.convert(document | changes, Project)


def an_event() -> dict[str, Any]:
    message = OutboundMessage(
        channel="sms",
        destination="41793026000",
        sender="InfoSMS",
        host=HostRef("bloomreach", {"project": "p", "customerIds": {"registered": "c-1"}, "properties": {}}),
        id="msg-1",
    )
    report = Report(kind="SENT", channel="sms", message_id="msg-1", sent_at="2025-01-01T10:00:00.000+0000")
    command = event_command(plain_project(), report, message)
    assert command is not None
    return command


async def test_a_batch_is_posted_with_basic_auth_and_the_events_are_tracked(
    fake: FakeBloomreach, http: httpx.AsyncClient
) -> None:
    api = TrackingApi(http)
    command = an_event()
    response = await api.batch(project(fake), [command, *TIME])
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0] == {"success": True} and results[1]["success"] is True
    assert fake.events == [command["data"]]  # the fake takes it: customer ids, event type, seconds
    (request,) = fake.requests
    assert (request["path"], request["commands"], request["status"]) == (
        f"/track/v2/projects/{fake.project_token}/batch",
        2,
        200,
    )
    assert api.requests == 1


async def test_the_request_is_basic_auth_json_commands_at_the_batch_url() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"results": [{"success": True}]})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        eu = plain_project(projectToken="proj-1", apiKeyId="key id", apiSecret="s3cr:et",
                           apiBaseUrl="https://api-eu.exponea.com/")  # fmt: skip
        await TrackingApi(http).batch(eu, TIME)
    (request,) = seen
    assert str(request.url) == "https://api-eu.exponea.com/track/v2/projects/proj-1/batch"
    assert request.method == "POST"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"key id:s3cr:et").decode()
    assert json.loads(request.content) == {"commands": TIME}


async def test_throttling_is_retried_as_retry_after_says_and_then_succeeds(
    fake: FakeBloomreach, http: httpx.AsyncClient
) -> None:
    sleeps = Sleeps()
    api = TrackingApi(http, backoff=10.0, sleep=sleeps)  # a backoff this long would show in the delays
    fake.throttle(2)
    command = an_event()
    response = await api.batch(project(fake), [command])
    assert response.status_code == 200
    assert [r["status"] for r in fake.requests] == [429, 429, 200]
    assert sleeps.delays == [0.0, 0.0]  # the fake's Retry-After: 0
    assert fake.events == [command["data"]]  # what the 429s discarded was sent again
    assert api.requests == 3


async def test_a_long_retry_after_is_capped_and_a_date_falls_back_to_backoff() -> None:
    answers = [
        httpx.Response(429, headers={"Retry-After": "120"}),
        httpx.Response(429, headers={"Retry-After": "Wed, 01 Jan 2025 10:00:00 GMT"}),
        httpx.Response(200, json={"results": [{"success": True}]}),
    ]
    sleeps = Sleeps()
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda _: answers.pop(0))) as http:
        api = TrackingApi(http, backoff=1.0, sleep=sleeps)
        response = await api.batch(plain_project(), TIME)
    assert response.status_code == 200
    assert sleeps.delays[0] == 30.0
    assert 1.0 <= sleeps.delays[1] <= 3.0  # the second attempt's backoff (2 s) with jitter


async def test_an_outage_raises_tracking_unavailable_after_every_attempt(
    fake: FakeBloomreach, http: httpx.AsyncClient
) -> None:
    sleeps = Sleeps()
    api = TrackingApi(http, attempts=3, backoff=0.01, sleep=sleeps)
    fake.down = True
    with pytest.raises(TrackingUnavailable, match=r"HTTP 503 after 3 attempts"):
        await api.batch(project(fake), [an_event()])
    assert [r["status"] for r in fake.requests] == [503, 503, 503]
    assert fake.events == []
    # Exponential backoff with jitter between the attempts, none after the last one.
    assert len(sleeps.delays) == 2
    assert 0.005 <= sleeps.delays[0] <= 0.015 and 0.01 <= sleeps.delays[1] <= 0.03


async def test_a_network_error_is_retried_then_unavailable() -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    sleeps = Sleeps()
    async with httpx.AsyncClient(transport=httpx.MockTransport(unreachable)) as http:
        api = TrackingApi(http, attempts=2, backoff=0.01, sleep=sleeps)
        with pytest.raises(TrackingUnavailable, match=r"cannot be reached \(ConnectError\) after 2 attempts"):
            await api.batch(plain_project(), TIME)
    assert api.requests == 2 and len(sleeps.delays) == 1


@pytest.mark.parametrize(
    ("change", "status"),
    [({"apiSecret": "not-the-secret"}, 401), ({"projectToken": "another-project"}, 403)],
)
async def test_a_refused_key_is_answered_at_once_not_retried(
    fake: FakeBloomreach, http: httpx.AsyncClient, change: dict[str, str], status: int
) -> None:
    sleeps = Sleeps()
    api = TrackingApi(http, sleep=sleeps)
    document = fake.project_config(WEBHOOK_TOKEN) | {"projectToken": fake.project_token} | change
    response = await api.batch(msgspec.convert(document, Project), [an_event()])
    assert response.status_code == status
    assert response.json()["success"] is False
    assert len(fake.requests) == 1 and sleeps.delays == []
    assert fake.events == []


@pytest.mark.parametrize("concurrent", [False, True], ids=["sequential", "concurrent"])
async def test_requests_are_spaced_by_the_projects_rate(fake: FakeBloomreach, concurrent: bool) -> None:
    # When each request leaves the client: arrival times at the server would add loopback and server-side
    # scheduling on top (a clean-clone run saw one arrive 47 ms late, so the next one seemed 3 ms behind it).
    starts: list[float] = []

    async def started(request: httpx.Request) -> None:
        starts.append(asyncio.get_running_loop().time())

    async with httpx.AsyncClient(timeout=10.0, event_hooks={"request": [started]}) as http:
        api = TrackingApi(http)
        limited = project(fake, requestsPerMinute=1200)  # one request every 50 ms
        assert (await api.batch(limited, TIME)).status_code == 200
        if concurrent:
            answers = await asyncio.gather(*(api.batch(limited, TIME) for _ in range(4)))
        else:
            answers = [await api.batch(limited, TIME) for _ in range(4)]
    assert [a.status_code for a in answers] == [200] * 4
    assert len(fake.requests) == 5
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    # Unlimited, they would be about a millisecond apart; a margin for the event loop's own wake-up jitter.
    assert len(gaps) == 4 and min(gaps) >= 0.04 and sum(gaps) / 4 >= 0.045, gaps


async def test_projects_on_one_api_host_share_a_limiter_per_rate(
    fake: FakeBloomreach, http: httpx.AsyncClient
) -> None:
    api = TrackingApi(http)
    one = project(fake)
    two = msgspec.structs.replace(one, project_token="other-project")
    slower = msgspec.structs.replace(one, requests_per_minute=60)
    elsewhere = msgspec.structs.replace(one, api_base_url="https://api-eu.exponea.com")
    assert api.limiter(one) is api.limiter(two)
    assert api.limiter(one) is api.limiter(msgspec.structs.replace(one, api_base_url=fake.url + "/"))
    assert api.limiter(slower) is not api.limiter(one)
    assert api.limiter(elsewhere) is not api.limiter(one)


# -- the `validate` check ---------------------------------------------------------------------------------


async def test_check_is_ok_for_good_credentials(fake: FakeBloomreach, http: httpx.AsyncClient) -> None:
    check = await TrackingApi(http).check(project(fake))
    assert check == {"service": "bloomreach", "project": fake.project_token, "ok": True}
    assert fake.events == [] and [r["commands"] for r in fake.requests] == [1]  # a system/time command


async def test_check_names_the_permission_when_the_key_is_refused(
    fake: FakeBloomreach, http: httpx.AsyncClient
) -> None:
    check = await TrackingApi(http).check(project(fake, apiSecret="not-the-secret"))
    assert check["ok"] is False and check["service"] == "bloomreach"
    assert "HTTP 401" in check["reason"] and "Events > Set" in check["reason"]
    assert "not-the-secret" not in check["reason"]


async def test_check_says_when_bloomreach_is_unavailable(
    fake: FakeBloomreach, http: httpx.AsyncClient
) -> None:
    fake.down = True
    check = await TrackingApi(http, attempts=2, sleep=Sleeps()).check(project(fake))
    assert check["ok"] is False
    assert check["reason"] == "Bloomreach answered HTTP 503 after 2 attempts"


async def test_check_reports_any_other_answer() -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(404))) as http:
        check = await TrackingApi(http).check(plain_project())
    assert check == {
        "service": "bloomreach",
        "project": "p",
        "ok": False,
        "reason": "Bloomreach answered HTTP 404",
    }
