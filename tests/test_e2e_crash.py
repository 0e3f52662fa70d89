"""The engine killed (SIGKILL) with messages queued, then restarted: none lost, none sent twice.

The engine runs as a real `channel-engine serve` process; the simulator, standing in for Infobip, runs in
the test process so the test can see exactly what reached the provider.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from channel_engine.plugins import get_plugin_manager
from channel_engine.secret_box import new_key
from channel_engine.server import bind
from channel_engine.simulator import create_simulator
from channel_engine.simulator.app import collect_endpoints
from channel_engine.testing.processes import engine_process
from channel_engine.testing.servers import serve_app

TOTAL = 300
PER_MINUTE = 3000  # one message every 20 ms: the queue takes about 6 s to drain


async def test_killed_with_messages_queued_then_restarted_none_lost_none_twice(tmp_path: Path):
    simulator = create_simulator(
        collect_endpoints(get_plugin_manager()),
        api_keys={"crash-test-key"},
        report_delay=0.01,
        retry_delay=0.1,
    )
    sock = bind()
    port = sock.getsockname()[1]
    sock.close()  # the same port for both runs: the reports of the first run come back to the second
    async with serve_app(simulator.app) as provider_url:
        env = {
            "CHANNEL_ENGINE_DATA_DIR": str(tmp_path / "data"),
            "CHANNEL_ENGINE_SECRET_KEY": new_key(),
            "CHANNEL_ENGINE_INFOBIP_BASE_URL": provider_url,
            "CHANNEL_ENGINE_INFOBIP_API_KEY": "crash-test-key",
        }
        url = f"http://127.0.0.1:{port}"
        messages = [
            {
                "channel": "sms",
                "destination": f"4179{i:07d}",
                "content": {"text": f"Message {i}"},
                "options": {"speedLimit": {"amount": PER_MINUTE, "timeUnit": "MINUTE", "key": "crash"}},
            }
            for i in range(TOTAL)
        ]
        async with engine_process(env, port) as first, httpx.AsyncClient(base_url=url, timeout=30) as http:
            response = await http.post("/v1/messages", json={"messages": messages})
            assert response.status_code == 202
            ids = [m["id"] for m in response.json()["messages"]]
            await simulator.wait_accepted(40, timeout=30)
            first.kill()
            await first.wait()
        sent_before_crash = simulator.accepted_total
        assert 40 <= sent_before_crash < TOTAL, "the kill must come while messages are still queued"

        async with engine_process(env, port), httpx.AsyncClient(base_url=url, timeout=30) as http:
            await simulator.wait_accepted(TOTAL, timeout=60)
            await simulator.wait_reported(ids, timeout=60)
            views = [(await http.get(f"/v1/messages/{mid}")).json() for mid in ids]

    # None lost: every accepted message reached the provider and has its final status.
    assert set(simulator.accepted) == set(ids)
    assert simulator.accepted_total == TOTAL
    assert [v["state"] for v in views] == ["DELIVERED"] * TOTAL
    # None sent twice: the provider accepted each id once and reported each once. (A request in flight
    # at the kill may be repeated; the simulator answers it REJECTED_DUPLICATE_MESSAGE_ID, as Infobip does.)
    for view in views:
        deliveries = [e for e in view["timeline"] if e["event"] == "DELIVERY"]
        assert len(deliveries) == 1, view
    # The speed limit held across the restart: the queue was drained at the configured pace.
    # (A message whose send answer was lost in the kill has its delivery report as the first sign of it.)
    sent_times = sorted(
        next(e["at"] for e in v["timeline"] if e["event"] in ("SENT", "DELIVERY")) for v in views
    )
    assert sent_times[-1] - sent_times[0] >= (TOTAL - 1) * 60 / PER_MINUTE * 0.9
