"""The template panel's server side through real HTTP: a real engine whose built-in simulator is the org's
Infobip account, the panel's routes served in an app of their own over loopback (and once where the plugin
mounts them in the engine), and every send followed to the WhatsApp template request the simulator
accepted."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from channel_engine.testing.servers import serve_app
from channel_engine_servicecloud.config import WhatsAppAccount
from channel_engine_servicecloud.panel import FRAME_ANCESTORS_VARIABLE, NO_SENDER, panel_token
from channel_engine_servicecloud.templates_api import TemplatesUnavailable, approved_templates
from channel_engine_servicecloud.testing.panel import (
    END_USER,
    ORG_ID,
    SESSION,
    ServedPanel,
    panel_on_loopback,
)

OTHER_ORG = "00D5g000009QwErEAK"
SENDERS = ["+441134960000", "441134960001"]
SPRING_SALE = {
    "sender": "441134960000",
    "to": "+385 98 111 2233",
    "templateName": "spring_sale",
    "language": "en",
    "header": {"mediaUrl": "https://cdn.example.com/spring.jpg"},
    "placeholders": ["Ana", "20%"],
    "buttons": ["deals-2025", "stop-promos"],
    "sessionId": SESSION,
}


@dataclass
class Panel(ServedPanel):
    http: httpx.AsyncClient = field(kw_only=True)  # at the panel's base: /servicecloud/{orgId}/panel/{token}

    async def send(self, **changes: Any) -> httpx.Response:
        return await self.http.post("api/send", json={**SPRING_SALE, **changes})

    async def sent(self, **changes: Any) -> str:
        response = await self.send(**changes)
        assert response.status_code == 202, response.text
        return str(response.json()["messageId"])


@contextlib.asynccontextmanager
async def running(
    tmp_path: Path, senders: list[str] = SENDERS, api_key: str | None = None
) -> AsyncIterator[Panel]:
    async with (
        panel_on_loopback(tmp_path, senders, session_sender="441134960001", api_key=api_key) as served,
        httpx.AsyncClient(base_url=served.base) as http,
    ):
        yield Panel(**vars(served), http=http)


@pytest.fixture
async def panel(tmp_path: Path) -> AsyncIterator[Panel]:
    async with running(tmp_path) as p:
        yield p


# -- the page and its capability URL -----------------------------------------------------------------------


async def test_the_page_is_served_with_a_policy_that_lets_only_salesforce_frame_it(panel: Panel) -> None:
    response = await panel.http.get("templates", params={"id": SESSION})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    ancestors = policy.split("frame-ancestors ")[1].split(";")[0].split()
    assert ancestors == [
        "https://*.force.com",
        "https://*.salesforce.com",
        "https://*.lightning.force.com",
        "'self'",
    ]
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy
    assert response.headers["referrer-policy"] == "no-referrer"
    # No inline script: every <script> has a src, and no element carries an on... handler.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", response.text) == []
    assert not re.search(r"\son[a-z]+\s*=", response.text)
    for asset, kind in (("ui/panel.js", "text/javascript"), ("ui/panel.css", "text/css")):
        served = await panel.http.get(asset)
        assert served.status_code == 200 and served.headers["content-type"].startswith(kind)
        assert asset.split("/")[1] in response.text


async def test_the_frame_ancestors_can_be_configured(panel: Panel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FRAME_ANCESTORS_VARIABLE, "https://acme.lightning.force.com, https://panel.test:8443")
    response = await panel.http.get("templates")
    policy = response.headers["content-security-policy"]
    assert policy.endswith("frame-ancestors https://acme.lightning.force.com https://panel.test:8443")


async def test_a_wrong_token_or_an_unknown_org_is_a_bare_404(panel: Panel) -> None:
    services = panel.harness.engine.services
    token = panel_token(services, ORG_ID)
    assert token != panel_token(services, OTHER_ORG)
    root = f"{panel.app_url}/servicecloud"
    answers = [
        await panel.http.get(f"{root}/{ORG_ID}/panel/{token[:-1]}x/templates"),
        await panel.http.get(f"{root}/{ORG_ID}/panel/{token[:-1]}x/api/context"),
        await panel.http.get(f"{root}/{ORG_ID}/panel/{token[:-1]}x/ui/panel.js"),
        await panel.http.post(f"{root}/{ORG_ID}/panel/{token[:-1]}x/api/send", json=SPRING_SALE),
        # The right token of an org that is not configured.
        await panel.http.get(f"{root}/{OTHER_ORG}/panel/{panel_token(services, OTHER_ORG)}/templates"),
        # Another org's token.
        await panel.http.get(f"{root}/{ORG_ID}/panel/{panel_token(services, OTHER_ORG)}/templates"),
    ]
    assert [(a.status_code, a.text) for a in answers] == [(404, "Not Found")] * len(answers)
    assert panel.requests == []


# -- context and templates ---------------------------------------------------------------------------------


async def test_the_context_names_the_sessions_recipient_and_every_sender(panel: Panel) -> None:
    response = await panel.http.get("api/context", params={"id": SESSION})
    assert response.json() == {
        "orgId": ORG_ID,
        "senders": ["441134960000", "441134960001"],
        "recipient": END_USER,
        "sender": "441134960001",
        "sessionId": SESSION,
    }
    # Salesforce shows the 15-character id as well.
    short = await panel.http.get("api/context", params={"id": SESSION[:15]})
    assert short.json()["recipient"] == END_USER


async def test_without_a_known_session_the_agent_types_the_recipient(panel: Panel) -> None:
    unknown = (await panel.http.get("api/context", params={"id": "0Mw5g000000ZzZzCAE"})).json()
    assert (unknown["recipient"], unknown["sender"]) == (None, None)
    bare = (await panel.http.get("api/context")).json()
    assert (bare["recipient"], bare["sessionId"]) == (None, None)
    assert bare["senders"] == ["441134960000", "441134960001"]


async def test_templates_are_the_senders_approved_ones(panel: Panel) -> None:
    response = await panel.http.get("api/templates", params={"sender": "441134960000"})
    assert response.status_code == 200
    templates = response.json()["templates"]
    names = [(t["name"], t["language"]) for t in templates]
    assert ("spring_sale", "en") in names and ("order_shipped", "es") in names
    assert not {"winter_clearance", "final_notice"} & {name for name, _ in names}  # pending, rejected
    spring = next(t for t in templates if t["name"] == "spring_sale")
    assert spring == {
        "name": "spring_sale",
        "language": "en",
        "category": "MARKETING",
        "body": "Hi {{1}}, our spring sale is on: {{2}} off everything until Sunday.",
        "bodyPlaceholders": 2,
        "header": {"format": "IMAGE"},
        "footer": "Reply STOP to opt out",
        "buttons": [
            {"type": "QUICK_REPLY", "text": "Show me deals", "takesParameter": True},
            {"type": "QUICK_REPLY", "text": "Stop promotions", "takesParameter": True},
        ],
    }
    shipped = next(t for t in templates if (t["name"], t["language"]) == ("order_shipped", "en_GB"))
    assert shipped["header"] == {"format": "TEXT", "text": "Order {{1}} is on its way", "placeholders": 1}
    assert [(b["type"], b.get("takesParameter", False)) for b in shipped["buttons"]] == [
        ("URL", True),
        ("URL", False),
    ]


async def test_search_matches_name_or_category_whatever_the_case(panel: Panel) -> None:
    async def names(search: str) -> set[str]:
        response = await panel.http.get("api/templates", params={"sender": "441134960000", "search": search})
        return {t["name"] for t in response.json()["templates"]}

    assert await names("ORDER_SH") == {"order_shipped"}
    assert await names("authentication") == {"verification_code"}
    assert await names("Marketing") == {
        "spring_sale",
        "new_collection_video",
        "loyalty_coupon",
        "welcome_message",
    }
    assert await names("nothing like it") == set()


async def test_a_sender_that_is_not_the_orgs_is_refused_naming_sender(panel: Panel) -> None:
    response = await panel.http.get("api/templates", params={"sender": "447860099299"})
    assert response.status_code == 400
    (found,) = response.json()["problems"]
    assert found["path"] == "sender"
    assert "447860099299" in found["message"] and "441134960000" in found["message"]


async def test_an_org_without_senders_says_so(tmp_path: Path) -> None:
    async with running(tmp_path, senders=[]) as panel:
        context = (await panel.http.get("api/context", params={"id": SESSION})).json()
        assert context["senders"] == []
        assert context["problem"] == NO_SENDER
        listed = await panel.http.get("api/templates", params={"sender": "441134960000"})
        assert listed.status_code == 400
        assert listed.json()["problems"][0]["message"] == NO_SENDER
        sent = await panel.send()
        assert sent.status_code == 400
        assert sent.json()["problems"] == [{"path": "$.sender", "message": NO_SENDER}]


# -- sending -----------------------------------------------------------------------------------------------


async def test_a_send_becomes_exactly_the_whatsapp_template_request(panel: Panel) -> None:
    message_id = await panel.sent()
    await panel.harness.simulator.wait_accepted(1)
    entry = panel.entry(message_id)
    assert entry["from"] == "441134960000"
    assert entry["to"] == END_USER
    assert entry["content"] == {
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
    view = await panel.harness.engine.services.message(message_id)
    assert view is not None and view.host is not None
    assert (view.host.name, view.host.context) == (
        "servicecloud",
        {"orgId": ORG_ID, "endUser": END_USER, "source": "template-panel", "sessionId": SESSION},
    )
    assert panel.harness.simulator.accepted[message_id].sender == "441134960000"


async def test_a_text_header_and_a_dynamic_url_button_are_filled_the_static_one_is_not(panel: Panel) -> None:
    message_id = await panel.sent(
        templateName="order_shipped",
        language="en_GB",
        header={"text": "A-1042"},
        placeholders=["Ana", "A-1042", "Friday"],
        buttons=["A-1042"],
    )
    await panel.harness.simulator.wait_accepted(1)
    assert panel.entry(message_id)["content"]["templateData"] == {
        "body": {"placeholders": ["Ana", "A-1042", "Friday"]},
        "header": {"type": "TEXT", "placeholder": "A-1042"},
        "buttons": [{"type": "URL", "parameter": "A-1042"}],
    }


async def test_a_document_header_and_a_location_header(panel: Panel) -> None:
    invoice = await panel.sent(
        templateName="invoice_ready",
        language="en_GB",
        header={"mediaUrl": "https://cdn.example.com/inv/881.pdf", "filename": "invoice-881.pdf"},
        placeholders=["Ana", "881", "March"],
        buttons=[],
    )
    pickup = await panel.sent(
        templateName="store_directions",
        header={"latitude": 51.5072, "longitude": -0.1276},
        placeholders=["Covent Garden"],
        buttons=[],
    )
    await panel.harness.simulator.wait_accepted(2)
    assert panel.entry(invoice)["content"]["templateData"]["header"] == {
        "type": "DOCUMENT",
        "mediaUrl": "https://cdn.example.com/inv/881.pdf",
        "filename": "invoice-881.pdf",
    }
    assert panel.entry(pickup)["content"]["templateData"]["header"] == {
        "type": "LOCATION",
        "latitude": 51.5072,
        "longitude": -0.1276,
    }


async def test_what_the_template_needs_is_checked_field_by_field(panel: Panel) -> None:
    response = await panel.send(
        to="",
        templateName="invoice_ready",
        language="en_GB",
        header={"mediaUrl": " "},
        placeholders=["Ana", ""],
        buttons=["extra"],
    )
    assert response.status_code == 400
    paths = [p["path"] for p in response.json()["problems"]]
    assert paths == [
        "$.to",
        "$.header.mediaUrl",
        "$.header.filename",
        "$.placeholders[1]",
        "$.placeholders[2]",
        "$.buttons",
    ]
    assert panel.requests == []


async def test_a_quick_reply_payload_over_128_characters_is_refused(panel: Panel) -> None:
    response = await panel.send(buttons=["deals", "x" * 129])
    assert response.status_code == 400
    assert response.json()["problems"] == [
        {
            "path": "$.buttons[1]",
            "message": "a quick-reply payload has at most 128 characters (this one has 129)",
        }
    ]
    accepted = await panel.send(buttons=["deals", "x" * 128])
    assert accepted.status_code == 202
    await panel.harness.simulator.wait_accepted(1)
    assert len(panel.requests) == 1


async def test_the_channels_own_problems_come_back_on_the_forms_fields(panel: Panel) -> None:
    response = await panel.send(to="12ab", header={"mediaUrl": "ftp://cdn.example.com/a.jpg"})
    assert response.status_code == 400
    problems = response.json()["problems"]
    assert {p["path"] for p in problems} == {"$.to", "$.header.mediaUrl"}
    assert all(p["message"] for p in problems)
    assert panel.requests == []


async def test_an_unknown_template_or_sender_is_refused_on_its_field(panel: Panel) -> None:
    unknown = await panel.send(templateName="spring_sale", language="de")
    assert [p["path"] for p in unknown.json()["problems"]] == ["$.templateName"]
    pending = await panel.send(templateName="winter_clearance")
    assert [p["path"] for p in pending.json()["problems"]] == ["$.templateName"]
    stranger = await panel.send(sender="447860099299")
    assert [p["path"] for p in stranger.json()["problems"]] == ["$.sender"]
    typo = await panel.send(placeholder=["Ana"])
    assert typo.status_code == 400 and "placeholder" in typo.json()["error"]
    assert panel.requests == []


async def test_the_same_request_id_twice_is_one_message(panel: Panel) -> None:
    first = await panel.sent(requestId="form-7f3a")
    again = await panel.sent(requestId="form-7f3a")
    other = await panel.sent(requestId="form-8b4c")
    assert first == again != other
    await panel.harness.simulator.wait_accepted(2)
    assert sorted(m["messageId"] for r in panel.requests for m in r["messages"]) == sorted([first, other])


async def test_the_status_of_a_sent_message(panel: Panel) -> None:
    message_id = await panel.sent()
    await panel.harness.simulator.wait_accepted(1)
    await panel.harness.simulator.wait_reported([message_id])
    status = (await panel.http.get(f"api/messages/{message_id}")).json()
    assert status["messageId"] == message_id
    assert (status["state"], status["text"], status["final"]) == ("DELIVERED", "delivered", True)


async def test_a_failed_message_says_why(panel: Panel) -> None:
    message_id = await panel.sent(to="385981112991")  # the simulator's undeliverable destination
    await panel.harness.simulator.wait_accepted(1)
    await panel.harness.simulator.wait_reported([message_id])
    status = (await panel.http.get(f"api/messages/{message_id}")).json()
    assert (status["state"], status["final"]) == ("UNDELIVERABLE", True)
    assert status["text"].startswith("failed: ") and len(status["text"]) > len("failed: ")


async def test_only_the_orgs_panel_messages_can_be_looked_up(panel: Panel) -> None:
    other = await panel.harness.send(
        {
            "channel": "whatsapp",
            "destination": END_USER,
            "sender": "441134960000",
            "content": {"type": "TEMPLATE", "templateName": "welcome_message", "language": "de",
                        "placeholders": ["Ana"]},
        }
    )  # fmt: skip
    assert (await panel.http.get(f"api/messages/{other}")).status_code == 404
    assert (await panel.http.get("api/messages/no-such-message")).status_code == 404


# -- Infobip's refusals -----------------------------------------------------------------------------------


async def test_a_refused_api_key_is_a_sentence_naming_the_account(tmp_path: Path) -> None:
    async with running(tmp_path, api_key="not-the-simulators-key") as panel:
        response = await panel.http.get("api/templates", params={"sender": "441134960000"})
    assert response.status_code == 502
    error = response.json()["error"]
    assert "account main" in error and "HTTP 401" in error
    assert "not-the-simulators-key" not in error


async def test_an_unreachable_infobip_is_a_sentence_naming_the_account() -> None:
    async with serve_app(Starlette()) as url:
        gone = url  # nothing listens there once the server stops
    account = WhatsAppAccount(name="backup", api_key="k-123", base_url=gone, senders=["441134960000"])
    async with httpx.AsyncClient() as http:
        with pytest.raises(TemplatesUnavailable) as caught:
            await approved_templates(http, account, "441134960000")
    assert "account backup" in caught.value.message and "k-123" not in caught.value.message


async def test_templates_the_engine_cannot_fill_are_left_out() -> None:
    def template(name: str, structure: dict[str, Any], status: str = "APPROVED") -> dict[str, Any]:
        return {"name": name, "language": "en", "status": status, "category": "MARKETING",
                "structure": {"body": {"text": "Hi {{1}}"}, **structure}}  # fmt: skip

    listed = [
        template("gif_header", {"header": {"format": "GIF"}}),
        template("with_flow", {"buttons": [{"type": "FLOW", "text": "Book", "flowId": "1"}]}),
        template("carousel", {"carousel": {"cards": []}}),
        template("plain", {"footer": {"text": ""}, "buttons": [{"type": "PHONE_NUMBER", "text": "Call",
                                                               "phoneNumber": "+441134960000"}]}),
        template("paused", {}, status="FIRST_PAUSED"),
    ]  # fmt: skip
    seen: list[str] = []

    async def templates(request: Request) -> JSONResponse:
        seen.append(request.headers["authorization"])
        return JSONResponse({"templates": listed})

    app = Starlette(routes=[Route("/whatsapp/2/senders/{sender}/templates", templates)])
    async with serve_app(app) as url, httpx.AsyncClient() as http:
        account = WhatsAppAccount(name="main", api_key="k-123", base_url=url + "/", senders=[])
        found = await approved_templates(http, account, "+441134960000")
    assert seen == ["App k-123"]
    assert [t.name for t in found] == ["plain"]
    assert found[0].footer is None
    assert found[0].buttons[0].phone_number == "+441134960000"
    assert found[0].body_placeholders == 1


# -- mounted by the plugin ---------------------------------------------------------------------------------


async def test_the_engine_serves_the_panel_under_servicecloud(panel: Panel) -> None:
    token = panel_token(panel.harness.engine.services, ORG_ID)
    async with httpx.AsyncClient(
        base_url=f"{panel.harness.url}/servicecloud/{ORG_ID}/panel/{token}/"
    ) as http:
        page = await http.get("templates", params={"id": SESSION})
        assert page.status_code == 200 and "frame-ancestors" in page.headers["content-security-policy"]
        context = await http.get("api/context", params={"id": SESSION})
        assert context.json()["recipient"] == END_USER
        sent = await http.post("api/send", json=SPRING_SALE)
        assert sent.status_code == 202, sent.text
        wrong = await http.get(f"{panel.harness.url}/servicecloud/{ORG_ID}/panel/{token[::-1]}/templates")
        assert wrong.status_code == 404
    await panel.harness.simulator.wait_accepted(1)
    assert panel.entry(sent.json()["messageId"])["content"]["templateName"] == "spring_sale"
