"""Real engine processes for end-to-end tests: `channel-engine serve` in a subprocess, ready when uvicorn
says so, its output drained so it never blocks, terminated when the block ends.

    async with engine_process(env, port) as proc:            # one process
    async with engine_process(env, port, workers=3) as proc: # a supervisor and three workers
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


@asynccontextmanager
async def engine_process(
    env: dict[str, str], port: int, *, workers: int = 1, timeout: float = 60
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Start `channel-engine serve --port PORT --workers N` with `env` added to ours; yields once every
    worker's start-up is complete (its line appears once per worker)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "channel_engine.cli",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        env={**os.environ, **env},
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    lines: list[str] = []
    started = 0
    async with asyncio.timeout(timeout):
        while started < workers:
            line = (await proc.stderr.readline()).decode()
            if not line:
                raise RuntimeError("the engine exited during start-up:\n" + "".join(lines))
            lines.append(line)
            started += "Application startup complete" in line

    async def drain() -> None:  # keep reading so a full pipe never blocks the engine
        while line := await proc.stderr.readline():  # type: ignore[union-attr]
            sys.stderr.write(f"[{port}] " + line.decode())

    drainer = asyncio.create_task(drain())
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:  # a hang at shutdown is a failure to see, not a test run that never ends
                proc.kill()
                await proc.wait()
                raise AssertionError("the engine did not exit within 30 s of SIGTERM") from None
        await drainer
