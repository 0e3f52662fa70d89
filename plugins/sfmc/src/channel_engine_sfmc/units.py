"""The business units' configurations: sealed in the plugin's data, cached briefly in each process.

`execute` reads its unit's configuration on every call; a few seconds of cache keep that off the store,
and a change made through another engine process is seen when the entry ages out.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

import msgspec

from channel_engine import HostServices

from . import config
from .config import BusinessUnit, InfobipAccount

CACHE_SECONDS = 5.0


def account_name(mid: str, name: str) -> str:
    """The engine account an Infobip account of a business unit becomes."""
    return f"sfmc-{mid}-{name}"


class Units:
    def __init__(
        self, services: HostServices, clock: Callable[[], float] = time.monotonic, ttl: float = CACHE_SECONDS
    ) -> None:
        self.services = services
        self.data = services.data(config.NAMESPACE)
        self.clock = clock
        self.ttl = ttl
        self._cache: dict[str, tuple[float, BusinessUnit | None]] = {}
        self._accounts_in_use: set[tuple[str, str, str]] = set()

    async def get(self, mid: str) -> BusinessUnit | None:
        cached = self._cache.get(mid)
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        raw = await self.data.get(config.key(mid))
        unit = config.decode(self.services.unseal(raw)) if raw is not None else None
        self._cache[mid] = (self.clock() + self.ttl, unit)
        return unit

    async def all(self) -> list[BusinessUnit]:
        stored = await self.data.list()
        return [config.decode(self.services.unseal(raw)) for _, raw in sorted(stored.items())]

    async def put(self, unit: BusinessUnit) -> None:
        await self.data.put(config.key(unit.mid), self.services.seal(msgspec.json.encode(unit)))
        self._cache.pop(unit.mid, None)
        for account in unit.infobip_accounts:
            await self.use_account(unit.mid, account)

    async def delete(self, mid: str) -> bool:
        self._cache.pop(mid, None)
        return await self.data.delete(config.key(mid))

    async def use_account(self, mid: str, account: InfobipAccount) -> None:
        """Make a unit's Infobip account an engine account, once per process and key."""
        marker = (
            mid,
            account.name,
            hashlib.sha256((account.base_url + account.api_key).encode()).hexdigest(),
        )
        if marker in self._accounts_in_use:
            return
        await self.services.put_account(account_name(mid, account.name), account.base_url, account.api_key)
        self._accounts_in_use.add(marker)
