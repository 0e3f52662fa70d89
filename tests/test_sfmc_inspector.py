"""The activities' inspector pages in a real (headless) Chromium, inside a fake Journey Builder.

The fake Journey Builder is a page of its own origin that frames the engine's page and speaks Postmonger's
wire format from the outside: it answers `ready` with `initActivity`, and `requestTokens`, `requestSchema`
and `requestInteraction` with what the test scripted; `clickNext()` sends `clickedNext`; every message the
page sends is reported to a `WebhookReceiver` (an `updateActivity` with its sequence number), which the test
awaits. What the page saved then goes through the real JWT-signed execute endpoint.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest
from playwright.async_api import Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route

from channel_engine.testing.servers import WebhookReceiver, serve_app
from channel_engine_sfmc.inspector import ORIGINS_VARIABLE
from channel_engine_sfmc.testing.journeys import Journey, journey

DE = "Event.DEAudience-7c1f"
SCHEMA = [
    {"key": f"{DE}.ContactKey", "name": "ContactKey", "type": "Text", "length": 100, "isNullable": False,
     "isPrimaryKey": True, "default": None},
    {"key": f"{DE}.FirstName", "name": "FirstName", "type": "Text", "length": 50, "isNullable": True},
    {"key": f"{DE}.HomePhone", "name": "HomePhone", "type": "Phone", "isNullable": True},
    {"key": f"{DE}.MobilePhone", "name": "MobilePhone", "type": "Phone", "isNullable": True},
    {"key": f"{DE}.Tier", "name": "Tier", "type": "Text", "length": 20, "isNullable": True},
]  # fmt: skip
CONTACT = {"ContactKey": "c-0001", "FirstName": "Ana", "HomePhone": "", "MobilePhone": "41791234567",
           "Tier": "gold"}  # fmt: skip

HOST_PAGE = r"""<!doctype html>
<html><head><meta charset="utf-8"><title>Fake Journey Builder</title></head>
<body>
<iframe id="inspector" src="__SRC__" width="900" height="1600"></iframe>
<script>
const scenario = __SCENARIO__;
const frame = document.getElementById("inspector");
const origin = new URL(frame.src).origin;
let updates = 0;
let initialized = false;
function report(kind, body) {
  return fetch("/report/" + kind, {method: "POST", headers: {"Content-Type": "application/json"},
                                   body: JSON.stringify(body)});
}
function send(event, ...args) {
  const message = {e: event};
  args.forEach((arg, i) => { message["z" + (i + 1)] = arg; });
  frame.contentWindow.postMessage(JSON.stringify(message), origin);
}
const answers = {
  ready: () => { if (!initialized) { initialized = true; send("initActivity", scenario.activity); } },
  requestTokens: () => scenario.tokens && send("requestedTokens", scenario.tokens),
  requestSchema: () => scenario.schema && send("requestedSchema", {schema: scenario.schema}),
  requestInteraction: () => scenario.interaction && send("requestedInteraction", scenario.interaction),
};
window.addEventListener("message", (event) => {
  if (event.source !== frame.contentWindow || event.origin !== origin) return;
  const data = JSON.parse(event.data);
  const args = Object.keys(data).filter((k) => k !== "e").map((k) => data[k]);
  if (data.e === "updateActivity") {
    updates += 1;
    report("updateActivity", {seq: updates, activity: args[0]});
  } else {
    report("event", {event: data.e, args: args});
  }
  if (answers[data.e]) answers[data.e]();
});
window.clickNext = () => send("clickedNext");
window.flush = () => report("flush", {});
// Another window of this (allowed) origin, not the page's parent, posting `event` to the page.
window.forge = (event) => new Promise((resolve) => {
  const sibling = document.createElement("iframe");
  sibling.srcdoc = "<script>parent.document.getElementById('inspector').contentWindow.postMessage("
    + "JSON.stringify({e: '" + event + "'}), '*');<\/script>";
  sibling.onload = () => resolve();
  document.body.appendChild(sibling);
});
</script>
</body></html>
"""


@dataclass
class FakeJourneyBuilder:
    url: str
    receiver: WebhookReceiver
    scenario: dict[str, Any] = field(default_factory=dict)

    def reports(self, kind: str) -> list[Any]:
        return [r.body for r in self.receiver.received if r.path.endswith(f"/{kind}")]

    def updates(self) -> list[dict[str, Any]]:
        return self.reports("updateActivity")

    def events(self) -> list[str]:
        return [body["event"] for body in self.reports("event")]

    async def wait_update(self, count: int = 1) -> dict[str, Any]:
        """The `count`th updateActivity the page sent: {seq, activity}."""
        await self.receiver.wait_for(lambda _: len(self.updates()) >= count, timeout=10)
        return self.updates()[count - 1]

    async def flush(self, page: Page) -> None:
        """Wait until everything the page reported before now has arrived (one more report, awaited)."""
        before = len(self.reports("flush"))
        await page.evaluate("flush()")
        await self.receiver.wait_for(lambda _: len(self.reports("flush")) > before, timeout=10)


@contextlib.asynccontextmanager
async def fake_journey_builder(trip: Journey) -> AsyncIterator[FakeJourneyBuilder]:
    receiver = WebhookReceiver()
    fake: FakeJourneyBuilder

    async def host(request: Request) -> HTMLResponse:
        activity = request.path_params["activity"]
        src = f"{trip.harness.url}/sfmc/{trip.mid}/{activity}/index.html"
        scenario = json.dumps(fake.scenario).replace("</", "<\\/")
        return HTMLResponse(HOST_PAGE.replace("__SRC__", src).replace("__SCENARIO__", scenario))

    app = Starlette(routes=[Route("/host/{activity}", host), Mount("/report", app=receiver.app)])
    async with serve_app(app) as url:
        fake = FakeJourneyBuilder(url, receiver)
        yield fake


@dataclass
class Setup:
    trip: Journey
    jb: FakeJourneyBuilder
    page: Page
    problems: list[str]

    @property
    def frame(self) -> Any:
        return self.page.frame_locator("#inspector")

    async def open(self, activity: str = "message") -> None:
        await self.page.goto(f"{self.jb.url}/host/{activity}")


@pytest.fixture
async def setup(tmp_path: Path, browser: Any, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Setup]:
    async with journey(tmp_path) as trip, fake_journey_builder(trip) as jb:
        monkeypatch.setenv(ORIGINS_VARIABLE, jb.url)
        jb.scenario.update(
            activity=await new_activity(trip, "message"),
            tokens={"token": "legacy-token", "fuel2token": trip.sfmc.user_token(trip.mid), "expires": 0},
            schema=SCHEMA,
            interaction={
                "id": "journey-1",
                "key": "spring",
                "name": "Spring journey",
                "version": 3,
                "activities": [],
                "triggers": [],
            },
        )
        page = await browser.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

        def console(message: Any) -> None:
            # "Failed to load resource" repeats a response the handler below records with its URL.
            if message.type == "error" and not message.text.startswith("Failed to load resource"):
                problems.append(f"console: {message.text}")

        page.on("console", console)
        page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status} {r.url}"))
        yield Setup(trip, jb, page, problems)
        await page.close()
        assert problems == []


async def new_activity(trip: Journey, activity: str) -> dict[str, Any]:
    """What Journey Builder sends for a freshly dropped activity: its config.json, with a key and name."""
    config = (await trip.http.get(f"/sfmc/{trip.mid}/{activity}/config.json")).json()
    name = config["lang"]["en-US"]["name"]
    return config | {"key": "REST-1", "name": name, "id": None}


def saved_activity(activity: dict[str, Any], in_arguments: list[dict[str, Any]]) -> dict[str, Any]:
    saved = copy.deepcopy(activity)
    saved["arguments"]["execute"]["inArguments"] = in_arguments
    saved["metaData"]["isConfigured"] = True
    saved["id"] = "5e9b1f0c-activity"
    return saved


def resolved(in_arguments: list[dict[str, Any]], contact: dict[str, str]) -> list[dict[str, Any]]:
    """The inArguments as Journey Builder sends them to execute: every {{Event.DE.Field}} binding replaced
    by the contact's value."""
    text = json.dumps(in_arguments)
    text = re.sub(r"\{\{" + re.escape(DE) + r"\.([A-Za-z0-9_]+)\}\}", lambda m: contact[m.group(1)], text)
    return list(json.loads(text))


