"""Fixtures shared by the end-to-end tests: a headless Chromium for the tests of the pages the engine serves
(Journey Builder's inspector iframe, Service Cloud's pages...).

The browser is Debian's `chromium` (`python3 dev.py test` installs it with apt-get), driven by playwright;
playwright never downloads a browser of its own here. Without Chromium the browser tests are skipped with
the reason, except under CI (`CI=true`), where they fail: a CI run must not pass without them.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("CHANNEL_ENGINE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}: the browser tests cannot run, and under CI they must", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """A headless Chromium (playwright's async `Browser`), closed after the test."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (python3 dev.py test installs Debian's chromium)")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _unavailable("playwright is not installed (it is in the workspace's dev dependencies)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()
