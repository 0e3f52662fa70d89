"""Webhook authentication over real HTTP: the URL token, Basic auth and a real HMAC of the raw body."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging

import pytest

from channel_engine.config import WebhookAuthSettings
from channel_engine.secret_box import Secret
from channel_engine.testing.harness import run_engine

BODY = json.dumps(
    {
        "results": [
            {
                "messageId": "unknown-to-us",
                "to": "41793026727",
                "doneAt": "2026-11-21T10:00:05.000+0000",
                "status": {"groupId": 3, "groupName": "DELIVERED", "id": 5, "name": "DELIVERED_TO_HANDSET"},
            }
        ]
    }
).encode()


async def test_a_wrong_or_missing_token_is_refused(engine_harness):
    h = engine_harness
    good = h.engine.webhook_url("sms", "reports")
    base = good.split("?")[0]
    assert (await h.http.post(base, content=BODY)).status_code == 401
    assert (await h.http.post(base + "?token=guess", content=BODY)).status_code == 401
    header = {"X-Channel-Engine-Token": h.engine.auth.token}
    assert (await h.http.post(base, content=BODY, headers=header)).status_code == 200
    ok = await h.http.post(good, content=BODY)
    assert ok.status_code == 200
    assert ok.json()["duplicates"] == 1  # a report for an unknown message is kept, once


async def test_unknown_channel_kind_and_bad_bodies_get_plain_errors(engine_harness):
    h = engine_harness
    token = h.engine.auth.token
    assert (
        await h.http.post(f"/webhooks/infobip/pigeon/reports?token={token}", content=BODY)
    ).status_code == 404
    assert (
        await h.http.post(f"/webhooks/infobip/sms/receipts?token={token}", content=BODY)
    ).status_code == 404
    not_json = await h.http.post(f"/webhooks/infobip/sms/reports?token={token}", content=b"<xml/>")
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["error"]
    wrong_shape = await h.http.post(f"/webhooks/infobip/sms/reports?token={token}", json={"foo": 1})
    assert wrong_shape.status_code == 400


@pytest.mark.parametrize(
    ("algorithm", "encode"),
    [
        ("sha256", lambda d: d.hex()),
        ("sha256", lambda d: "sha256=" + d.hex().upper()),
        ("sha1", lambda d: "SHA1=" + d.hex()),
        ("sha512", lambda d: base64.b64encode(d).decode()),
    ],
)
async def test_hmac_and_basic_auth(tmp_path, caplog, algorithm, encode):
    secret, password = "whsec-5f2a9b", "pa55-word-77"
    auth = WebhookAuthSettings(
        basic_user="infobip",
        basic_password=Secret(password),
        hmac_secret=Secret(secret),
        hmac_headers=("X-Infobip-Signature",),
        hmac_algorithm=algorithm,
    )
    caplog.set_level(logging.DEBUG)
    async with run_engine(tmp_path, webhook_auth=auth) as h:
        url = h.engine.webhook_url("sms", "reports")
        digest = hmac.new(secret.encode(), BODY, getattr(hashlib, algorithm)).digest()
        basic = "Basic " + base64.b64encode(f"infobip:{password}".encode()).decode()
        signed = {"Authorization": basic, "X-Infobip-Signature": encode(digest)}

        assert (await h.http.post(url, content=BODY, headers=signed)).status_code == 200
        tampered = await h.http.post(url, content=BODY + b" ", headers=signed)
        assert tampered.status_code == 401
        assert tampered.json()["error"] == "signature does not match the body"
        unsigned = await h.http.post(url, content=BODY, headers={"Authorization": basic})
        assert unsigned.status_code == 401 and "X-Infobip-Signature" in unsigned.json()["error"]
        wrong_user = {**signed, "Authorization": "Basic " + base64.b64encode(b"infobip:nope").decode()}
        assert (await h.http.post(url, content=BODY, headers=wrong_user)).status_code == 401
    # Secrets never reach the logs, even when calls are refused.
    assert secret not in caplog.text and password not in caplog.text


async def test_one_unreadable_entry_does_not_cost_the_good_ones_of_its_bucket(engine_harness, caplog):
    h = engine_harness
    mid = await h.send({"channel": "sms", "destination": "41793026994", "content": {"text": "hi"}})
    await h.simulator.wait_reported([mid])  # pending forever: the simulator reports nothing
    good = {
        "messageId": mid,
        "to": "41793026994",
        "doneAt": "2026-11-21T10:00:05.000+0000",
        "status": {"groupId": 3, "groupName": "DELIVERED", "id": 5, "name": "DELIVERED_TO_HANDSET"},
    }
    body = {"results": [good, {"to": "41793026994", "note": "no messageId"}]}
    response = await h.http.post(h.engine.webhook_url("sms", "reports"), json=body)
    assert response.status_code == 200
    answer = response.json()
    assert (answer["new"], answer["refused"][0]["index"]) == (1, 1)
    assert "messageId" in answer["refused"][0]["reason"]
    assert "no messageId" in caplog.text  # the unreadable entry is kept, whole, in the log
    assert (await h.view(mid))["state"] == "DELIVERED"
