"""The agents' WhatsApp template panel in a real (headless) Chromium, as Service Cloud's iframe opens it
(`...?id=<MessagingSession id>`): the session's recipient prefilled, a sender chosen, the approved
templates listed and searched, a template filled with a live preview, a payload that is too long refused
beside its field, and a send that the engine's simulator (the org's Infobip account) accepts, followed to
its delivery on the status line. Also: an org without senders, a server-side problem shown beside its
field, and the page framed only by the origins allowed to frame it."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from channel_engine.testing.servers import serve_app
from channel_engine_servicecloud.panel import FRAME_ANCESTORS_VARIABLE, NO_SENDER
from channel_engine_servicecloud.testing.panel import (
    END_USER,
    SESSION,
    ServedPanel,
    panel_on_loopback,
)

SENDER = "441134960000"
WAIT = 10_000  # ms: how long a page condition may take to hold


@contextlib.asynccontextmanager
async def running(tmp_path: Path, senders: list[str]) -> AsyncIterator[ServedPanel]:
    """An engine whose simulator is the org's Infobip account, and the panel's routes on loopback."""
    async with panel_on_loopback(tmp_path, senders, session_sender=SENDER) as panel:
        yield panel


@contextlib.asynccontextmanager
async def opened(browser: Any, url: str, refusals: frozenset[str] = frozenset()) -> AsyncIterator[Page]:
    """The page in a 360-pixel-wide context; on leaving, no script error happened and no request failed
    but those the test expects (`refusals`: "400 api/send"...). Chromium's bare 'Failed to load resource'
    lines are left to the response check, which names the URL."""
    context = await browser.new_context(viewport={"width": 360, "height": 900})
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console error: {message.text}")

    def response(answer: Any) -> None:
        if answer.status >= 400:
            where = answer.url.split("?")[0].rsplit("/", 2)
            name = f"{answer.status} {where[-2]}/{where[-1]}"
            if name not in refusals:
                problems.append(f"{name}: {answer.url}")

    page.on("console", console)
    page.on("response", response)
    try:
        await page.goto(url)
        yield page
        assert problems == []
    finally:
        await context.close()


def template_buttons(page: Page) -> Any:
    return page.locator("#templates .template .name")


async def test_an_agent_fills_and_sends_a_template_from_the_session(tmp_path: Path, browser: Any) -> None:
    async with (
        running(tmp_path, [SENDER, "441134960001"]) as panel,
        opened(browser, f"{panel.page}?id={SESSION}") as page,
    ):
        await expect(page.get_by_label("Recipient")).to_have_value(END_USER, timeout=WAIT)
        await expect(page.get_by_label("Search templates")).to_be_disabled()
        await expect(template_buttons(page)).to_have_count(0)  # nothing loads before a sender is chosen

        await page.get_by_label("Select sender").select_option(SENDER)
        names = template_buttons(page)
        await expect(names.first).to_be_visible(timeout=WAIT)
        listed = await names.all_text_contents()
        assert {"spring_sale", "order_shipped", "verification_code"} <= set(listed)
        assert not {"winter_clearance", "final_notice"} & set(listed)  # pending and rejected are hidden

        search = page.get_by_label("Search templates")
        await search.fill("AUTHENTICATION")
        await expect(names).to_have_text(["verification_code"], timeout=WAIT)
        await search.fill("spring")
        await expect(names).to_have_text(["spring_sale"], timeout=WAIT)

        await page.get_by_role("button", name=re.compile("spring_sale")).click()
        await expect(page.locator("#form")).to_be_visible()
        await page.get_by_label("Header media URL (image)").fill("https://cdn.example.com/spring.jpg")
        await page.get_by_label("Body placeholder {{1}}").fill("Ana")
        await page.get_by_label("Body placeholder {{2}}").fill("20%")
        preview = page.locator("#preview")
        await expect(preview).to_contain_text(
            "Hi Ana, our spring sale is on: 20% off everything until Sunday."
        )
        await expect(preview).to_contain_text("https://cdn.example.com/spring.jpg")
        await expect(preview).to_contain_text("Reply STOP to opt out")
        await expect(preview).to_contain_text("Stop promotions")

        await page.get_by_label("Quick reply “Show me deals” payload").fill("deals-2025")
        stop = page.get_by_label("Quick reply “Stop promotions” payload")
        await stop.fill("x" * 129)
        error = page.locator(f"#{await stop.get_attribute('id')}-error")
        await expect(error).to_have_text(
            "A quick-reply payload has at most 128 characters (this one has 129)."
        )
        await expect(stop).to_have_attribute("aria-invalid", "true")
        await expect(page.locator(".counter.over")).to_have_text("129/128")
        await page.get_by_role("button", name="Send").click()
        await expect(error).to_be_visible()
        await expect(page.get_by_role("status")).to_have_text("")  # refused in the page: no "Sending…"
        assert panel.requests == []

        await stop.fill("stop-promos")
        await expect(error).to_be_hidden()
        await page.get_by_role("button", name="Send").click()
        status = page.get_by_role("status")
        await expect(status).to_have_text(re.compile(r"^Message \S+: (queued|sent|delivered)$"), timeout=WAIT)
        message_id = (await status.text_content() or "").split(" ")[1].rstrip(":")
        await expect(status).to_have_text(f"Message {message_id}: delivered", timeout=WAIT)

    assert panel.harness.simulator.accepted[message_id].to == END_USER
    assert panel.entry(message_id)["content"] == {
        "templateName": "spring_sale",
        "language": "en",
        "templateData": {
            "body": {"placeholders": ["Ana", "20%"]},
            "header": {"type": "IMAGE", "mediaUrl": "https://cdn.example.com/spring.jpg"},
            "buttons": [
                {"type": "QUICK_REPLY", "parameter": "deals-2025"},
                {"type": "QUICK_REPLY", "parameter": "stop-promos"},
            ],
        },
    }


async def test_a_problem_the_engine_finds_is_shown_beside_its_field(tmp_path: Path, browser: Any) -> None:
    async with (
        running(tmp_path, [SENDER]) as panel,
        opened(browser, panel.page, frozenset({"400 api/send"})) as page,
    ):
        await expect(page.get_by_label("Recipient")).to_have_value("")  # no session: the agent types it
        await page.get_by_label("Select sender").select_option(SENDER)
        await page.get_by_role("button", name=re.compile("invoice_ready")).click()
        await page.get_by_label("Recipient").fill(END_USER)
        await page.get_by_label("Header media URL (document)").fill("ftp://files.example.com/inv.pdf")
        for i, value in enumerate(["Ana", "881", "March"], start=1):
            await page.get_by_label(f"Body placeholder {{{{{i}}}}}").fill(value)
        await page.get_by_role("button", name="Send").click()
        filename = page.get_by_label("Filename")
        filename_error = page.locator(f"#{await filename.get_attribute('id')}-error")
        await expect(filename_error).to_have_text(re.compile("name the document's file"), timeout=WAIT)
        await expect(filename).to_be_focused()
        await filename.fill("invoice-881.pdf")
        await page.get_by_role("button", name="Send").click()
        media = page.get_by_label("Header media URL (document)")
        media_error = page.locator(f"#{await media.get_attribute('id')}-error")
        await expect(media_error).to_contain_text("http", timeout=WAIT)  # the channel's own URL check
        await expect(media).to_have_attribute("aria-invalid", "true")
    assert panel.requests == []


async def test_an_org_without_senders_shows_why_and_disables_everything(tmp_path: Path, browser: Any) -> None:
    async with running(tmp_path, []) as panel, opened(browser, f"{panel.page}?id={SESSION}") as page:
        await expect(page.get_by_role("alert").first).to_have_text(NO_SENDER, timeout=WAIT)
        for label in ("Select sender", "Recipient", "Search templates"):
            await expect(page.get_by_label(label)).to_be_disabled()
        await expect(page.locator("#form")).to_be_hidden()
        await expect(template_buttons(page)).to_have_count(0)


FRAMING_PAGE = """<!doctype html><html><head><title>Messaging Session</title></head><body>
<iframe id="panel" title="WhatsApp templates" src="__SRC__" width="360" height="800"></iframe>
</body></html>"""


async def test_only_an_allowed_origin_may_frame_the_panel(
    tmp_path: Path, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(tmp_path, [SENDER]) as panel:
        src = f"{panel.page}?id={SESSION}"
        host = Starlette(routes=[Route("/", lambda _: HTMLResponse(FRAMING_PAGE.replace("__SRC__", src)))])
        async with serve_app(host) as lightning:  # another port: another origin
            context = await browser.new_context()
            try:
                page = await context.new_page()
                # Salesforce's domains by default, and this origin is not one of them. The main page's load
                # event waits for its frame, loaded or refused.
                await page.goto(lightning)
                await expect(page.locator("#panel")).to_be_attached()
                assert await page.frame_locator("#panel").get_by_label("Recipient").count() == 0
                assert [f.url for f in page.frames[1:]] == ["chrome-error://chromewebdata/"]  # refused

                monkeypatch.setenv(FRAME_ANCESTORS_VARIABLE, lightning)
                await page.reload()
                allowed = page.frame_locator("#panel")
                await expect(allowed.get_by_label("Recipient")).to_have_value(END_USER, timeout=WAIT)
            finally:
                await context.close()