async def test_a_new_sms_activity_filled_in_through_the_form_is_saved_and_sends(setup: Setup) -> None:
    trip, jb, frame = setup.trip, setup.jb, setup.frame
    await setup.open()
    await expect(frame.locator("#status")).to_contain_text("Business unit 100000001")
    # Phone-type fields are offered first.
    labels = await frame.locator("#phone-add option").all_text_contents()
    assert labels[1:3] == ["HomePhone (Phone)", "MobilePhone (Phone)"]
    await frame.locator("#channel").select_option("sms")
    await frame.locator("#phone-add").select_option(label="MobilePhone (Phone)")
    await frame.locator("#sender").fill("InfoSMS")
    await frame.locator("#content-text").fill("Hello ")
    await frame.locator("#merge-field").select_option("FirstName")
    await frame.locator("#content-text").press_sequentially(", see https://shop.example.com/spring")
    await frame.locator("#shorten-url").check()
    await frame.locator("#track-clicks").check()
    await frame.locator("#custom-domain").select_option("go.example.com")
    await frame.locator("#speed-enabled").check()
    await frame.locator("#speed-amount").fill("120")
    await frame.locator("#speed-unit").select_option("MINUTE")
    await frame.locator("#validity-enabled").check()
    await frame.locator("#validity-amount").fill("2")
    await frame.locator("#callback-add").click()
    await frame.locator(".callback-name").fill("Segment")
    await frame.locator(".callback-value").fill("tier-")
    await frame.locator("#merge-field").select_option("Tier")
    await frame.locator("#trigger-enabled").check()
    await frame.locator("#trigger-key").fill("SMS_Response")
    await frame.locator("#activity-name").fill("Spring sale")
    await setup.page.evaluate("clickNext()")

    update = await jb.wait_update()
    assert update["seq"] == 1
    saved = update["activity"]
    assert saved["metaData"]["isConfigured"] is True and saved["name"] == "Spring sale"
    in_arguments = saved["arguments"]["execute"]["inArguments"]
    assert in_arguments == [
        {"channel": "sms"},
        {"phone": f"{{{{{DE}.MobilePhone}}}}"},
        {"content": {"text": "Hello %%FirstName%%, see https://shop.example.com/spring"}},
        {"sender": "InfoSMS"},
        {"urlOptions": {"shortenUrl": True, "trackClicks": True, "removeProtocol": False,
                        "customDomain": "go.example.com"}},
        {"speedLimit": {"amount": 120, "timeUnit": "MINUTE"}},
        {"validityPeriod": {"amount": 2, "timeUnit": "HOURS"}},
        {"customCallbackData": [{"name": "Segment", "value": "tier-%%Tier%%"}]},
        {"activityName": "Spring sale"},
        {"triggerEventOnResponse": {"eventDefinitionKey": "SMS_Response"}},
        {"journeyName": "Spring journey"},
        {"versionNumber": 3},
        {"FirstName": f"{{{{{DE}.FirstName}}}}"},
        {"Tier": f"{{{{{DE}.Tier}}}}"},
    ]  # fmt: skip
    assert "setActivityDirtyState" in jb.events()

    # Journey Builder's publish check passes the saved design, and execute sends it.
    publish = await trip.post_jwt(
        "message/publish", {"arguments": saved["arguments"], "activityObjectID": "a"}
    )
    assert publish.status_code == 200, publish.text
    body = trip.execute_body("c-0001") | {"inArguments": resolved(in_arguments, CONTACT)}
    answer = await trip.post_jwt("message/execute", body)
    assert answer.status_code == 200 and answer.json()["messageStatus"] == "Success", answer.text
    message_id = answer.json()["messageId"]
    await trip.harness.simulator.wait_reported([message_id])
    sent = trip.harness.simulator.accepted[message_id]
    assert sent.to == "41791234567" and sent.sender == "InfoSMS" and sent.bulk_id == "Spring sale"
    assert sent.text is not None and sent.text.startswith("Hello Ana, see ")
    assert sent.shorten_url and sent.track_clicks and sent.custom_domain == "go.example.com"
    callback = msgspec.json.decode(sent.callback_data or "{}")
    assert callback["Segment"] == "tier-gold" and callback["JourneyName"] == "Spring journey"


