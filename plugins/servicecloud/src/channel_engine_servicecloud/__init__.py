"""Salesforce Service Cloud as a host of Channel Engine: WhatsApp conversations between end users and
Service Cloud agents through Salesforce's Bring Your Own Channel (the Interaction Service API).

`plugin` (the entry point) wires the parts, each in its own module:

- `config`: an org's connection (Salesforce, the platform event, Infobip accounts and senders), sealed
- `wizard`: the setup wizard's steps as a JSON API (connect, configure, add account, select senders)
- `auth`: access tokens through the OAuth 2.0 JWT bearer flow; `interaction_api`: the Interaction Service
- `inbound`: end users' WhatsApp messages into Salesforce, in order per conversation, never twice
- `streaming` + `subscriptions`: agents' messages from the custom platform event (Streaming API)
- `agents`: agents' messages out to WhatsApp (24-hour window), receipts back as acknowledgements
- `handover`: an Infobip chatbot's conversation handed to an agent, with its history
- `panel`: the agents' WhatsApp template panel; `conversations`: what is known of each conversation
- `simulator`: the built-in simulator's Conversations API (a bot conversation's history)

Everything is served under /servicecloud.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import httpx
import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channel_engine import Host, HostApp, HostServices, OutboundMessage, Report, hookimpl
from channel_engine.documents import (
    Documents,
    InfobipAccount,
    api_key_refusal,
    check_infobip_account,
    document_routes,
)

from .agents import HOST
from .config import NAMESPACE, ORG_PREFIX, Org, engine_account


class ServiceCloudPlugin:
    def __init__(self) -> None:
        self.parts: Any = None

    @hookimpl
    def register_hosts(self, register: Any) -> None:
        register(Host(HOST, "Salesforce Service Cloud messaging sessions (WhatsApp, Bring Your Own Channel)"))

    @hookimpl
    def register_host_apps(self, register: Any, services: HostServices) -> None:
        self.parts = parts = Parts(services)
        register(HostApp("/servicecloud", parts.routes(), start=parts.start, stop=parts.stop))

    @hookimpl
    def register_simulator_routes(self, register: Any) -> None:
        from .simulator import routes

        for route in routes():
            register(route)

    @hookimpl
    def deliver_report(
        self, host: str, report: Report, message: OutboundMessage | None
    ) -> Awaitable[None] | None:
        if host != HOST:
            return None
        if self.parts is None:
            raise RuntimeError("the servicecloud plugin is not set up: the engine did not register host apps")
        return self.parts.agents.deliver_report(report, message)


class Parts:
    """The plugin's parts, sharing one HTTP client, one token cache and the org documents."""

    def __init__(self, services: HostServices) -> None:
        from .agents import AgentMessages
        from .auth import TokenSource
        from .conversations import Conversations
        from .handover import Handover
        from .inbound import InboundRelay
        from .interaction_api import InteractionApi
        from .subscriptions import Subscriptions

        self.services = services
        self.http = httpx.AsyncClient(timeout=30.0)
        self.orgs: Documents[Org] = Documents(services, NAMESPACE, Org, "org_id", prefix=ORG_PREFIX)
        self.tokens = TokenSource(self.http)
        self.api = InteractionApi(self.http, self.tokens)
        self.conversations = Conversations(services)
        self.inbound = InboundRelay(services, self.orgs, self.conversations, self.api, self.http)
        self.agents = AgentMessages(services, self.orgs, self.conversations, self.api)
        self.handover = Handover(services, self.orgs, self.conversations, self.api, self.http)
        self.subscriptions = Subscriptions(services, self.orgs, self.tokens, self.agents, self.http)

    def routes(self) -> list[Route]:
        from .panel import panel_routes
        from .wizard import wizard_routes

        config = document_routes(
            self.services,
            self.orgs,
            label="org",
            check=Org.problem,
            validate=self.validate,
            saved=self.saved,
            list_key="orgs",
        )
        return [
            *config,
            *wizard_routes(self),
            *self.inbound.routes(),
            *self.handover.routes(),
            *panel_routes(self.services, self.orgs, self.conversations, self.http),
            Route("/{org_id}/status", self.status, methods=["GET"]),
        ]

    async def start(self) -> None:
        for org in await self.orgs.all():
            await self.use_accounts(org)
        await self.inbound.start()
        await self.subscriptions.start()

    async def stop(self) -> None:
        await self.subscriptions.stop()
        await self.inbound.stop()
        await self.http.aclose()

    async def use_accounts(self, org: Org) -> None:
        for account in org.accounts:
            await self.services.put_account(engine_account(org, account), account.base_url, account.api_key)

    async def saved(self, org: Org) -> None:
        await self.use_accounts(org)
        self.subscriptions.ensure(org)

    async def validate(self, org: Org) -> list[dict[str, Any]]:
        """The org's credentials against the live services: Salesforce's token endpoint, each account."""
        from .auth import SalesforceAuthError

        checks: list[dict[str, Any]] = []
        self.tokens.invalidate(org)
        try:
            await self.tokens.token(org)
            checks.append({"service": "salesforce", "ok": True})
        except SalesforceAuthError as exc:
            checks.append({"service": "salesforce", "ok": False, "reason": str(exc)})
        for account in org.accounts:
            infobip = InfobipAccount(name=account.name, base_url=account.base_url, api_key=account.api_key)
            checks.append(await check_infobip_account(self.http, infobip))
        return checks

    async def status(self, request: Request) -> Response:
        """What an admin checks first: is the org ready, is the event stream up, is anything stuck."""
        if refused := api_key_refusal(self.services, request):
            return refused
        org_id = request.path_params["org_id"]
        org = await self.orgs.get(org_id)
        if org is None:
            return JSONResponse({"error": f"org {org_id} is not configured"}, 404)
        queued = [k for k in await self.inbound.queue.list() if k.startswith(f"{org_id}:")]
        data = await self.services.data(NAMESPACE).list()
        failures = [v for k, v in sorted(data.items()) if k.startswith(f"failed:{org_id}:")]
        stream = self.subscriptions.streams.get(org_id)
        return JSONResponse(
            {
                "orgId": org_id,
                "ready": org.ready,
                "events": None
                if stream is None
                else {
                    "connected": stream.connected,
                    "lastReplayId": stream.last_replay_id,
                    "eventsHandled": stream.events_handled,
                    "lastError": stream.last_error,
                },
                "inboundQueued": len(queued),
                "inboundRefused": [msgspec.json.decode(v) for v in failures],
            }
        )


plugin = ServiceCloudPlugin()
