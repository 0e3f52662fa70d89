"""pytest fixtures every plugin's tests need: the plugins, a store, the simulator, a running engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from ..plugins import Plugins, get_plugin_manager

if TYPE_CHECKING:
    from ..store.sqlite import SQLiteStore
    from .harness import Harness


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
