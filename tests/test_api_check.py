"""Warnings and `POST /v1/messages/check`: a warning never refuses a message, the check endpoint runs the
plugins' network checks (`check_message`) and stores nothing. Real HTTP over loopback."""

from __future__ import annotations

import asyncio

from channel_engine import OutboundMessage, Problem, hookimpl, warning
from channel_engine.testing.harness import run_engine


class MediaWarnings:
    """A test plugin: SMS texts mentioning "big" get a validation warning; `check_message` answers after
    an await, as a real network check would."""

    @hookimpl
    def validate_message(self, message: OutboundMessage) -> list[Problem] | None:
        if message.channel != "sms" or "big" not in message.content.get("text", ""):
            return None
        return [warning("media_too_large", "$.content.text", "mentions something big")]

    @hookimpl
    def check_message(self, message: OutboundMessage):  # type: ignore[no-untyped-def]
        if message.channel != "sms":
            return None

        async def look() -> list[Problem]:
            await asyncio.sleep(0)
            if "unreachable" in message.content.get("text", ""):
                return [warning("media_unreachable", "$.content.text", "the media URL did not answer")]
            return []

        return look()


SMS = {
    "channel": "sms",
    "destination": "41793026727",
    "content": {"text": "hello"},
    "host": {"name": "recorder"},
}


async def test_a_warning_is_shown_but_does_not_refuse(tmp_path):
    async with run_engine(tmp_path, MediaWarnings()) as h:
        one = await h.http.post("/v1/messages", json=SMS | {"content": {"text": "a big picture"}})
        assert one.status_code == 202, one.text
        [shown] = one.json()["warnings"]
        assert shown["code"] == "media_too_large" and shown["severity"] == "warning"
        assert shown["path"] == "$.content.text"
        many = await h.http.post(
            "/v1/messages",
            json={"messages": [SMS, SMS | {"content": {"text": "big"}}, SMS | {"destination": ""}]},
        )
        body = many.json()
        assert (body["accepted"], body["refused"]) == (2, 1)
        first, second, third = body["messages"]
        assert "warnings" not in first and second["warnings"][0]["path"] == "$.messages[1].content.text"
        assert third["status"] == "REFUSED" and third["problems"][0]["code"] == "missing_destination"
        await h.recorder.wait_final(one.json()["id"])


async def test_check_runs_every_check_and_stores_nothing(tmp_path):
    async with run_engine(tmp_path, MediaWarnings()) as h:
        checked = await h.http.post(
            "/v1/messages/check",
            json={
                "messages": [
                    SMS,
                    SMS | {"content": {"text": "unreachable big"}},
                    SMS | {"destination": ""},
                    SMS | {"channel": "pigeon"},
                ]
            },
        )
        assert checked.status_code == 200, checked.text
        fine, warned, refused, unknown = checked.json()["messages"]
        assert fine == {"index": 0, "valid": True, "problems": []}
        assert warned["valid"] is True
        assert [p["code"] for p in warned["problems"]] == ["media_too_large", "media_unreachable"]
        assert warned["problems"][1]["path"] == "$.messages[1].content.text"
        assert refused["valid"] is False and refused["problems"][0]["status"] == (
            "Error: Missing phone number in request"
        )
        assert unknown["valid"] is False and unknown["problems"][0]["code"] == "unknown_channel"
        single = await h.http.post("/v1/messages/check", json=SMS | {"content": {"text": "unreachable"}})
        assert single.json()["messages"][0]["problems"][0]["path"] == "$.content.text"
        assert (await h.engine.store.stats()).get("queued", 0) == 0
        assert h.engine.metrics.accepted == 0
