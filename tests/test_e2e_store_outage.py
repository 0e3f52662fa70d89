"""When the store cannot take a write (here: Redis killed), the engine answers 503 in plain words and
acknowledges nothing; once the store is back, the same calls succeed. Nothing is half-accepted."""

from __future__ import annotations

from pathlib import Path

from channel_engine.testing.harness import run_engine
from channel_engine.testing.redis_server import RedisServer

MESSAGE = {"channel": "sms", "destination": "41793026727", "content": {"text": "Hello"}}
REPORT = {
    "results": [
        {
            "messageId": "unknown-1",
            "to": "41793026727",
            "status": {"groupId": 3, "groupName": "DELIVERED", "id": 5, "name": "DELIVERED_TO_HANDSET"},
        }
    ]
}


async def test_a_store_outage_is_a_plain_503_and_nothing_is_half_accepted(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis").start()
    try:
        async with run_engine(tmp_path / "engine", store_url=redis.url) as harness:
            webhook = harness.engine.webhook_url("sms", "reports")
            redis.kill()

            refused = await harness.http.post("/v1/messages", json=MESSAGE)
            report_refused = await harness.http.post(webhook, json=REPORT)

            assert refused.status_code == 503
            assert refused.json() == {
                "error": "the store is unavailable, so nothing was accepted; send it again shortly"
            }
            assert report_refused.status_code == 503  # Infobip sends it again later
            assert "the reports were not stored" in report_refused.json()["error"]

            redis.start()
            message_id = await harness.send(MESSAGE)
            assert (await harness.http.post(webhook, json=REPORT)).status_code == 200
            stats = await harness.engine.store.stats()
            assert sum(n for name, n in stats.items() if name.startswith("state_")) == 1  # no half-accepted
            assert (await harness.view(message_id))["id"] == message_id
    finally:
        redis.stop()
