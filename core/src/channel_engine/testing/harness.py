"""A whole engine for tests: real settings, a fresh data directory, the embedded simulator, served over
loopback HTTP, with an httpx client pointed at it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from ..config import Settings
from ..engine import Engine, create_app
from ..plugins import get_plugin_manager
from ..secret_box import SecretBox, new_key
from ..server import bind, serving
from .recorder import RecordingHost


@dataclass
class Harness:
    engine: Engine
    url: str
    http: httpx.AsyncClient
    recorder: RecordingHost

    @property
    def simulator(self) -> Any:
        return self.engine.simulator

    async def send(self, message: dict[str, Any]) -> str:
        """POST one message; returns its id (fails the test on anything but 202)."""
        response = await self.http.post("/v1/messages", json=message)
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    async def view(self, message_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/v1/messages/{message_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())


@contextlib.asynccontextmanager
async def run_engine(data_dir: Path, *plugins: object, **settings: Any) -> AsyncIterator[Harness]:
    """An engine with the installed plugins plus `plugins` and a RecordingHost (the one among `plugins`, or a
    new one), on a loopback port. Another run on the same `data_dir` has the same secret key, as a restarted
    engine would."""
    recorder = next((p for p in plugins if isinstance(p, RecordingHost)), None) or RecordingHost()
    plugins = tuple(p for p in plugins if p is not recorder)
    sock = bind()
    config = replace(Settings(data_dir=data_dir, port=sock.getsockname()[1]), **settings)
    engine = Engine(
        config,
        plugins=get_plugin_manager([recorder, *plugins]),
        box=SecretBox(_key_of(data_dir)),
    )
    async with serving(create_app(engine), sock) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        yield Harness(engine, url, http, recorder)


def _key_of(data_dir: Path) -> bytes:
    """The test engine's secret key, kept beside its data (never the environment's key)."""
    path = data_dir / "test-secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(new_key())
    return path.read_bytes().strip()
