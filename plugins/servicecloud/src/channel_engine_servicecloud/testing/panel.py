"""The agents' template panel served for tests: a real engine whose built-in simulator is the org's Infobip
account, one org with a WhatsApp account and an open messaging session, the panel's routes in an app of
their own on loopback, and every template request the simulator read.

    async with panel_on_loopback(tmp_path, senders=["441134960000"]) as served:
        served.base        # .../servicecloud/{orgId}/panel/{token}/ (the capability URL's root)
        served.requests    # the bodies of the template requests the simulator accepted
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from channel_engine.documents import Documents
from channel_engine.testing.harness import Harness, run_engine
from channel_engine.testing.servers import serve_app

from ..config import NAMESPACE, ORG_PREFIX, Org, WhatsAppAccount, engine_account
from ..conversations import Conversation, Conversations
from ..panel import panel_routes, panel_token

ORG_ID = "00D5g000004XyZaEAK"
SESSION = "0Mw5g000000AbCdCAE"
END_USER = "385981112233"
PEM = "-----BEGIN PRIVATE KEY-----\nMIIBVAIBADANBgkqhkiG9w0BAQEFAASCAT4wggE6\n-----END PRIVATE KEY-----\n"
TEMPLATE_PATH = "/whatsapp/1/message/template"


@dataclass
class ServedPanel:
    harness: Harness
    app_url: str  # the app serving the panel's routes under /servicecloud
    base: str  # the panel's capability URL root, ending in "/"
    requests: list[dict[str, Any]] = field(default_factory=list)  # template requests the simulator read

    @property
    def page(self) -> str:
        """The panel page, without Service Cloud's `?id=`."""
        return self.base + "templates"

    def entry(self, message_id: str) -> dict[str, Any]:
        """The `messages[]` entry of the template request that carried `message_id`."""
        return next(m for r in self.requests for m in r["messages"] if m["messageId"] == message_id)


def org_document(harness: Harness, senders: list[str], api_key: str | None = None) -> Org:
    """The org, its one WhatsApp account on the engine's simulator (with the simulator's key unless
    `api_key` says otherwise)."""
    account = WhatsAppAccount(
        name="main",
        api_key=api_key or harness.engine.box.derive("simulator-api-key"),
        base_url=f"{harness.url}/simulator",
        senders=senders,
    )
    return Org(
        org_id=ORG_ID,
        instance_url="https://acme.my.salesforce.com",
        consumer_key="3MVG9-panel-tests",
        username="integration@acme.example",
        private_key=PEM,
        accounts=[account],
    )


@contextlib.asynccontextmanager
async def panel_on_loopback(
    tmp_path: Path, senders: list[str], *, session_sender: str, api_key: str | None = None
) -> AsyncIterator[ServedPanel]:
    """The panel for SESSION, whose end user last wrote to `session_sender`."""
    async with run_engine(tmp_path) as harness:
        services = harness.engine.services
        orgs: Documents[Org] = Documents(services, NAMESPACE, Org, "org_id", prefix=ORG_PREFIX)
        org = org_document(harness, senders, api_key)
        await orgs.put(org)
        account = org.accounts[0]
        await services.put_account(engine_account(org, account), account.base_url, account.api_key)
        conversations = Conversations(services)
        await conversations.put(
            Conversation(
                org_id=ORG_ID,
                end_user=END_USER,
                sender=session_sender,
                session_id=SESSION,
                last_inbound_at=time.time(),
            )
        )
        async with httpx.AsyncClient() as outbound:
            routes = panel_routes(services, orgs, conversations, outbound)
            async with serve_app(Starlette(routes=[Mount("/servicecloud", routes=routes)])) as url:
                served = ServedPanel(
                    harness, url, f"{url}/servicecloud/{ORG_ID}/panel/{panel_token(services, ORG_ID)}/"
                )
                endpoint = harness.simulator.endpoints[TEMPLATE_PATH]
                parse = endpoint.parse

                def recording(body: dict[str, Any]) -> Any:
                    served.requests.append(body)
                    return parse(body)

                endpoint.parse = recording
                yield served
