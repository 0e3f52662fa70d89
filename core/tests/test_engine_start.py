"""What the engine and the standalone simulator do before they take their first request."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# Fresh interpreters: in the test process anyio's backend is loaded long before these tests run.
PRELUDE = """
import asyncio, sys
from pathlib import Path

BACKEND = "anyio._backends._asyncio"
"""
STARTS_AN_ENGINE = """
from channel_engine.config import Settings
from channel_engine.engine import Engine

async def main():
    engine = Engine(Settings(data_dir=Path(sys.argv[1])))
    before = BACKEND in sys.modules
    await engine.start()
    try:
        print(before, BACKEND in sys.modules)
    finally:
        await engine.stop()
"""
STARTS_A_SIMULATOR = """
from channel_engine.plugins import get_plugin_manager
from channel_engine.simulator import simulator_from_plugins

async def main():
    simulator = simulator_from_plugins(get_plugin_manager(), api_keys={"k"})
    before = BACKEND in sys.modules
    await simulator.start()  # what `channel-engine simulator` runs at start-up (its app's lifespan)
    try:
        print(before, BACKEND in sys.modules)
    finally:
        await simulator.stop()
"""


@pytest.mark.parametrize("program", [STARTS_AN_ENGINE, STARTS_A_SIMULATOR], ids=["engine", "simulator"])
def test_start_loads_the_event_loop_backend_the_http_clients_need(tmp_path: Path, program: str) -> None:
    # Loaded on the first message or report sent instead, it held the event loop ~100 ms amid the first
    # requests.
    run = subprocess.run(
        [sys.executable, "-c", PRELUDE + program + "\nasyncio.run(main())\n", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "True"]