VIBER = [
    {"channel": "viber"},
    {"phone": f"{{{{{DE}.HomePhone}}}}"},
    {"phone": f"{{{{{DE}.MobilePhone}}}}"},
    {"content": {"text": "Hi %%FirstName%%", "imageUrl": "https://cdn.example.com/dish.jpg",
                 "button": {"title": "Book", "url": "https://bistro.example.com/book"},
                 "label": "PROMOTIONAL", "trackingData": "table-42"}},
    {"sender": "InfoViber"},
    {"account": "main"},
    {"urlOptions": {"shortenUrl": True, "trackClicks": False, "removeProtocol": True,
                    "customDomain": "go.example.com"}},
    {"speedLimit": {"amount": 500, "timeUnit": "DAY"}},
    {"validityPeriod": {"amount": 30, "timeUnit": "MINUTES"}},
    {"customCallbackData": [{"name": "Campaign", "value": "spring"}, {"name": "Tier", "value": "%%Tier%%"}]},
    {"activityName": "Viber spring"},
    {"triggerEventOnResponse": {"eventDefinitionKey": "Viber_Reply"}},
    {"journeyName": "Spring journey"},
    {"versionNumber": 3},
    {"FirstName": f"{{{{{DE}.FirstName}}}}"},
    {"Tier": f"{{{{{DE}.Tier}}}}"},
]  # fmt: skip


