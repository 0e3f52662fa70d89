"""A whole Service Cloud set-up for tests: a fake Salesforce org (token, Interaction Service, Tooling, the
Streaming API) on loopback, an engine with the built-in Infobip simulator, and the org configured through
the engine's own configuration API with a WhatsApp sender on the simulator.

    async with connected_org(tmp_path) as org:
        await org.end_user_writes("Hi, my order is late")           # a signed Infobip inbound webhook
        await org.salesforce.wait_for(lambda sf: len(sf.interactions) == 1)
        await org.agent_writes("Sorry! Let me check.")               # the platform event
        await org.simulator_sent(...)
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec

from channel_engine.config import Secret
from channel_engine.plugins import get_plugin_manager
from channel_engine.simulator import Simulator, simulator_from_plugins
from channel_engine.testing.harness import Harness, run_engine
from channel_engine.testing.servers import serve_app

from .fake_salesforce import FakeSalesforce
from .fake_streaming import FakeStreamingApi

ADMIN = "servicecloud-tests-admin-key"
WEBHOOK_SECRET = "infobip-subscription-hmac-secret"
SENDER = "447860099299"
END_USER = "385919998801"
EVENT = "/event/Infobip_Event__e"
INFOBIP_KEY = "infobip-simulator-key"


def infobip_time(seconds: float) -> str:
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds * 1000) % 1000:03d}+0000"
    )


def inbound_body(
    text: str,
    *,
    end_user: str = END_USER,
    sender: str = SENDER,
    message_id: str | None = None,
    at: float | None = None,
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Infobip's `receive-inbound-whatsapp-messages` body with one message."""
    return {
        "results": [
            {
                "from": end_user,
                "to": sender,
                "integrationType": "WHATSAPP",
                "receivedAt": infobip_time(time.time() if at is None else at),
                "messageId": message_id or f"wamid.{uuid.uuid4().hex}",
                "message": message or {"type": "TEXT", "text": text},
                "contact": {"name": "Frank"},
                "price": {"pricePerMessage": 0, "currency": "EUR"},
            }
        ],
        "messageCount": 1,
        "pendingMessageCount": 0,
    }


def agent_event(
    text: str,
    *,
    end_user: str = END_USER,
    conversation_identifier: str,
    cai: str,
    entry: str | None = None,
    wrapped: bool = True,
) -> dict[str, Any]:
    """The Payload field of an `Interaction` platform event: an agent's text message."""
    identifier = entry or str(uuid.uuid4())
    now_ms = int(time.time() * 1000)
    entry_fields = {
        "senderDisplayName": "Ana Agent",
        "identifier": identifier,
        "entryType": "Message",
        "entryPayload": {
            "entryType": "Message",
            "id": identifier,
            "abstractMessage": {
                "messageType": "StaticContentMessage",
                "id": identifier,
                "staticContent": {"formatType": "Text", "text": text},
            },
        },
        "sender": {"appType": "agent", "subject": "005xx0000012345", "role": "Agent"},
        "transcriptedTimestamp": now_ms,
        "clientTimestamp": now_ms,
        "clientDuration": 0,
    }
    event = {
        "conversationIdentifier": conversation_identifier,
        "channelAddressIdentifier": cai,
        "recipient": {"appType": "custom", "subject": end_user, "role": "EndUser"},
    }
    return event | ({"payload": entry_fields} if wrapped else entry_fields)


@dataclass
class ConnectedOrg:
    harness: Harness
    salesforce: FakeSalesforce
    streaming: FakeStreamingApi
    infobip: Infobip

    @property
    def org_id(self) -> str:
        return self.salesforce.org_id

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {ADMIN}"}

    def document(self, **overrides: Any) -> dict[str, Any]:
        """The org's configuration document: the fake's connection, a sender on the simulator."""
        return self.salesforce.org_config(
            webhookSecret=WEBHOOK_SECRET,
            accounts=[
                {"name": "main", "apiKey": INFOBIP_KEY, "baseUrl": self.infobip.url, "senders": [SENDER]}
            ],
            **overrides,
        )

    async def configure(self, **overrides: Any) -> httpx.Response:
        return await self.harness.http.put(
            f"/servicecloud/config/{self.org_id}", json=self.document(**overrides), headers=self.admin
        )

    async def post_inbound(self, body: dict[str, Any], secret: str = WEBHOOK_SECRET) -> httpx.Response:
        raw = msgspec.json.encode(body)
        signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        return await self.harness.http.post(
            f"/servicecloud/{self.org_id}/inbound",
            content=raw,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"},
        )

    async def end_user_writes(self, text: str, **fields: Any) -> httpx.Response:
        response = await self.post_inbound(inbound_body(text, **fields))
        assert response.status_code == 200, response.text
        return response

    def publish(self, payload: dict[str, Any], event_type: str = "Interaction") -> int:
        return self.streaming.publish(
            EVENT, {"EventType__c": event_type, "Payload__c": msgspec.json.encode(payload).decode()}
        )

    def agent_writes(self, text: str, conversation_identifier: str, **fields: Any) -> tuple[int, str]:
        entry = fields.pop("entry", None) or str(uuid.uuid4())
        event = agent_event(
            text,
            conversation_identifier=conversation_identifier,
            cai=self.salesforce.channel_address_identifier,
            entry=entry,
            **fields,
        )
        return self.publish(event), entry


@dataclass
class Infobip:
    """The Infobip simulator on its own port: it outlives an engine restart, as Infobip would."""

    simulator: Simulator
    url: str

    def sent_to(self, end_user: str) -> list[Any]:
        return [s for s in self.simulator.accepted.values() if s.to == end_user]


@contextlib.asynccontextmanager
async def salesforce_org() -> AsyncIterator[tuple[FakeSalesforce, FakeStreamingApi, Infobip]]:
    """A fake org on loopback (the Salesforce fake with the Streaming API fake on the same port) and the
    Infobip simulator."""
    box: list[FakeSalesforce] = []
    streaming = FakeStreamingApi(lambda header: box[0].authorized(header), timeout=5.0)
    salesforce = FakeSalesforce(extra_routes=streaming.routes)
    box.append(salesforce)
    simulator = simulator_from_plugins(get_plugin_manager(), api_keys={INFOBIP_KEY}, report_delay=0.05)
    async with salesforce.running(), serve_app(simulator.app) as url:
        yield salesforce, streaming, Infobip(simulator, url)


@contextlib.asynccontextmanager
async def engine_on(
    tmp_path: Path,
    salesforce: FakeSalesforce,
    streaming: FakeStreamingApi,
    infobip: Infobip,
    *,
    configure: bool = True,
    **engine: Any,
) -> AsyncIterator[ConnectedOrg]:
    """An engine (fresh, or again on `tmp_path`'s data) serving the org; `configure` stores its document."""
    async with run_engine(tmp_path, api_key=Secret(ADMIN), **engine) as harness:
        org = ConnectedOrg(harness, salesforce, streaming, infobip)
        if configure:
            response = await org.configure()
            assert response.status_code == 200, response.text
        yield org


@contextlib.asynccontextmanager
async def connected_org(
    tmp_path: Path, *, configure: bool = True, **engine: Any
) -> AsyncIterator[ConnectedOrg]:
    async with (
        salesforce_org() as (salesforce, streaming, infobip),
        engine_on(tmp_path, salesforce, streaming, infobip, configure=configure, **engine) as org,
    ):
        yield org
