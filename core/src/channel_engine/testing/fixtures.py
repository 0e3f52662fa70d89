"""pytest fixtures every plugin's tests need: the plugins, a store, the simulator, a running engine."""

from __future__ import annotations

import pytest

from ..plugins import Plugins, get_plugin_manager


@pytest.fixture
def plugins() -> Plugins:
    """The installed plugins, loaded as the engine loads them."""
    return get_plugin_manager()
