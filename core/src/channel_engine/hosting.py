"""What the engine offers host plugins: their own HTTP endpoints, message intake, their own stored data and
sealed secrets, all through `HostServices`, so a host plugin never reaches into the engine's internals.

A host plugin implements `register_host_apps(register, services)` and registers a `HostApp`: the routes it
serves under its own path prefix (an SFMC activity's endpoints, say) and the background work that runs
while the engine runs. Command-line tools of a plugin get the same services from `offline_services()`.
"""

from __future__ import annotations

import contextlib
import hmac
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec
from starlette.responses import Response

from .intake import Verdict, refuses
from .models import DataEntry, MessageView, OutboundMessage, Problem

_encode = msgspec.json.Encoder().encode
_JSON = b"application/json"

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from .config import Settings
    from .engine import Engine


class MsgspecResponse(Response):
    """A JSON answer encoded by msgspec: several times faster than starlette's `JSONResponse` (stdlib
    json), and it encodes msgspec structs too."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _encode(content)

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        # What Starlette would build, without its general case (a third of the response's cost).
        if headers is None and self.status_code >= 200 and self.status_code not in (204, 304):
            self.raw_headers = [(b"content-length", b"%d" % len(self.body)), (b"content-type", _JSON)]
        else:
            super().init_headers(headers)


@dataclass
class HostApp:
    """HTTP routes a host plugin serves under `prefix` (e.g. "/sfmc"), and work that runs while the engine
    runs: `start` after the store is open, `stop` before it closes."""

    prefix: str
    routes: list[BaseRoute]
    start: Callable[[], Awaitable[None]] | None = None
    stop: Callable[[], Awaitable[None]] | None = None
    plugin: str = field(default="", compare=False)


class PluginData:
    """A plugin's own key-value data in the engine's store, SQLite or Redis alike, under its namespace.

    Values are bytes, or any msgspec-encodable value through the `_json` methods. Seal secrets first
    (`HostServices.seal`): the store keeps what it is given."""

    def __init__(self, store: Any, namespace: str, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.namespace = namespace
        self.clock = clock

    async def get(self, key: str) -> bytes | None:
        return await self.store.get_data(self.namespace, key, self.clock())

    async def put(self, key: str, value: bytes, ttl: float | None = None) -> None:
        await self.store.put_data(self.namespace, key, value, self.clock(), ttl)

    def entry(self, key: str, value: bytes, ttl: float | None = None) -> DataEntry:
        """What `put` would store, for `HostServices.submit(data=...)` to store with the messages."""
        return DataEntry(self.namespace, key, bytes(value), ttl)

    async def add(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        """Store only if `key` has no live value (atomic across processes); True when stored."""
        return await self.store.add_data(self.namespace, key, value, self.clock(), ttl)

    async def list(self) -> dict[str, bytes]:
        return await self.store.list_data(self.namespace, self.clock())

    async def delete(self, key: str) -> bool:
        return await self.store.delete_data(self.namespace, key)

    async def get_json(self, key: str, type: Any = Any) -> Any:
        raw = await self.get(key)
        return None if raw is None else msgspec.json.decode(raw, type=type)

    async def put_json(self, key: str, value: Any, ttl: float | None = None) -> None:
        await self.put(key, msgspec.json.encode(value), ttl)


class HostServices:
    """The engine as a host plugin sees it."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def base_url(self) -> str:
        """The engine's public URL (what SFMC or Infobip call), without a trailing slash."""
        return self._engine.settings.base_url

    @property
    def channels(self) -> list[str]:
        return sorted(self._engine.plugins.channels)

    def data(self, namespace: str) -> PluginData:
        return PluginData(self._engine.store, namespace)

    def seal(self, plaintext: bytes) -> bytes:
        """Encrypt with the engine's secret key (Fernet), for storing."""
        return self._engine.box.seal(plaintext)

    def unseal(self, sealed: bytes) -> bytes:
        return self._engine.box.open(sealed)

    def derive(self, purpose: str) -> str:
        """A stable secret token for `purpose`, derived from the engine's key."""
        return self._engine.box.derive(purpose)

    def api_key_accepts(self, authorization: str | None) -> bool | None:
        """Whether an `Authorization` header carries the engine's API key (`Bearer <key>`); None when the
        engine has no API key configured."""
        key = self._engine.settings.api_key
        if key is None:
            return None
        given = (authorization or "").encode()
        return hmac.compare_digest(given, f"Bearer {key.reveal()}".encode())

    async def put_account(
        self, name: str, base_url: str, api_key: str, requests_per_second: float = 100.0
    ) -> None:
        """Store an Infobip account (sealed) and use it at once; messages name it in `account`. Other
        engine processes load it when a message first names it."""
        from .provider import AccountRecord, make_account, save_account

        account = make_account(name, base_url, api_key, requests_per_second)  # checks before storing
        await save_account(self._engine.store, self._engine.box, AccountRecord(name, base_url, api_key))
        self._engine.accounts.add(account)

    def check(self, message: OutboundMessage) -> list[Problem]:
        """Every problem the engine would find in this message (errors and warnings), storing nothing."""
        return self._engine.intake.validate(message)

    def submit(
        self,
        messages: list[OutboundMessage],
        checked: list[list[Problem]] | None = None,
        data: Sequence[DataEntry] = (),
    ) -> Coroutine[Any, Any, list[Verdict]]:
        """Validate and durably accept messages, exactly as `POST /v1/messages` does. A message whose `id`
        is stored already is not stored again, and neither is one whose `idempotency_key` (or, within
        `RETRY_WINDOW`, `retry_key`) is: its verdict names the first one's id. `checked`: what `check`
        just answered for each message, so a host that asked first does not pay for the same validation
        twice. `data` (`PluginData.entry`): the host's own values, stored in the same durable write when
        any message is accepted, and not at all otherwise (a host's lookup of the message it sent).

        Intake's own coroutine, for the host to await: one coroutine fewer for every request in flight."""
        path = None if len(messages) == 1 else "$"
        return self._engine.intake.submit(list(messages), path=path, checked=checked, data=data)

    async def message(self, message_id: str) -> MessageView | None:
        return await self._engine.store.get_message(message_id)


@contextlib.asynccontextmanager
async def offline_services(settings: Settings | None = None) -> AsyncIterator[HostServices]:
    """Host services on the configured store, without serving HTTP or sending: for a plugin's command-line
    tools (`channel-engine sfmc install-package` reads the business unit's stored credentials)."""
    from .config import from_env
    from .engine import Engine

    engine = Engine(settings or from_env())
    await engine.store.open()
    try:
        yield engine.services
    finally:
        await engine.store.close()


__all__ = [
    "HostApp",
    "HostServices",
    "MsgspecResponse",
    "PluginData",
    "Verdict",
    "offline_services",
    "refuses",
]
