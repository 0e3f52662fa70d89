"""What Infobip's refusals do to messages: a permanent 4xx fails them with Infobip's reason, and the API key
never shows up in that reason, the timeline or the logs."""

from __future__ import annotations

import logging

import msgspec

from channel_engine.provider import make_account
from channel_engine.testing.harness import run_engine


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
