"""The business units' configurations: sealed in the plugin's data, cached briefly in each process.

`execute` reads its unit's configuration on every call; a few seconds of cache keep that off the store,
and a change made through another engine process is seen when the entry ages out.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from channel_engine import HostServices
from channel_engine.documents import Documents

from . import config
from .config import BusinessUnit, InfobipAccount

CACHE_SECONDS = 5.0


def account_name(mid: str, name: str) -> str:
    """The engine account an Infobip account of a business unit becomes."""
    return f"sfmc-{mid}-{name}"


class Units(Documents[BusinessUnit]):
    """The business units' configurations (keyed by MID), which also makes their Infobip accounts engine
    accounts."""

    def __init__(
        self, services: HostServices, clock: Callable[[], float] = time.monotonic, ttl: float = CACHE_SECONDS
    ) -> None:
        super().__init__(
            services, config.NAMESPACE, BusinessUnit, "mid", prefix=config.key(""), ttl=ttl, clock=clock
        )
        self._accounts_in_use: set[tuple[str, str, str, str]] = set()

    async def put(self, unit: BusinessUnit) -> None:
        await super().put(unit)
        for account in unit.infobip_accounts:
            await self.use_account(unit.mid, account)

    async def use_account(self, mid: str, account: InfobipAccount) -> None:
        """Make a unit's Infobip account an engine account, once per process and key."""
        marker = (mid, account.name, account.base_url, account.api_key)  # every execute asks: no digest
        if marker in self._accounts_in_use:
            return
        await self.services.put_account(account_name(mid, account.name), account.base_url, account.api_key)
        self._accounts_in_use.add(marker)
