"""The per-business-unit configuration API: authentication, validation that names the field, secrets
sealed at rest and never shown, and the "validate" action against the live (loopback) services."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from channel_engine_sfmc import config
from channel_engine_sfmc.testing.journeys import ADMIN, SIGNING_SECRET, Journey, journey


@pytest.fixture
async def trip(tmp_path: Path) -> Any:
    async with journey(tmp_path) as j:
        yield j


async def test_the_api_needs_the_engines_api_key(trip: Journey) -> None:
    for method, path in [("GET", "/sfmc/config"), ("GET", f"/sfmc/config/{trip.mid}"),
                         ("PUT", f"/sfmc/config/{trip.mid}"), ("DELETE", f"/sfmc/config/{trip.mid}"),
                         ("POST", f"/sfmc/config/{trip.mid}/validate")]:  # fmt: skip
        anonymous = await trip.http.request(method, path)
        assert anonymous.status_code == 401, path
        wrong = await trip.http.request(method, path, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "API key" in wrong.json()["error"]


async def test_without_an_engine_api_key_the_api_is_closed(tmp_path: Path) -> None:
    from channel_engine.testing.harness import run_engine

    async with run_engine(tmp_path) as harness:
        response = await harness.http.get("/sfmc/config")
    assert response.status_code == 403 and "CHANNEL_ENGINE_API_KEY" in response.json()["error"]


async def test_secrets_are_masked_in_answers_and_sealed_at_rest(trip: Journey) -> None:
    shown = (await trip.http.get(f"/sfmc/config/{trip.mid}", headers=ADMIN)).json()
    assert shown["sfmc"]["clientSecret"] == config.MASK and shown["sfmc"]["jwtSigningSecret"] == config.MASK
    assert shown["infobipAccounts"][0]["apiKey"] == config.MASK
    assert shown["reportStorage"]["native"]["smsDeliveryReports"] == "SMS_Delivery_Reports"
    listed = (await trip.http.get("/sfmc/config", headers=ADMIN)).json()["businessUnits"]
    assert [u["mid"] for u in listed] == [trip.mid]
    raw = await trip.harness.engine.services.data(config.NAMESPACE).get(config.key(trip.mid))
    assert raw is not None
    for secret in (
        trip.sfmc.client_secret,
        SIGNING_SECRET,
        trip.unit_document()["infobipAccounts"][0]["apiKey"],
    ):
        assert secret.encode() not in raw and secret not in str(shown)


async def test_a_masked_secret_sent_back_keeps_the_stored_one(trip: Journey) -> None:
    shown = (await trip.http.get(f"/sfmc/config/{trip.mid}", headers=ADMIN)).json()
    shown["customDomains"] = ["go.example.com", "links.example.com"]
    assert (await trip.http.put(f"/sfmc/config/{trip.mid}", json=shown, headers=ADMIN)).status_code == 200
    # The signing secret was kept: a signed call still verifies.
    assert (await trip.post_jwt("message/validate", {"activityObjectID": "a"})).status_code == 200
    validated = await trip.http.post(f"/sfmc/config/{trip.mid}/validate", headers=ADMIN)
    assert validated.json()["valid"] is True
    fresh = shown | {"mid": "200000002"}
    refused = await trip.http.put("/sfmc/config/200000002", json=fresh, headers=ADMIN)
    assert refused.status_code == 400 and refused.json()["path"] == "$.sfmc.clientSecret"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"sfmc": {"clientId": "x"}}, "$.sfmc"),
        (
            {"infobipAccounts": [{"name": "main", "baseUrl": "ftp://x", "apiKey": "k"}]},
            "$.infobipAccounts[0].baseUrl",
        ),
        ({"reportStorage": {"mode": "carrier-pigeon"}}, "$.reportStorage.mode"),
        ({"mid": "123"}, "$.mid"),
        ({"customDomains": ["not a domain"]}, "$.customDomains[0]"),
    ],
)
async def test_a_bad_document_is_refused_naming_the_field(
    trip: Journey, change: dict[str, Any], path: str
) -> None:
    response = await trip.configure(**change)
    assert response.status_code == 400 and response.json()["path"] == path


async def test_validate_checks_sfmc_and_every_infobip_account(trip: Journey) -> None:
    good = await trip.http.post(f"/sfmc/config/{trip.mid}/validate", headers=ADMIN)
    assert good.status_code == 200
    assert good.json() == {"valid": True, "checks": [
        {"service": "sfmc", "ok": True}, {"service": "infobip", "account": "main", "ok": True}]}  # fmt: skip

    document = trip.unit_document()
    document["sfmc"]["clientSecret"] = "wrong-secret"
    document["infobipAccounts"].append(
        {"name": "second", "baseUrl": f"{trip.harness.url}/simulator", "apiKey": "bad"}
    )
    assert (await trip.http.put(f"/sfmc/config/{trip.mid}", json=document, headers=ADMIN)).status_code == 200
    bad = await trip.http.post(f"/sfmc/config/{trip.mid}/validate", headers=ADMIN)
    assert bad.status_code == 422 and bad.json()["valid"] is False
    checks = bad.json()["checks"]
    assert checks[0]["ok"] is False and "wrong-secret" not in str(checks)
    assert [c["ok"] for c in checks[1:]] == [True, False] and "API key" in checks[2]["reason"]


async def test_a_deleted_business_unit_is_gone(trip: Journey) -> None:
    assert (await trip.http.delete(f"/sfmc/config/{trip.mid}", headers=ADMIN)).status_code == 204
    assert (await trip.http.get(f"/sfmc/config/{trip.mid}", headers=ADMIN)).status_code == 404
    assert (await trip.http.delete(f"/sfmc/config/{trip.mid}", headers=ADMIN)).status_code == 404


SALT_TEXT = b"the salt typed in Key Management, 0123456789"
SALT_KEY = {"jwtCustomerKey": "infobip-jwt-salt", "jwtSalt": "0x" + SALT_TEXT.hex()}


async def test_a_salt_key_is_masked_sealed_and_kept_when_the_mask_comes_back(trip: Journey) -> None:
    document = trip.unit_document()
    stored = await trip.configure(sfmc=document["sfmc"] | SALT_KEY)
    assert stored.status_code == 200, stored.text
    shown = (await trip.http.get(f"/sfmc/config/{trip.mid}", headers=ADMIN)).json()
    assert shown["sfmc"]["jwtSalt"] == config.MASK and shown["sfmc"]["jwtCustomerKey"] == "infobip-jwt-salt"
    assert stored.json()["sfmc"]["jwtSalt"] == config.MASK
    raw = await trip.harness.engine.services.data(config.NAMESPACE).get(config.key(trip.mid))
    assert raw is not None and SALT_KEY["jwtSalt"].encode() not in raw and SALT_TEXT not in raw
    # The masked document sent back keeps the salt: a call signed with its bytes still verifies.
    shown["customDomains"] = ["go.example.com", "links.example.com"]
    assert (await trip.http.put(f"/sfmc/config/{trip.mid}", json=shown, headers=ADMIN)).status_code == 200
    assert (await trip.post_jwt("message/validate", {"activityObjectID": "a"}, SALT_TEXT)).status_code == 200


@pytest.mark.parametrize(
    ("salt_key", "path", "reason"),
    [
        ({"jwtCustomerKey": "infobip-jwt-salt"}, "$.sfmc.jwtSalt", "sfmc.jwtSalt is not"),
        ({"jwtSalt": SALT_KEY["jwtSalt"]}, "$.sfmc.jwtCustomerKey", "sfmc.jwtCustomerKey is not"),
        (SALT_KEY | {"jwtSalt": SALT_TEXT.hex()}, "$.sfmc.jwtSalt", "0x followed by an even number"),
        (SALT_KEY | {"jwtSalt": "0x123"}, "$.sfmc.jwtSalt", "0x followed by an even number"),
        (SALT_KEY | {"jwtSalt": "0xnothex!"}, "$.sfmc.jwtSalt", "0x followed by an even number"),
        (SALT_KEY | {"jwtCustomerKey": "line\nbreak"}, "$.sfmc.jwtCustomerKey", "space to tilde"),
        (SALT_KEY | {"jwtCustomerKey": "k" * 201}, "$.sfmc.jwtCustomerKey", "length <= 200"),
        (SALT_KEY | {"jwtSalt": config.MASK}, "$.sfmc.jwtSalt", "no secret is stored to keep"),
    ],
)
async def test_a_salt_key_that_cannot_work_is_refused_naming_the_field(
    trip: Journey, salt_key: dict[str, str], path: str, reason: str
) -> None:
    response = await trip.configure(sfmc=trip.unit_document()["sfmc"] | salt_key)
    assert response.status_code == 400 and response.json()["path"] == path
    assert reason in response.json()["error"]
    assert SALT_TEXT.hex() not in response.text  # the salt is never echoed
    shown = (await trip.http.get(f"/sfmc/config/{trip.mid}", headers=ADMIN)).json()
    assert "jwtSalt" not in shown["sfmc"] or shown["sfmc"]["jwtSalt"] is None  # nothing was stored