async def test_a_saved_activity_is_restored_into_the_form_and_saved_back_unchanged(setup: Setup) -> None:
    frame, jb = setup.frame, setup.jb
    jb.scenario["activity"] = saved_activity(jb.scenario["activity"], VIBER)
    await setup.open()
    await expect(frame.locator("#status")).to_contain_text("Business unit 100000001")
    await expect(frame.locator("#channel")).to_have_value("viber")
    await expect(frame.locator("#phones li .phone-name")).to_have_text(
        ["HomePhone (Phone)", "MobilePhone (Phone)"]
    )
    await expect(frame.locator("#content-text")).to_have_value("Hi %%FirstName%%")
    await expect(frame.locator("#content-imageUrl")).to_have_value("https://cdn.example.com/dish.jpg")
    await expect(frame.locator("#content-button-title")).to_have_value("Book")
    await expect(frame.locator("#content-label")).to_have_value("PROMOTIONAL")
    assert json.loads(await frame.locator("#content-json").input_value())["trackingData"] == "table-42"
    await expect(frame.locator("#sender")).to_have_value("InfoViber")
    await expect(frame.locator("#account")).to_have_value("main")
    await expect(frame.locator("#shorten-url")).to_be_checked()
    await expect(frame.locator("#track-clicks")).not_to_be_checked()
    await expect(frame.locator("#remove-protocol")).to_be_checked()
    await expect(frame.locator("#custom-domain")).to_have_value("go.example.com")
    await expect(frame.locator("#speed-amount")).to_have_value("500")
    await expect(frame.locator("#speed-unit")).to_have_value("DAY")
    await expect(frame.locator("#validity-amount")).to_have_value("30")
    await expect(frame.locator("#validity-unit")).to_have_value("MINUTES")
    values = "inputs => inputs.map((input) => input.value)"
    assert await frame.locator(".callback-name").evaluate_all(values) == ["Campaign", "Tier"]
    assert await frame.locator(".callback-value").evaluate_all(values) == ["spring", "%%Tier%%"]
    await expect(frame.locator("#trigger-key")).to_have_value("Viber_Reply")
    await expect(frame.locator("#activity-name")).to_have_value("Viber spring")

    await setup.page.evaluate("clickNext()")
    update = await jb.wait_update()
    assert update["activity"]["arguments"]["execute"]["inArguments"] == VIBER


