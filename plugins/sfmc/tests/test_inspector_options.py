"""The inspector pages and the options they read: `GET /sfmc/{mid}/ui/options` answers only for a Journey
Builder user token of that business unit (checked with SFMC's /v2/userinfo), never shows a secret, and says
plainly why it refuses."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from channel_engine_sfmc import inspector
from channel_engine_sfmc.config import BusinessUnit
from channel_engine_sfmc.testing.journeys import SIGNING_SECRET, Journey, journey
from channel_engine_sfmc.units import Units


@pytest.fixture
async def trip(tmp_path: Path) -> Any:
    async with journey(tmp_path) as j:
        yield j


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def stored_unit(trip: Journey) -> BusinessUnit:
    unit = await Units(trip.harness.engine.services).get(trip.mid)
    assert unit is not None
    return unit


async def test_a_good_token_gets_the_units_options_and_no_secret(trip: Journey) -> None:
    token = trip.sfmc.user_token(trip.mid)
    response = await trip.http.get(f"/sfmc/{trip.mid}/ui/options", headers=bearer(token))
    assert response.status_code == 200, response.text
    options = response.json()
    channels = trip.harness.engine.services.channels
    assert options["mid"] == trip.mid and options["channels"] == channels
    assert options["accounts"] == ["main"] and options["customDomains"] == ["go.example.com"]
    assert options["callbackData"]["reservedNames"][:2] == ["ActivityId", "BulkId"]
    assert [d["key"] for d in options["reportDataExtensions"]] == [
        "SMS_Delivery_Reports", "Omni_Reports", "Unified_URL_Tracking", "Viber_URL_Tracking"]  # fmt: skip
    assert {d["key"]: d["kind"] for d in options["reportDataExtensions"]}["Unified_URL_Tracking"] == "click"
    for secret in (
        trip.sfmc.client_secret,
        SIGNING_SECRET,
        trip.unit_document()["infobipAccounts"][0]["apiKey"],
    ):
        assert secret not in response.text


async def test_the_senders_are_listed_per_channel(trip: Journey) -> None:
    options = inspector.unit_options(
        await stored_unit(trip), ["sms", "lms", "viber", "kakao-alim", "whatsapp"]
    )
    expected = {
        "sms": ["InfoSMS"],
        "lms": ["InfoSMS"],
        "viber": ["InfoViber"],
        "kakao-alim": [],
        "whatsapp": [],
    }
    assert options["senders"] == expected


async def test_a_token_of_another_business_unit_is_refused(trip: Journey) -> None:
    token = trip.sfmc.user_token("200000002")
    response = await trip.http.get(f"/sfmc/{trip.mid}/ui/options", headers=bearer(token))
    assert response.status_code == 401
    assert "business unit 200000002, not 100000001" in response.json()["error"]


async def test_a_missing_or_unknown_token_is_refused_with_a_reason(trip: Journey) -> None:
    anonymous = await trip.http.get(f"/sfmc/{trip.mid}/ui/options")
    assert anonymous.status_code == 401 and "fuel2token" in anonymous.json()["error"]
    basic = await trip.http.get(f"/sfmc/{trip.mid}/ui/options", headers={"Authorization": "Basic eA=="})
    assert basic.status_code == 401 and "fuel2token" in basic.json()["error"]
    unknown = await trip.http.get(f"/sfmc/{trip.mid}/ui/options", headers=bearer("made-up-token"))
    assert unknown.status_code == 401
    assert "SFMC did not accept the Journey Builder token (HTTP 401)" in unknown.json()["error"]


async def test_an_expired_token_is_refused(trip: Journey) -> None:
    token = trip.sfmc.user_token(trip.mid, lifetime=-1)
    response = await trip.http.get(f"/sfmc/{trip.mid}/ui/options", headers=bearer(token))
    assert response.status_code == 401 and "expired" in response.json()["error"]


async def test_an_unknown_business_unit_answers_404(trip: Journey) -> None:
    token = trip.sfmc.user_token("300000003")
    response = await trip.http.get("/sfmc/300000003/ui/options", headers=bearer(token))
    assert response.status_code == 404 and "300000003 is not configured" in response.json()["error"]
    assert trip.sfmc.userinfo_calls == 0


async def test_a_good_token_is_remembered_by_its_hash_and_never_logged(
    trip: Journey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = trip.sfmc.user_token(trip.mid)
    for _ in range(3):
        response = await trip.http.get(f"/sfmc/{trip.mid}/ui/options", headers=bearer(token))
        assert response.status_code == 200
    assert trip.sfmc.userinfo_calls == 1
    other = trip.sfmc.user_token("200000002")
    refused = await trip.http.get(f"/sfmc/{trip.mid}/ui/options", headers=bearer(other))
    assert refused.status_code == 401
    assert hashlib.sha256(other.encode()).hexdigest()[:12] in caplog.text
    assert token not in caplog.text and other not in caplog.text


async def test_the_remembered_token_expires(trip: Journey) -> None:
    now = [1000.0]
    unit = await stored_unit(trip)
    token = trip.sfmc.user_token(trip.mid)
    async with httpx.AsyncClient() as http:
        check = inspector.TokenCheck(http, clock=lambda: now[0], ttl=60)
        await check.check(unit, f"Bearer {token}")
        await check.check(unit, f"Bearer {token}")
        assert trip.sfmc.userinfo_calls == 1
        now[0] += 61
        await check.check(unit, f"Bearer {token}")
        assert trip.sfmc.userinfo_calls == 2
        with pytest.raises(inspector.TokenRefused) as refused:
            await check.check(unit, "Bearer " + trip.sfmc.user_token("200000002"))
        assert refused.value.status == 401


async def test_sfmc_answering_an_error_is_a_502_and_sfmc_unreachable_a_503(tmp_path: Path) -> None:
    async with journey(tmp_path) as trip:
        token = trip.sfmc.user_token(trip.mid)
        trip.sfmc.down = True
        failing = await trip.http.get(f"/sfmc/{trip.mid}/ui/options", headers=bearer(token))
        assert failing.status_code == 502
        assert failing.json()["error"].startswith("SFMC answered HTTP 503 when asked who the Journey Builder")
        trip.sfmc.down = False
        document = trip.unit_document()
        document["sfmc"]["authBaseUri"] = "http://127.0.0.1:9/"  # nothing listens on the discard port
        assert (await trip.configure(sfmc=document["sfmc"])).status_code == 200
        unreachable = await trip.http.get(f"/sfmc/{trip.mid}/ui/options", headers=bearer(token))
        assert unreachable.status_code == 503
        assert "could not be reached to check the Journey Builder token" in unreachable.json()["error"]


@pytest.mark.parametrize("activity", ["message", "reports"])
async def test_the_pages_and_the_icon_are_served_for_journey_builder_to_frame(
    trip: Journey, activity: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(inspector.ORIGINS_VARIABLE, "http://127.0.0.1:8001, https://jb.example.org/")
    for path in (f"/sfmc/{trip.mid}/{activity}/index.html", f"/sfmc/{trip.mid}/{activity}/"):
        page = await trip.http.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert (
            "frame-ancestors https://*.exacttarget.com https://*.marketingcloudapps.com "
            "http://127.0.0.1:8001 https://jb.example.org" in policy
        )
        assert "script-src 'self'" in policy and "{{JB_ORIGINS}}" not in page.text
        assert (
            'content="https://*.exacttarget.com https://*.marketingcloudapps.com http://127.0.0.1:8001'
            in (page.text)
        )
    icon = await trip.http.get(f"/sfmc/{trip.mid}/{activity}/images/icon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert icon.text.lstrip().startswith("<svg")
    for asset in ("jb.js", "forms.js", f"{activity}.js", "inspector.css"):
        served = await trip.http.get(f"/sfmc/ui/{asset}")
        assert served.status_code == 200 and len(served.text) > 100, asset
    assert (await trip.http.get("/sfmc/ui/inspector.py")).status_code == 404
    assert (await trip.http.get(f"/sfmc/{trip.mid}/nothing/index.html")).status_code == 404


@pytest.mark.parametrize("activity", ["message", "reports"])
async def test_config_json_names_the_served_page_and_icon(trip: Journey, activity: str) -> None:
    config = (await trip.http.get(f"/sfmc/{trip.mid}/{activity}/config.json")).json()
    inspector_ui = config["userInterfaces"]["configInspector"]
    assert "emptyIframe" not in inspector_ui and inspector_ui["size"] in ("scm-lg", "scm-md")
    assert config["metaData"]["icon"] == "images/icon.svg"
