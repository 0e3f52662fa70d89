"""What the engine does before it takes its first request."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# A fresh interpreter: in the test process anyio's backend is loaded long before this test runs.
STARTS_AN_ENGINE = """
import asyncio, sys
from pathlib import Path
from channel_engine.config import Settings
from channel_engine.engine import Engine

BACKEND = "anyio._backends._asyncio"

async def main():
    engine = Engine(Settings(data_dir=Path(sys.argv[1])))
    before = BACKEND in sys.modules
    await engine.start()
    try:
        print(before, BACKEND in sys.modules)
    finally:
        await engine.stop()

asyncio.run(main())
"""


def test_start_loads_the_event_loop_backend_the_http_clients_need(tmp_path: Path) -> None:
    # Loaded on the first message sent instead, it held the event loop ~100 ms amid the first requests.
    run = subprocess.run(
        [sys.executable, "-c", STARTS_AN_ENGINE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "True"]
