"""End to end over loopback HTTP: our API -> engine -> the built-in simulator (as Infobip's /mms/2/messages)
-> MMS webhooks back to the engine -> our parser -> the recording host. Every wait awaits an event."""

from __future__ import annotations

from channel_engine.testing.harness import run_engine

LINK = "https://bistro.example.com/book/spring"


def mms(destination: str, **extra: object) -> dict:
    message = {
        "channel": "mms",
        "destination": destination,
        "sender": "14155550100",
        "content": {
            "title": "Spring menu",
            "segments": [
                {"type": "image", "url": "https://cdn.example.com/menus/spring.jpg"},
                {"type": "text", "text": f"Wild garlic soup is back. Book: {LINK}"},
            ],
        },
        "host": {"name": "recorder", "context": {"journey": "spring"}},
    }
    message.update(extra)
    return message


async def test_every_report_kind_reaches_the_host(tmp_path):
    async with run_engine(tmp_path) as h:
        delivered = await h.send(mms("14155550000", options={"callbackData": "contact=0031"}))
        undeliverable = await h.send(mms("14155550991"))
        clicked = await h.send(
            mms("14155550997", options={"urlOptions": {"shortenUrl": True, "trackClicks": True}})
        )
        replied = await h.send(mms("14155550998"))

        report = await h.recorder.wait_final(delivered)
        assert (report.kind, report.channel, report.status_name) == (
            "DELIVERY",
            "mms",
            "DELIVERED_TO_HANDSET",
        )
        assert (report.to, report.sender, report.callback_data) == (
            "14155550000",
            "14155550100",
            "contact=0031",
        )
        view = await h.view(delivered)
        assert (view["state"], view["statusName"], view["messageCount"]) == (
            "DELIVERED",
            "DELIVERED_TO_HANDSET",
            1,
        )
        assert [e["event"] for e in view["timeline"]] == ["ACCEPTED", "SENT", "DELIVERY"]

        failed = await h.recorder.wait_final(undeliverable)
        assert (failed.status_group, failed.status_name) == ("UNDELIVERABLE", "UNDELIVERABLE_NOT_DELIVERED")
        assert (failed.error_name, failed.error_permanent) == ("EC_UNKNOWN_SUBSCRIBER", True)
        assert (await h.view(undeliverable))["state"] == "UNDELIVERABLE"

        click = await h.recorder.wait_for(lambda r: r.kind == "CLICK" and r.message_id == clicked)
        assert (click.channel, click.url, click.to) == ("mms", LINK, "14155550997")
        # The simulator shortened the link in the text segment, as Infobip does with shortenUrl on.
        assert LINK not in h.simulator.delivered_text[clicked]

        reply = await h.recorder.wait_for(lambda r: r.kind == "INBOUND")
        assert (reply.channel, reply.sender, reply.text) == ("mms", "14155550998", "STOP")
        assert reply.to == "14155550100"
        assert reply.paired_message_id == replied

        # The simulator checked every request against its endpoint and accepted all four.
        await h.simulator.wait_reported([delivered, undeliverable, clicked, replied])
        assert set(h.simulator.accepted) >= {delivered, undeliverable, clicked, replied}


async def test_a_refused_mms_names_the_field_and_the_seed_status(tmp_path):
    async with run_engine(tmp_path) as h:
        missing = await h.http.post("/v1/messages", json=mms(""))
        assert missing.status_code == 400
        (problem,) = missing.json()["problems"]
        assert (problem["path"], problem["status"]) == (
            "$.destination",
            "Error: Missing phone number in request",
        )
        untitled = await h.http.post("/v1/messages", json=mms("14155550001", content={"title": "x" * 67}))
        assert untitled.status_code == 400
        assert [(p["code"], p["path"]) for p in untitled.json()["problems"]] == [
            ("invalid_title_length", "$.content.title"),
            ("missing_field", "$.content.segments"),
        ]
