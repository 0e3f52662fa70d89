"""`channel-engine serve --workers N`: N engine processes share one port and one store, a campaign sent to
the port is delivered once, and SIGTERM to the supervisor stops them all."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import httpx

from channel_engine.server import bind
from channel_engine.testing.processes import engine_process

TOTAL = 300


def worker_pids(parent: int) -> list[int]:
    """The supervisor's worker processes (multiprocessing also starts a resource tracker: not a worker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # it ended while we looked
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"resource_tracker" not in cmdline:
            found.append(int(entry.name))
    return found


def messages_of(count: int) -> list[dict]:
    return [
        {"channel": "sms", "destination": f"4179{i:07d}", "content": {"text": f"Message {i}"}}
        for i in range(count)
    ]


def delivered(metrics: str) -> int:
    found = re.search(r'channel_engine_messages\{state="DELIVERED"\} (\S+)', metrics)
    return int(float(found.group(1))) if found else 0


async def test_workers_share_one_port_and_one_store_and_stop_together(tmp_path: Path) -> None:
    sock = bind()
    port = sock.getsockname()[1]
    sock.close()
    env = {"CHANNEL_ENGINE_DATA_DIR": str(tmp_path / "data")}  # embedded defaults: SQLite, built-in simulator
    messages = messages_of(TOTAL)
    async with engine_process(env, port, workers=2) as supervisor:
        workers = worker_pids(supervisor.pid)
        assert len(workers) == 2

        async def post(batch: list[dict]) -> list[str]:
            # A client of its own: a new connection, which either worker may accept.
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                response = await http.post("/v1/messages", json={"messages": batch})
                assert response.status_code == 202, response.text
                return [m["id"] for m in response.json()["messages"]]

        batches = await asyncio.gather(*(post(messages[i : i + 50]) for i in range(0, TOTAL, 50)))
        ids = [mid for batch in batches for mid in batch]
        assert len(set(ids)) == TOTAL

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            async with asyncio.timeout(60):
                while delivered((await http.get("/metrics")).text) < TOTAL:
                    await asyncio.sleep(0.05)  # other processes' progress: nothing here to await
            views = [(await http.get(f"/v1/messages/{mid}")).json() for mid in ids[::25]]
        assert {v["state"] for v in views} == {"DELIVERED"}
        assert all(sum(e["event"] == "SENT" for e in v["timeline"]) == 1 for v in views)

        supervisor.terminate()
        assert await supervisor.wait() == 0
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists(), f"worker {pid} outlived its supervisor"


async def test_workers_must_be_at_least_one() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "channel_engine.cli", "serve", "--port", "0", "--workers", "0",
        stderr=asyncio.subprocess.PIPE, env=os.environ.copy(),
    )  # fmt: skip
    _, err = await proc.communicate()

    assert proc.returncode == 2
    assert err.decode().strip() == "channel-engine: --workers must be 1 or more"


async def test_an_intake_only_process_and_a_sending_process_share_the_work(tmp_path: Path) -> None:
    ports = []
    for _ in range(2):
        sock = bind()
        ports.append(sock.getsockname()[1])
        sock.close()
    shared = {"CHANNEL_ENGINE_DATA_DIR": str(tmp_path / "data")}
    intake_only = {**shared, "CHANNEL_ENGINE_ROLES": "intake"}
    sender = {**shared, "CHANNEL_ENGINE_ROLES": "dispatch,delivery"}
    async with (
        engine_process(sender, ports[1]),  # idle first: nothing will wake it but its own look at the store
        engine_process(intake_only, ports[0]),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}", timeout=30) as http,
    ):
        response = await http.post("/v1/messages", json={"messages": messages_of(20)})
        assert response.status_code == 202

        async with asyncio.timeout(30):
            while delivered((await http.get("/metrics")).text) < 20:
                await asyncio.sleep(0.05)  # the other process's progress: nothing here to await
