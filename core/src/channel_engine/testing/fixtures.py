"""pytest fixtures every plugin's tests need: the plugins, a store, the simulator, a running engine."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from ..plugins import Plugins, get_plugin_manager

if TYPE_CHECKING:
    from ..store.redis import RedisStore
    from ..store.sqlite import SQLiteStore
    from .harness import Harness
    from .redis_server import RedisServer


@pytest.fixture
def plugins() -> Plugins:
    """The installed plugins, loaded as the engine loads them."""
    return get_plugin_manager()


@pytest_asyncio.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    """An opened SQLite store in the test's temporary directory, closed (pending writes flushed) after."""
    from ..store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "store.db")
    await store.open()
    yield store
    await store.close()


@pytest_asyncio.fixture
async def engine_harness(tmp_path: Path) -> AsyncIterator[Harness]:
    """A running engine on embedded defaults (SQLite in tmp_path, the built-in simulator), served over
    loopback HTTP, with a RecordingHost (`harness.recorder`) to await reports through the real outbox."""
    from .harness import run_engine

    async with run_engine(tmp_path / "engine") as harness:
        yield harness


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server for the whole test session (AOF, fsync always). Skipped when Debian's
    redis-server is not installed, and failed instead under CI=true."""
    from .redis_server import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


def redis_prefix(tmp_path: Path) -> str:
    """A key prefix of the test's own: tests share one server but never each other's keys."""
    return "t" + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:12]


@pytest.fixture
def redis_url(redis_server: RedisServer, tmp_path: Path) -> str:
    """`CHANNEL_ENGINE_STORE` for a Redis store of this test's own (its own key prefix)."""
    return f"{redis_server.url}?prefix={redis_prefix(tmp_path)}"


@pytest_asyncio.fixture
async def redis_store(redis_url: str) -> AsyncIterator[RedisStore]:
    """An opened Redis store with keys of this test's own, closed after."""
    from ..store.redis import RedisStore

    store = RedisStore(redis_url)
    await store.open()
    yield store
    await store.close()
