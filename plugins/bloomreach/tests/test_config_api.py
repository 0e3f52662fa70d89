"""The projects' configuration API and the send endpoint's refusals, in a running engine: secrets masked in
answers and sealed at rest, errors that name the field, `validate` against the fake Bloomreach and the
engine's simulator, everything behind the engine's API key (the send endpoint behind the project's webhook
token). No message is sent: a valid one would need a channel plugin, which may not be installed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from channel_engine.config import Secret
from channel_engine.testing.harness import Harness, run_engine
from channel_engine_bloomreach import plugin
from channel_engine_bloomreach.config import account_name
from channel_engine_bloomreach.testing.fake_bloomreach import FakeBloomreach

ADMIN = "bloomreach-plugin-tests-admin-key"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
WEBHOOK_TOKEN = "scenario-webhook-token-0123456789"
MASK = "********"


@dataclass
class Setup:
    harness: Harness
    bloomreach: FakeBloomreach

    @property
    def http(self) -> httpx.AsyncClient:
        return self.harness.http

    @property
    def token(self) -> str:
        return self.bloomreach.project_token

    def document(self, **extra: Any) -> dict[str, Any]:
        return self.bloomreach.project_config(WEBHOOK_TOKEN, **extra)

    async def put(self, document: dict[str, Any], token: str | None = None) -> httpx.Response:
        return await self.http.put(f"/bloomreach/config/{token or self.token}", json=document, headers=AUTH)

    def simulator_account(self, name: str = "main", key: str | None = None) -> dict[str, str]:
        return {
            "name": name,
            "baseUrl": f"{self.harness.url}/simulator",
            "apiKey": key or self.harness.engine.box.derive("simulator-api-key"),
        }


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    fake = FakeBloomreach()
    async with fake.running(), run_engine(tmp_path, api_key=Secret(ADMIN)) as harness:
        yield Setup(harness, fake)


@pytest.fixture
async def configured(setup: Setup) -> Setup:
    response = await setup.put(setup.document(senders=["InfoSMS", "ShopNews"], defaultSender="InfoSMS"))
    assert response.status_code == 200, response.text
    return setup


# -- the configuration API ----------------------------------------------------------------------------------


async def test_a_project_is_stored_with_its_secrets_masked_and_sealed(setup: Setup) -> None:
    response = await setup.put(setup.document(eventName="sms_campaign"))
    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown == {
        "projectToken": setup.token,
        "apiKeyId": setup.bloomreach.key_id,
        "apiSecret": MASK,
        "webhookToken": MASK,
        "apiBaseUrl": setup.bloomreach.url,
        "infobipAccount": None,
        "senders": [],
        "defaultSender": None,
        "eventName": "sms_campaign",
        "requestsPerMinute": 6000,
        "trackInbound": True,
    }
    assert (await setup.http.get(f"/bloomreach/config/{setup.token}", headers=AUTH)).json() == shown
    listed = await setup.http.get("/bloomreach/config", headers=AUTH)
    assert listed.status_code == 200 and listed.json() == {"projects": [shown]}
    raw = await setup.harness.engine.store.get_data("bloomreach", setup.token, 0.0)
    assert raw is not None
    assert setup.bloomreach.secret.encode() not in raw and WEBHOOK_TOKEN.encode() not in raw


async def test_a_masked_api_secret_sent_back_is_kept(configured: Setup) -> None:
    shown = (await configured.http.get(f"/bloomreach/config/{configured.token}", headers=AUTH)).json()
    assert shown["apiSecret"] == MASK
    again = await configured.put(shown | {"eventName": "renamed", "webhookToken": "a-new-webhook-token-987"})
    assert again.status_code == 200, again.text
    assert again.json()["eventName"] == "renamed" and again.json()["apiSecret"] == MASK
    # The API secret was kept: Bloomreach still accepts the key.
    valid = await configured.http.post(f"/bloomreach/config/{configured.token}/validate", headers=AUTH)
    assert valid.status_code == 200, valid.text
    # The webhook token was replaced: the old one is refused, the new one lets the body be judged.
    assert (await send(configured, {"to": "41793026000"})).status_code == 401
    refused = await send(configured, {"to": "41793026000"}, token="a-new-webhook-token-987")
    assert refused.status_code == 400


async def test_the_masked_document_as_shown_can_be_sent_back(configured: Setup) -> None:
    shown = (await configured.http.get(f"/bloomreach/config/{configured.token}", headers=AUTH)).json()
    assert shown["webhookToken"] == MASK
    again = await configured.put(shown | {"eventName": "renamed"})
    assert again.status_code == 200, again.text
    # The webhook token was kept: the send endpoint still knows it (the body is refused, not the token).
    assert (await send(configured, {"to": "41793026000"})).status_code == 400


async def test_a_mask_for_a_new_project_is_refused(setup: Setup) -> None:
    response = await setup.put(setup.document() | {"apiSecret": MASK})
    assert response.status_code == 400
    assert response.json()["path"] == "$.apiSecret" and "no secret is stored" in response.json()["error"]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"senders": ["InfoSMS"], "defaultSender": "Nobody"}, "$.defaultSender"),
        ({"webhookToken": "too-short"}, "$.webhookToken"),
        ({"apiSecret": ""}, "$.apiSecret"),
        ({"apiBaseUrl": "ftp://api.exponea.com"}, "$.apiBaseUrl"),
        ({"eventName": "campaign event"}, "$.eventName"),
        ({"requestsPerMinute": 0}, "$.requestsPerMinute"),
        ({"senders": ["A-sender-name-too-long"]}, "$.senders[0]"),
        ({"infobipAccount": {"name": "main", "baseUrl": "https://ib.example"}}, "$.infobipAccount"),
        ({"projectToken": "another-project"}, "$.projectToken"),
        ({"colour": "red"}, "$"),
    ],
)
async def test_a_bad_document_is_refused_naming_the_field(
    setup: Setup, change: dict[str, Any], path: str
) -> None:
    response = await setup.put(setup.document(**change))
    assert response.status_code == 400, response.text
    assert response.json()["path"] == path and response.json()["error"]
    listed = await setup.http.get("/bloomreach/config", headers=AUTH)
    assert listed.json() == {"projects": []}  # nothing stored


async def test_the_default_sender_error_says_which_sender(setup: Setup) -> None:
    response = await setup.put(setup.document(senders=["InfoSMS"], defaultSender="Nobody"))
    assert response.json() == {
        "error": "'Nobody' is not one of the predefined senders",
        "path": "$.defaultSender",
    }


async def test_a_token_the_url_cannot_be_a_project_token_is_refused(setup: Setup) -> None:
    response = await setup.put(setup.document(), token="not_a_token")
    assert (response.status_code, response.json()["path"]) == (400, "$.projectToken")


async def test_a_project_is_deleted(configured: Setup) -> None:
    path = f"/bloomreach/config/{configured.token}"
    assert (await configured.http.delete(path, headers=AUTH)).status_code == 204
    gone = await configured.http.get(path, headers=AUTH)
    assert gone.status_code == 404
    assert gone.json()["error"] == f"Bloomreach project {configured.token} is not configured"
    assert (await configured.http.delete(path, headers=AUTH)).status_code == 404
    assert (await send(configured, {"to": "41793026000"})).status_code == 404


# -- validate -----------------------------------------------------------------------------------------------


async def test_validate_checks_the_tracking_key_against_bloomreach(configured: Setup) -> None:
    response = await configured.http.post(f"/bloomreach/config/{configured.token}/validate", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "valid": True,
        "checks": [{"service": "bloomreach", "project": configured.token, "ok": True}],
    }
    assert configured.bloomreach.events == []  # a check tracks no event


async def test_validate_says_why_bloomreach_refuses_the_key(configured: Setup) -> None:
    configured.bloomreach.secret = "rotated-secret"
    response = await configured.http.post(f"/bloomreach/config/{configured.token}/validate", headers=AUTH)
    assert response.status_code == 422
    (check,) = response.json()["checks"]
    assert check["ok"] is False and "HTTP 401" in check["reason"] and "Events > Set" in check["reason"]
    assert response.json()["valid"] is False


async def test_validate_checks_the_infobip_account_against_the_simulator(setup: Setup) -> None:
    response = await setup.put(setup.document(infobipAccount=setup.simulator_account()))
    assert response.status_code == 200, response.text
    assert response.json()["infobipAccount"]["apiKey"] == MASK
    # Saving it made the project's account an engine account its messages are sent through.
    project = await plugin.tracker.projects.get(setup.token)
    assert project is not None and account_name(project) is not None
    engine_account = setup.harness.engine.accounts.get(account_name(project))
    assert engine_account.base_url == f"{setup.harness.url}/simulator"

    valid = await setup.http.post(f"/bloomreach/config/{setup.token}/validate", headers=AUTH)
    assert valid.status_code == 200, valid.text
    assert valid.json()["checks"] == [
        {"service": "bloomreach", "project": setup.token, "ok": True},
        {"service": "infobip", "account": "main", "ok": True},
    ]


async def test_validate_says_when_infobip_refuses_the_key(setup: Setup) -> None:
    wrong = setup.simulator_account(key="not-the-simulators-key")
    assert (await setup.put(setup.document(infobipAccount=wrong))).status_code == 200
    response = await setup.http.post(f"/bloomreach/config/{setup.token}/validate", headers=AUTH)
    assert response.status_code == 422
    bloomreach, infobip = response.json()["checks"]
    assert bloomreach["ok"] is True
    assert infobip["ok"] is False and "Infobip refused the API key (HTTP 401)" in infobip["reason"]
    assert "not-the-simulators-key" not in response.text


async def test_validating_an_unknown_project_is_404(setup: Setup) -> None:
    response = await setup.http.post("/bloomreach/config/nope/validate", headers=AUTH)
    assert response.status_code == 404 and "nope" in response.json()["error"]


async def test_two_projects_never_share_an_engine_account(setup: Setup) -> None:
    first = setup.simulator_account(name="b-c", key="key-of-project-a")
    second = setup.simulator_account(name="c", key="key-of-project-a-b")
    assert (await setup.put(setup.document(infobipAccount=first), token="a")).status_code == 200
    assert (await setup.put(setup.document(infobipAccount=second), token="a-b")).status_code == 200
    projects = [await plugin.tracker.projects.get(token) for token in ("a", "a-b")]
    names = [account_name(p) for p in projects if p is not None]
    assert len(set(names)) == 2, names
    # Project a's messages go through project a's own Infobip key.
    assert setup.harness.engine.accounts.get(names[0]).api_key.reveal() == "key-of-project-a"


# -- the API key --------------------------------------------------------------------------------------------


ADMIN_ROUTES = [
    ("GET", "/bloomreach/config"),
    ("GET", "/bloomreach/config/fake-project-token"),
    ("PUT", "/bloomreach/config/fake-project-token"),
    ("DELETE", "/bloomreach/config/fake-project-token"),
    ("POST", "/bloomreach/config/fake-project-token/validate"),
    ("GET", "/bloomreach/rejected/fake-project-token"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
async def test_the_admin_routes_need_the_engines_api_key(configured: Setup, method: str, path: str) -> None:
    anonymous = await configured.http.request(method, path, json=configured.document())
    assert anonymous.status_code == 401, anonymous.text
    wrong = await configured.http.request(method, path, headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"})
    assert wrong.status_code == 401 and "API key" in wrong.json()["error"]
    still = await configured.http.get(f"/bloomreach/config/{configured.token}", headers=AUTH)
    assert still.status_code == 200  # nothing changed


async def test_without_an_engine_api_key_the_admin_routes_are_closed(tmp_path: Path) -> None:
    async with run_engine(tmp_path) as harness:
        for method, path in ADMIN_ROUTES:
            response = await harness.http.request(method, path, headers=AUTH)
            assert response.status_code == 403, path
            assert "CHANNEL_ENGINE_API_KEY" in response.json()["error"]


async def test_nothing_is_rejected_at_first(configured: Setup) -> None:
    response = await configured.http.get(f"/bloomreach/rejected/{configured.token}", headers=AUTH)
    assert response.status_code == 200 and response.json() == {"rejected": []}


# -- the send endpoint's refusals ---------------------------------------------------------------------------


def body(**fields: Any) -> dict[str, Any]:
    return {
        "to": "41793026000",
        "text": "Spring sale: 20% off everything until Sunday.",
        "customer_ids": {"registered": "customer-6000"},
        "campaign_id": "65f1c0ffee",
        "action_id": 7,
        **fields,
    }


async def send(
    setup: Setup, payload: Any, token: str | None = WEBHOOK_TOKEN, project: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return await setup.http.post(
        f"/bloomreach/{project or setup.token}/messages", json=payload, headers=headers
    )


@pytest.mark.parametrize("token", [None, "wrong-token-0123456789", ADMIN], ids=["none", "wrong", "admin-key"])
async def test_the_send_endpoint_needs_the_projects_webhook_token(
    configured: Setup, token: str | None
) -> None:
    response = await send(configured, body(), token=token)
    assert response.status_code == 401
    assert "Bearer" in response.json()["error"]


async def test_the_send_endpoint_refuses_an_unknown_project(configured: Setup) -> None:
    response = await send(configured, body(), project="not-configured")
    assert response.status_code == 404
    assert response.json()["error"] == "Bloomreach project not-configured is not configured"


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        (body(customer_ids={}), "$.customer_ids"),
        (body(customer_ids={"registered": ""}), "$.customer_ids[...]"),
        (body(sender="Nobody"), "$.sender"),
        (body(channel="fax"), "$.channel"),
        (body(media_type="gif", channel="mms"), "$.media_type"),
        (body(to="4" * 33), "$.to"),
        (body(properties={"tags": ["a", "b"]}), "$.properties[...]"),
        (body(message_id=""), "$.message_id"),
        (body(colour="red"), "$"),
        ({k: v for k, v in body().items() if k != "to"}, "$"),
        ([body()], "$"),
    ],
)
async def test_a_bad_body_is_refused_naming_the_field(configured: Setup, payload: Any, path: str) -> None:
    response = await send(configured, payload)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["problems"][0]["path"] == path
    assert answer["error"].startswith(f"{path}: ")
    assert configured.bloomreach.requests == []  # nothing tracked


async def test_every_problem_the_plugin_finds_is_named_at_once(configured: Setup) -> None:
    response = await send(configured, body(customer_ids={}, sender="Nobody"))
    assert response.status_code == 400
    problems = response.json()["problems"]
    assert [p["path"] for p in problems] == ["$.customer_ids", "$.sender"]
    assert "InfoSMS, ShopNews" in problems[1]["message"]


async def test_a_body_that_is_not_json_is_refused(configured: Setup) -> None:
    response = await configured.http.post(
        f"/bloomreach/{configured.token}/messages",
        content=b"{not json",
        headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["problems"][0]["path"] == "$"
    assert "not valid JSON" in response.json()["error"]
