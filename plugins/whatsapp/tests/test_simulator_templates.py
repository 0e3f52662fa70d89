"""The simulator's template list and sender quality APIs, over real HTTP: their answers conform to
whatsapp.json, the catalog has every template shape a host must fill (and some it must hide), and each
approved template, sent as our TEMPLATE message, passes the channel's own validation and builds a request
that conforms to the template endpoint's schema."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest

from channel_engine import OutboundMessage, WebhookUrls
from channel_engine.plugins import get_plugin_manager
from channel_engine.simulator import simulator_from_plugins
from channel_engine.testing.conformance import check_request, check_response
from channel_engine.testing.servers import serve_app
from channel_engine_whatsapp.payload import build_requests
from channel_engine_whatsapp.simulator_templates import QUALITY_PATH, TEMPLATES_PATH
from channel_engine_whatsapp.validation import validate

KEY = "simulator-templates-key"
SENDER = "441134960000"
PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")
WEBHOOKS = WebhookUrls(
    reports="https://engine.example.net/r", clicks="https://engine.example.net/c", inbound="https://e/i"
)


@pytest.fixture
async def infobip() -> AsyncIterator[httpx.AsyncClient]:
    """The simulator the installed plugins make, served on loopback, with a client that has its key."""
    simulator = simulator_from_plugins(get_plugin_manager(), api_keys={KEY})
    async with (
        serve_app(simulator.app) as url,
        httpx.AsyncClient(base_url=url, headers={"Authorization": f"App {KEY}"}) as http,
    ):
        yield http


async def templates_of(http: httpx.AsyncClient, sender: str = SENDER) -> list[dict[str, Any]]:
    response = await http.get(TEMPLATES_PATH.format(sender=sender))
    assert response.status_code == 200, response.text
    return list(response.json()["templates"])


# -- the template list ------------------------------------------------------------------------------------


async def test_the_template_list_conforms_to_the_spec(infobip: httpx.AsyncClient) -> None:
    response = await infobip.get(TEMPLATES_PATH.format(sender=SENDER))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert check_response("whatsapp", TEMPLATES_PATH, 200, response.json(), method="get") == []


async def test_the_template_list_needs_the_api_key(infobip: httpx.AsyncClient) -> None:
    response = await infobip.get(TEMPLATES_PATH.format(sender=SENDER), headers={"Authorization": "App wrong"})
    assert response.status_code == 401
    assert response.json()["errorCode"] == "E401"


async def test_every_sender_has_the_same_catalog(infobip: httpx.AsyncClient) -> None:
    assert await templates_of(infobip, "447860099299") == await templates_of(infobip, SENDER)


async def test_the_catalog_has_every_shape_a_host_must_fill(infobip: httpx.AsyncClient) -> None:
    templates = await templates_of(infobip)
    approved = [t for t in templates if t["status"] == "APPROVED"]
    headers = {t["structure"]["header"]["format"] for t in approved if "header" in t["structure"]}
    assert headers == {"TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION"}
    text_headers = [t["structure"]["header"].get("text", "") for t in approved if "header" in t["structure"]]
    assert any(PLACEHOLDER.search(text) for text in text_headers)
    buttons = [b for t in approved for b in t["structure"].get("buttons", [])]
    urls = [b["url"] for b in buttons if b["type"] == "URL"]
    assert any(url.endswith("{{1}}") for url in urls), "a dynamic URL button"
    assert any("{{" not in url for url in urls), "a static URL button"
    assert {"QUICK_REPLY", "COPY_CODE", "PHONE_NUMBER"} <= {b["type"] for b in buttons}
    assert {t["category"] for t in approved} == {"MARKETING", "UTILITY", "AUTHENTICATION"}
    assert len({t["language"] for t in approved}) >= 2
    # One name in two languages: a host tells templates apart by name and language.
    pairs = [(t["name"], t["language"]) for t in templates]
    assert len(set(pairs)) == len(pairs) > len({t["name"] for t in templates})
    assert {t["status"] for t in templates} == {"APPROVED", "PENDING", "REJECTED"}


def as_message(template: dict[str, Any]) -> OutboundMessage:
    """The template as our TEMPLATE message, filled as an agent would fill it."""
    structure = template["structure"]
    count = max((int(n) for n in PLACEHOLDER.findall(structure["body"]["text"])), default=0)
    content: dict[str, Any] = {
        "type": "TEMPLATE",
        "templateName": template["name"],
        "language": template["language"],
        "placeholders": [f"value {i}" for i in range(1, count + 1)],
    }
    header = structure.get("header")
    if header is not None:
        kind = header["format"]
        if kind == "TEXT" and PLACEHOLDER.search(header["text"]):
            content["header"] = {"type": "TEXT", "placeholder": "A-1042"}
        elif kind in ("IMAGE", "VIDEO", "DOCUMENT"):
            content["header"] = {"type": kind, "mediaUrl": f"https://cdn.example.com/{kind.lower()}"}
            if kind == "DOCUMENT":
                content["header"]["filename"] = "invoice.pdf"
        elif kind == "LOCATION":
            content["header"] = {"type": "LOCATION", "latitude": 51.5072, "longitude": -0.1276}
    buttons = []
    for button in structure.get("buttons", []):
        if button["type"] == "QUICK_REPLY":
            buttons.append({"type": "QUICK_REPLY", "parameter": f"reply-{button['text']}"})
        elif button["type"] == "COPY_CODE":
            buttons.append({"type": "COPY_CODE", "parameter": "SPRING15"})
        elif button["type"] == "URL" and PLACEHOLDER.search(button["url"]):
            buttons.append({"type": "URL", "parameter": "A-1042"})
    if buttons:
        content["buttons"] = buttons
    raw = {"channel": "whatsapp", "destination": "385981112233", "sender": SENDER, "content": content}
    return msgspec.convert({**raw, "id": f"sim-{template['id']}"}, OutboundMessage)


async def test_each_approved_template_passes_the_channels_validation(infobip: httpx.AsyncClient) -> None:
    approved = [t for t in await templates_of(infobip) if t["status"] == "APPROVED"]
    assert len(approved) >= 8
    for template in approved:
        message = as_message(template)
        assert validate(message) == [], template["name"]
        (request,) = build_requests("whatsapp", [message], WEBHOOKS)
        assert check_request("whatsapp", request.path, request.body) == [], template["name"]


# -- sender quality ---------------------------------------------------------------------------------------


async def test_sender_quality_conforms_and_flags_the_magic_numbers(infobip: httpx.AsyncClient) -> None:
    response = await infobip.get(QUALITY_PATH, params={"senders": f"{SENDER},447860000991,447860000992"})
    assert response.status_code == 200
    body = response.json()
    assert check_response("whatsapp", QUALITY_PATH, 200, body, method="get") == []
    status = {r["sender"]: r["status"] for r in body["results"]}
    assert status == {SENDER: "CONNECTED", "447860000991": "DISCONNECTED", "447860000992": "FLAGGED"}


async def test_sender_quality_takes_the_parameter_repeated(infobip: httpx.AsyncClient) -> None:
    response = await infobip.get(QUALITY_PATH, params=[("senders", SENDER), ("senders", "447860000991")])
    assert [r["sender"] for r in response.json()["results"]] == [SENDER, "447860000991"]


async def test_sender_quality_without_senders_is_infobips_bad_request(infobip: httpx.AsyncClient) -> None:
    response = await infobip.get(QUALITY_PATH)
    assert response.status_code == 400
    assert check_response("whatsapp", QUALITY_PATH, 400, response.json(), method="get") == []
    assert response.json()["requestError"]["serviceException"]["messageId"] == "BAD_REQUEST"


async def test_sender_quality_needs_the_api_key(infobip: httpx.AsyncClient) -> None:
    response = await infobip.get(QUALITY_PATH, params={"senders": SENDER}, headers={"Authorization": ""})
    assert response.status_code == 401
