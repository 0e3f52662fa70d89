"""End to end over loopback HTTP, for both Kakao channels: our API -> engine -> simulator (as Infobip, on
/kakao-alim/1/messages and /kakao-chingu/1/messages) -> reports back through the engine's webhooks and this
plugin's parser -> store -> the recording host. Every wait awaits an event, never a sleep."""

from __future__ import annotations

import pytest

from .conftest import CONTENT, SENDER_KEY

CHANNELS = ("kakao-alim", "kakao-chingu")


def kakao(channel: str, destination: str, **extra: object) -> dict:
    message = {
        "channel": channel,
        "destination": destination,
        "sender": SENDER_KEY,
        "content": dict(CONTENT[channel]),
        "host": {"name": "recorder", "context": {"journey": "j-kakao"}},
    }
    message.update(extra)
    return message


@pytest.mark.parametrize("channel", CHANNELS)
async def test_delivered_undeliverable_and_expired_reports_reach_the_host(engine_harness, channel):
    h = engine_harness
    expected = {
        "821012345000": ("DELIVERED", "DELIVERED_TO_HANDSET", "NO_ERROR", "DELIVERED"),
        "821012345991": (
            "UNDELIVERABLE",
            "UNDELIVERABLE_NOT_DELIVERED",
            "EC_UNKNOWN_SUBSCRIBER",
            "UNDELIVERABLE",
        ),
        "821012345993": ("EXPIRED", "EXPIRED_EXPIRED", "EC_ABSENT_SUBSCRIBER", "EXPIRED"),
    }
    sent = {
        to: await h.send(kakao(channel, to, options={"callbackData": f"row={to[-3:]}"})) for to in expected
    }
    for to, (group, name, error, state) in expected.items():
        report = await h.recorder.wait_final(sent[to])
        assert (report.kind, report.channel, report.to, report.sender) == (
            "DELIVERY",
            channel,
            to,
            SENDER_KEY,
        )
        assert (report.status_group, report.status_name, report.error_name) == (group, name, error)
        assert report.callback_data == f"row={to[-3:]}"
        assert report.price is not None and report.done_at
        view = await h.view(sent[to])
        assert (view["state"], view["channel"], view["statusName"]) == (state, channel, name)
        assert [e["event"] for e in view["timeline"]] == ["ACCEPTED", "SENT", "DELIVERY"]
    assert h.simulator.stats()["accepted"] == 3


async def test_an_intermediate_report_comes_first_and_a_reply_never_comes(engine_harness):
    h = engine_harness
    intermediate = await h.send(kakao("kakao-alim", "821012345999"))
    no_reply = await h.send(kakao("kakao-chingu", "821012345998"))
    await h.recorder.wait_final(intermediate)
    await h.recorder.wait_final(no_reply)
    await h.simulator.wait_reported()
    view = await h.view(intermediate)
    names = [e.get("statusName") for e in view["timeline"] if e["event"] == "DELIVERY"]
    assert names == ["DELIVERED_TO_OPERATOR", "DELIVERED_TO_HANDSET"]
    # AlimTalk and ChinguTalk have no inbound messages: the simulator sends none, nothing fails or drops.
    assert [r.kind for r in h.recorder.reports if r.kind == "INBOUND"] == []
    assert (h.simulator.reporter.failures, h.simulator.reporter.dropped) == (0, 0)


async def test_a_tracked_chingutalk_link_is_shortened_and_its_click_reaches_the_host(engine_harness):
    h = engine_harness
    link = "https://bistro-lipa.example/brunch"
    image = {"url": "https://cdn.bistro-lipa.example/brunch.jpg", "link": link}
    content = {"text": f"이번 주 브런치 {link}", "image": image}
    clicked = await h.send(
        kakao(
            "kakao-chingu", "821012345997", content=content, options={"urlOptions": {}, "callbackData": "c=1"}
        )
    )
    click = await h.recorder.wait_for(lambda r: r.kind == "CLICK" and r.message_id == clicked)
    assert (click.channel, click.url, click.to, click.callback_data) == (
        "kakao-chingu",
        "https://bistro-lipa.example/brunch",
        "821012345997",
        "c=1",
    )
    assert "https://bistro-lipa.example/brunch" not in h.simulator.delivered_text[clicked]
    assert (await h.recorder.wait_final(clicked)).status_name == "DELIVERED_TO_HANDSET"


async def test_intake_refuses_bad_kakao_messages_with_the_seed_texts(engine_harness):
    h = engine_harness
    long_url = "https://cdn.bistro-lipa.example/" + "a" * 250
    too_many = [{"type": "URL", "name": "메뉴", "urlMobile": "https://m.bistro-lipa.example"}] * 6
    batch = await h.http.post(
        "/v1/messages",
        json={
            "messages": [
                kakao("kakao-alim", ""),
                kakao("kakao-alim", "821012345001", sender=None),
                kakao("kakao-chingu", "821012345002", content={"text": "hi", "buttons": too_many}),
                kakao(
                    "kakao-chingu",
                    "821012345003",
                    content={"text": "hi", "image": {"url": long_url}},
                ),
                kakao("kakao-alim", "821012345004", options={"urlOptions": {}}),
                kakao("kakao-chingu", "821012345005"),
            ]
        },
    )
    assert batch.status_code == 202
    body = batch.json()
    assert (body["accepted"], body["refused"]) == (1, 5)
    firsts = [m["problems"][0] for m in body["messages"][:5]]
    assert [(p["path"], p.get("status")) for p in firsts] == [
        ("$.messages[0].destination", "Error: Missing phone number in request"),
        ("$.messages[1].sender", "Error: Invalid from field"),
        ("$.messages[2].content.buttons", "Error: Invalid buttons field length"),
        ("$.messages[3].content.image.url", "Error: Invalid image url length"),
        ("$.messages[4].options.urlOptions", None),
    ]
    await h.recorder.wait_final(body["messages"][5]["id"])
