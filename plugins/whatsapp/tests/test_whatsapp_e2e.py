"""End to end over loopback HTTP: our API -> engine -> the built-in simulator (as Infobip's WhatsApp API) ->
WhatsApp-format reports back through the webhooks -> store -> the recording host. Every wait awaits an event,
never a sleep."""

from __future__ import annotations

from typing import Any

LINK = "https://bistro.example/booking/7781"


def whatsapp(destination: str, content: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "channel": "whatsapp",
        "destination": destination,
        "sender": "441134960000",
        "content": content
        or {"type": "TEMPLATE", "templateName": "table_ready", "language": "en_GB", "placeholders": ["Ana"]},
        "host": {"name": "recorder", "context": {"journey": "j-1"}},
    }
    message.update(extra)
    return message


async def test_a_template_is_delivered_and_its_report_reaches_the_host(engine_harness):
    h = engine_harness
    mid = await h.send(whatsapp("41793026000", options={"callbackData": "guest=7781"}))
    report = await h.recorder.wait_final(mid)
    assert (report.kind, report.channel, report.status_name, report.to) == (
        "DELIVERY",
        "whatsapp",
        "DELIVERED_TO_HANDSET",
        "41793026000",
    )
    assert report.raw["contact"]["phoneNumber"] == "41793026000"  # WhatsApp's own report shape
    assert "callbackData" not in report.raw  # WhatsApp reports lack it; the messageId found the message
    assert report.callback_data == "guest=7781"  # the engine fills it in from the stored message
    view = await h.view(mid)
    assert view["state"] == "DELIVERED"
    assert [e["event"] for e in view["timeline"]] == ["ACCEPTED", "SENT", "DELIVERY"]
    assert h.simulator.accepted[mid].sender == "441134960000"


async def test_a_free_form_text_is_delivered(engine_harness):
    h = engine_harness
    mid = await h.send(whatsapp("41793026001", {"type": "TEXT", "text": "Your table is ready."}))
    report = await h.recorder.wait_final(mid)
    assert report.status_name == "DELIVERED_TO_HANDSET"
    assert h.simulator.accepted[mid].text == "Your table is ready."
    assert (await h.view(mid))["state"] == "DELIVERED"


async def test_a_seen_report_follows_delivery(engine_harness):
    h = engine_harness
    mid = await h.send(whatsapp("41793026990"))
    seen = await h.recorder.wait_for(lambda r: r.kind == "SEEN" and r.message_id == mid)
    assert (seen.to, seen.sender, seen.status_name) == ("41793026990", "441134960000", None)
    assert seen.seen_at
    await h.recorder.wait_final(mid)
    assert (await h.view(mid))["state"] == "DELIVERED"  # a seen report changes no state


async def test_an_inbound_reply_reaches_the_host(engine_harness):
    h = engine_harness
    mid = await h.send(whatsapp("41793026998"))
    reply = await h.recorder.wait_for(lambda r: r.kind == "INBOUND")
    assert (reply.channel, reply.sender, reply.text, reply.to) == (
        "whatsapp",
        "41793026998",
        "STOP",
        "441134960000",
    )
    assert reply.paired_message_id == mid
    assert reply.raw["integrationType"] == "WHATSAPP"


async def test_an_undeliverable_message_reports_its_error(engine_harness):
    h = engine_harness
    mid = await h.send(whatsapp("41793026991"))
    report = await h.recorder.wait_final(mid)
    assert (report.status_group, report.status_name) == ("UNDELIVERABLE", "UNDELIVERABLE_NOT_DELIVERED")
    assert (report.error_name, report.error_permanent) == ("EC_UNKNOWN_SUBSCRIBER", True)
    assert (await h.view(mid))["state"] == "UNDELIVERABLE"


async def test_only_body_links_are_clicked(engine_harness):
    h = engine_harness
    content = {
        "type": "TEMPLATE",
        "templateName": "table_ready",
        "language": "en_GB",
        "header": {"type": "TEXT", "placeholder": "https://bistro.example/header"},
        "placeholders": ["Ana", LINK],
        "buttons": [{"type": "URL", "parameter": "booking/7781"}],
    }
    mid = await h.send(
        whatsapp("41793026997", content, options={"urlOptions": {}, "callbackData": "guest=7781"})
    )
    click = await h.recorder.wait_for(lambda r: r.kind == "CLICK" and r.message_id == mid)
    assert (click.url, click.channel, click.callback_data) == (LINK, "whatsapp", "guest=7781")
    await h.simulator.wait_reported([mid])
    clicks = [r for r in h.recorder.reports if r.kind == "CLICK"]
    assert [r.url for r in clicks] == [LINK]  # the header's URL is not tracked
    assert LINK not in h.simulator.delivered_text[mid]  # the body's link went out shortened


async def test_a_refused_message_names_the_seed_status(engine_harness):
    h = engine_harness
    content = {"type": "TEMPLATE", "templateName": "Table Ready", "language": "en_GB"}
    response = await h.http.post("/v1/messages", json=whatsapp("41793026002", content))
    assert response.status_code == 400
    (found,) = response.json()["problems"]
    assert (found["path"], found["status"]) == ("$.content.templateName", "Error: Invalid template name")