async def test_a_bad_field_shows_its_message_and_nothing_is_saved(setup: Setup) -> None:
    frame, jb = setup.frame, setup.jb
    sms = [
        {"channel": "sms"},
        {"phone": f"{{{{{DE}.MobilePhone}}}}"},
        {"content": {"text": "Hello"}},
        {"activityName": "Infobip Message"},
    ]
    jb.scenario["activity"] = saved_activity(jb.scenario["activity"], sms)
    await setup.open()
    await expect(frame.locator("#status")).to_contain_text("Business unit 100000001")
    await frame.locator("#callback-add").click()
    await frame.locator(".callback-name").fill("ContactKey")
    await frame.locator(".callback-value").fill("x")
    await frame.locator("#speed-enabled").check()
    await frame.locator("#speed-amount").fill("0")
    await frame.locator("#content-text").fill("Hello %%Nickname%%")
    await setup.page.evaluate("clickNext()")

    await expect(frame.locator("#callback-error")).to_contain_text(
        "row 1: ContactKey is reserved for the engine's own callback data"
    )
    await expect(frame.locator("#speed-error")).to_contain_text("a whole number from 1 to 100,000")
    await expect(frame.locator("#content-error")).to_contain_text(
        "%%Nickname%% is not a field of the journey's entry source"
    )
    await expect(frame.locator("#summary")).to_have_text("Not saved: 3 problems to fix below.")
    await jb.flush(setup.page)
    assert jb.updates() == []

    await frame.locator(".callback-name").fill("Contact")
    await frame.locator("#speed-amount").fill("5")
    await frame.locator("#content-text").fill("Hello %%FirstName%%")
    await setup.page.evaluate("clickNext()")
    update = await jb.wait_update()
    assert update["seq"] == 1  # the refused click sent nothing
    in_arguments = update["activity"]["arguments"]["execute"]["inArguments"]
    assert {"customCallbackData": [{"name": "Contact", "value": "x"}]} in in_arguments
    assert {"speedLimit": {"amount": 5, "timeUnit": "HOUR"}} in in_arguments
    await expect(frame.locator("#callback-error")).to_be_hidden()


async def test_the_get_reports_page_lists_this_journeys_message_activities(setup: Setup) -> None:
    trip, frame, jb = setup.trip, setup.frame, setup.jb
    ours = f"{trip.harness.url}/sfmc/{trip.mid}/message/execute"
    jb.scenario["activity"] = await new_activity(trip, "reports")
    jb.scenario["interaction"]["activities"] = [
        {"id": "act-sms", "key": "REST-1", "name": "Welcome SMS", "type": "REST",
         "arguments": {"execute": {"url": ours}}},
        {"id": "act-mail", "key": "EMAILV2-1", "name": "Welcome email", "type": "EMAILV2", "arguments": {}},
        {"id": "act-viber", "key": "REST-2", "name": "Viber follow-up", "type": "REST",
         "arguments": {"execute": {"url": ours + "/"}}},
        {"id": "act-other", "key": "REST-3", "name": "Another vendor", "type": "REST",
         "arguments": {"execute": {"url": "https://other.example.com/execute"}}},
        {"id": "act-other-mid", "key": "REST-4", "name": "Other business unit", "type": "REST",
         "arguments": {"execute": {"url": f"{trip.harness.url}/sfmc/200000002/message/execute"}}},
    ]  # fmt: skip
    await setup.open("reports")
    await expect(frame.locator("#status")).to_contain_text("Business unit 100000001")
    await expect(frame.locator("#message-activity option")).to_have_text(
        ["Choose a message activity…", "Welcome SMS", "Viber follow-up"]
    )
    await frame.locator("#message-activity").select_option("act-viber")
    await frame.locator("#data-extension").select_option("Omni_Reports")
    await expect(frame.locator("#data-extension-help")).to_contain_text("statusName")
    await setup.page.evaluate("clickNext()")
    update = await jb.wait_update()
    in_arguments = update["activity"]["arguments"]["execute"]["inArguments"]
    # The message id is bound to the chosen activity's outArgument, by the key Journey Builder knows it by.
    assert in_arguments == [
        {"messageActivityId": "act-viber"},
        {"dataExtension": "Omni_Reports"},
        {"messageId": "{{Interaction.REST-2.messageId}}"},
    ]
    assert update["activity"]["metaData"]["isConfigured"] is True

    # What it saved is what Get Reports reads: nothing sent yet, so nothing is available.
    body = trip.execute_body("c-0001") | {"inArguments": in_arguments, "activityObjectID": "reports-1"}
    answer = await trip.post_jwt("reports/execute", body)
    assert answer.status_code == 200 and answer.json()["statusName"] == "NOT_AVAILABLE"

    # Reopened, it shows what was saved; saved again where Journey Builder does not say the activity's key,
    # it keeps the binding it had.
    jb.scenario["activity"] = update["activity"]
    viber = {"id": "act-viber", "name": "Viber follow-up", "type": "REST"}
    jb.scenario["interaction"]["activities"] = [viber | {"arguments": {"execute": {"url": ours}}}]
    await setup.open("reports")
    await expect(frame.locator("#message-activity option")).to_have_text(
        ["Choose a message activity…", "Viber follow-up"]
    )
    await expect(frame.locator("#message-activity")).to_have_value("act-viber")
    await expect(frame.locator("#data-extension")).to_have_value("Omni_Reports")
    await setup.page.evaluate("clickNext()")
    again = await jb.wait_update()
    assert again["activity"]["arguments"]["execute"]["inArguments"] == in_arguments


