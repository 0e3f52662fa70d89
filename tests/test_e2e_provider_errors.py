"""What Infobip's refusals do to messages: a permanent 4xx fails them with Infobip's reason, and the API key
never shows up in that reason, the timeline or the logs."""

from __future__ import annotations

import asyncio
import logging

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from channel_engine.provider import make_account
from channel_engine.testing.harness import run_engine
from channel_engine.testing.servers import serve_app


async def test_a_wrong_api_key_fails_the_message_with_infobips_reason(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    wrong_key = "wrong-key-8d1e4b27c9"
    async with run_engine(tmp_path) as h:
        # An account the simulator does not know the key of, next to the simulator's own.
        h.engine.accounts.add(make_account("other", f"{h.url}/simulator", wrong_key, 100))
        response = await h.http.post(
            "/v1/messages",
            json={
                "channel": "sms",
                "destination": "41793026727",
                "content": {"text": "hi"},
                "account": "other",
                "host": {"name": "recorder"},
            },
        )
        mid = response.json()["id"]
        # The host hears of it like of any outcome: a FAILED report with Infobip's reason.
        failed = await h.recorder.wait_for(lambda r: r.kind == "FAILED" and r.message_id == mid)
        assert failed.error_description.startswith("E401") and failed.to == "41793026727"
        assert wrong_key not in failed.error_description
        view = await h.view(mid)
        assert view["state"] == "FAILED"
        assert view["failureReason"].startswith("E401")
        text = msgspec.json.encode(view).decode()
        assert wrong_key not in text
    assert wrong_key not in caplog.text


async def test_an_unknown_account_is_refused_at_intake(engine_harness):
    response = await engine_harness.http.post(
        "/v1/messages",
        json={"channel": "sms", "destination": "41793026727", "content": {"text": "hi"}, "account": "nope"},
    )
    assert response.status_code == 400
    assert response.json()["problems"][0]["path"] == "$.account"


async def test_stopping_does_not_wait_on_a_provider_that_never_answers(tmp_path):
    arrived, release = asyncio.Event(), asyncio.Event()

    async def hang(request: Request) -> Response:
        arrived.set()
        await release.wait()
        return Response(status_code=500)

    provider = Starlette(routes=[Route("/sms/3/messages", hang, methods=["POST"])])
    async with serve_app(provider) as provider_url, run_engine(tmp_path) as h:
        h.engine.accounts.add(make_account("silent", provider_url, "key-1", 100))
        response = await h.http.post(
            "/v1/messages",
            json={
                "channel": "sms",
                "destination": "41793026727",
                "content": {"text": "hi"},
                "account": "silent",
            },
        )
        mid = response.json()["id"]
        async with asyncio.timeout(10):
            await arrived.wait()

        h.engine.dispatcher.stop_grace = 0.1
        async with asyncio.timeout(5):  # not the provider client's 30 s timeout
            await h.engine.dispatcher.stop()

        assert (await h.view(mid))["state"] == "SENDING"  # cut off: its lease brings it back, same id
        release.set()
