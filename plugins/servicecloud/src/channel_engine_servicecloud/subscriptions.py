"""One platform event subscription per org, in one engine process at a time.

Each org with a platform event gets a task that takes the org's subscription lease (in the engine's store,
so several processes on Redis agree), subscribes through the Streaming API from the replay id saved after
the last event it handled, and renews the lease while it runs. Another process takes over when the lease
lapses. Handling is idempotent anyway (agents' messages have ids derived from their entries), so an event
seen twice around a takeover is still sent once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

import httpx

from channel_engine import HostServices
from channel_engine.documents import Documents

from .agents import AgentMessages
from .auth import TokenSource
from .config import NAMESPACE, Org
from .streaming import EventStream

log = logging.getLogger("channel_engine_servicecloud.subscriptions")

LEASE_SECONDS = 60.0
RENEW_SECONDS = 20.0
RETRY_SECONDS = 15.0  # how often a process without the lease looks again


class Subscriptions:
    def __init__(
        self,
        services: HostServices,
        orgs: Documents[Org],
        tokens: TokenSource,
        agents: AgentMessages,
        http: httpx.AsyncClient,
        *,
        backoff: float = 1.0,
    ) -> None:
        self.data = services.data(NAMESPACE)
        self.orgs = orgs
        self.tokens = tokens
        self.agents = agents
        self.http = http
        self.backoff = backoff
        self.owner = uuid.uuid4().hex
        self.streams: dict[str, EventStream] = {}
        self._tasks: dict[str, tuple[Any, asyncio.Task[None]]] = {}

    async def start(self) -> None:
        for org in await self.orgs.all():
            self.ensure(org)

    async def stop(self) -> None:
        for org_id in list(self._tasks):
            await self._cancel(org_id)

    def ensure(self, org: Org) -> None:
        """(Re)start the org's subscription when its connection changed; stop it when it has no event."""
        wanted = (org.instance_url, org.api_version, org.platform_event, org.consumer_key, org.username)
        current = self._tasks.get(org.org_id)
        if current is not None and current[0] == wanted and not current[1].done():
            return
        if current is not None:
            current[1].cancel()
        if org.platform_event is None:
            self._tasks.pop(org.org_id, None)
            return
        task = asyncio.create_task(self._hold(org.org_id), name=f"servicecloud-events-{org.org_id}")
        self._tasks[org.org_id] = (wanted, task)

    async def _cancel(self, org_id: str) -> None:
        _, task = self._tasks.pop(org_id)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _hold(self, org_id: str) -> None:
        """Take the lease when free, subscribe while holding it."""
        lease = f"events-lease:{org_id}"
        while True:
            if await self.data.add(lease, self.owner.encode(), LEASE_SECONDS):
                try:
                    await self._subscribe(org_id, lease)
                finally:
                    with contextlib.suppress(Exception):
                        if await self.data.get(lease) == self.owner.encode():
                            await self.data.delete(lease)
            await asyncio.sleep(RETRY_SECONDS)

    async def _subscribe(self, org_id: str, lease: str) -> None:
        org = await self.orgs.get(org_id)
        if org is None or org.platform_event is None:
            return
        replay_key = f"replay:{org_id}"

        async def token() -> str:
            current = await self.orgs.get(org_id) or org
            return (await self.tokens.token(current)).access_token

        async def load_replay() -> int | None:
            raw = await self.data.get(replay_key)
            return int(raw) if raw is not None else None

        async def save_replay(replay_id: int) -> None:
            await self.data.put(replay_key, str(replay_id).encode())

        async def handle(data: dict[str, Any]) -> None:
            current = await self.orgs.get(org_id) or org
            await self.agents.handle_event(current, data)

        stream = EventStream(
            self.http,
            instance_url=org.instance_url,
            api_version=org.api_version,
            topic=f"/event/{org.platform_event.name}",
            token=token,
            token_rejected=lambda: self.tokens.invalidate(org),
            load_replay=load_replay,
            save_replay=save_replay,
            handle=handle,
            backoff=self.backoff,
            name=org_id,
        )
        self.streams[org_id] = stream
        run = asyncio.create_task(stream.run(), name=f"servicecloud-stream-{org_id}")
        try:
            while not run.done():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(run), RENEW_SECONDS)
                if run.done():
                    break
                if await self.data.get(lease) != self.owner.encode():
                    log.warning("org %s: another process took the event subscription over", org_id)
                    return
                await self.data.put(lease, self.owner.encode(), LEASE_SECONDS)
        finally:
            run.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await run
            self.streams.pop(org_id, None)