async def test_without_a_good_token_the_page_says_why_and_saves_nothing(setup: Setup) -> None:
    frame, jb = setup.frame, setup.jb
    jb.scenario["tokens"] = {"token": "legacy", "fuel2token": "not-a-token-sfmc-issued", "expires": 0}
    await setup.open()
    await expect(frame.locator("#status")).to_have_text(
        "This business unit's options could not be loaded: SFMC did not accept the Journey Builder token "
        "(HTTP 401): it may have expired; close and reopen the activity"
    )
    await setup.page.evaluate("clickNext()")
    await expect(frame.locator("#channel-error")).to_contain_text(
        "Nothing can be saved: this business unit's options could not be loaded"
    )
    await jb.flush(setup.page)
    assert jb.updates() == []
    setup.problems[:] = [p for p in setup.problems if "401" not in p]  # the refused fetch, as expected


async def test_the_page_talks_to_journey_builder_origins_only(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    trip, jb, page = setup.trip, setup.jb, setup.page
    # Only the parent window is listened to: a sibling frame of the same origin cannot click Next.
    jb.scenario["activity"] = saved_activity(jb.scenario["activity"], VIBER)
    await setup.open()
    await expect(setup.frame.locator("#status")).to_contain_text("Business unit 100000001")
    await page.evaluate("forge('clickedNext')")
    await page.evaluate("clickNext()")
    assert (await jb.wait_update())["seq"] == 1
    await jb.flush(page)
    assert len(jb.updates()) == 1
    # Opened by itself, not framed by Journey Builder: it says so and sends nothing.
    await page.goto(f"{trip.harness.url}/sfmc/{trip.mid}/message/index.html")
    await expect(page.locator("#status")).to_have_text(
        "This page configures a Journey Builder activity: open it from Journey Builder."
    )
    # Journey Builder's origins: any subdomain of SFMC's domains, over HTTPS, and nothing else.
    allowed = await page.evaluate(
        """() => ["https://jbinteractions.s50.marketingcloudapps.com", "https://mc.s7.exacttarget.com",
                  "https://marketingcloudapps.com", "http://mc.s7.exacttarget.com",
                  "https://exacttarget.com.evil.example", "https://evil-exacttarget.com"]
             .map((o) => JourneyBuilder.originAllowed(o, document.querySelector(
               'meta[name="jb-origins"]').content.split(" ")))"""
    )
    assert allowed == [True, True, False, False, False, False]
    # A page of another origin cannot even frame it: Chromium refuses (frame-ancestors), nothing is said.
    monkeypatch.setenv(ORIGINS_VARIABLE, "https://jb.example.org")
    events = len(jb.events())
    await page.goto(f"{jb.url}/host/message")
    await jb.flush(page)
    assert len(jb.events()) == events and len(jb.updates()) == 1
    setup.problems.clear()  # Chromium's console note about the refused frame
