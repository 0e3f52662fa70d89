"""Chatbot to agent: an Infobip chatbot hands its conversation to a Service Cloud agent.

The bot's "Call API" step posts our handover contract to `POST /servicecloud/{orgId}/handover`:

    Authorization: Bearer <the org's handover token, shown by the setup wizard>
    {"conversationId": "<the bot conversation's id>", "senderNumber": "<the end user's number>",
     "sender": "<our WhatsApp number; optional>", "routing": {"queueId": "00G...", "flowId": "300..."},
     "routingAttributes": {"<flow variable>": "<value>"}}

The engine reads the conversation's messages from Infobip's Conversations API (last 24 hours, oldest first),
opens the Salesforce conversation and its messaging session, imports the history five entries a call
(newest first, so an agent who picks the session up early sees the latest context), routes the session and
sends the org's welcome message on WhatsApp. A repeated call for the same conversation answers what the
first one did and imports nothing twice.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from typing import Annotated, Any

import httpx
import msgspec
from msgspec import Meta, Struct
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channel_engine import HostServices
from channel_engine.documents import Documents, validation_path

from .agents import notice
from .config import NAMESPACE, Org, WhatsAppAccount
from .conversations import Conversation, Conversations, digits
from .inbound import parse_time
from .interaction_api import InteractionApi, InteractionError, entry_id, participant

log = logging.getLogger("channel_engine_servicecloud.handover")

HISTORY_SECONDS = 24 * 3600  # Salesforce imports no older history
ENTRIES_PER_CALL = 5  # the documented limit (the spec allows 25; the docs page says five)
PAGE = 100
MAX_PAGES = 20
BOT = "infobip-chatbot"
KEEP_SECONDS = 7 * 24 * 3600


def handover_token(services: HostServices, org_id: str) -> str:
    return services.derive(f"servicecloud-handover:{org_id}")


class Routing(Struct, rename="camel", forbid_unknown_fields=True):
    queue_id: Annotated[str, Meta(pattern=r"^00G[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$")] | None = None
    flow_id: Annotated[str, Meta(pattern=r"^300[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$")] | None = None

    def info(self) -> dict[str, Any] | None:
        if self.flow_id:
            flow = {"flowId": self.flow_id} | ({"queueId": self.queue_id} if self.queue_id else {})
            return {"flow": flow}
        return {"queueId": self.queue_id} if self.queue_id else None


class HandoverRequest(Struct, rename="camel", forbid_unknown_fields=True):
    conversation_id: Annotated[str, Meta(min_length=1, max_length=200)]
    sender_number: Annotated[str, Meta(pattern=r"^\+?[0-9]{6,16}$")]
    sender: Annotated[str, Meta(pattern=r"^\+?[0-9]{6,16}$")] | None = None
    routing: Routing | None = None
    routing_attributes: dict[str, str] | None = None


class BotMessage(Struct):
    id: str
    at_ms: int
    inbound: bool
    text: str
    our_number: str | None


class HandoverError(Exception):
    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.status = status


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        for key in ("text", "caption", "title"):
            if isinstance(content.get(key), str) and content[key]:
                return str(content[key])
        if content.get("url"):
            return f"[{str(message.get('contentType') or 'file').lower()}] {content['url']}"
    return f"[{str(message.get('contentType') or 'message').lower()}]"


class Handover:
    def __init__(
        self,
        services: HostServices,
        orgs: Documents[Org],
        conversations: Conversations,
        api: InteractionApi,
        http: httpx.AsyncClient,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.services = services
        self.orgs = orgs
        self.conversations = conversations
        self.api = api
        self.http = http
        self.data = services.data(NAMESPACE)
        self.clock = clock

    def routes(self) -> list[Route]:
        return [Route("/{org_id}/handover", self.receive, methods=["POST"])]

    async def receive(self, request: Request) -> Response:
        org_id = request.path_params["org_id"]
        org = await self.orgs.get(org_id)
        if org is None:
            return JSONResponse({"error": f"org {org_id} is not configured"}, 404)
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, f"Bearer {handover_token(self.services, org_id)}".encode()):
            return JSONResponse(
                {"error": "send the org's handover token as `Authorization: Bearer <token>`"}, 401
            )
        try:
            ask = msgspec.json.decode(await request.body(), type=HandoverRequest)
        except msgspec.ValidationError as exc:
            return JSONResponse({"error": str(exc), "path": validation_path(exc)}, 400)
        except msgspec.DecodeError as exc:
            return JSONResponse({"error": f"the body is not valid JSON: {exc}", "path": "$"}, 400)
        if not org.ready:
            return JSONResponse({"error": f"org {org_id} is not set up: finish the setup wizard"}, 409)
        done = await self.data.get(f"handover:{org_id}:{ask.conversation_id}")
        if done is not None:
            return JSONResponse(msgspec.json.decode(done) | {"repeated": True})
        try:
            answer = await self.hand_over(org, ask)
        except HandoverError as exc:
            return JSONResponse({"error": str(exc)}, exc.status)
        except InteractionError as exc:
            return JSONResponse({"error": str(exc)}, 502)
        await self.data.put(
            f"handover:{org_id}:{ask.conversation_id}", msgspec.json.encode(answer), KEEP_SECONDS
        )
        return JSONResponse(answer)

    async def hand_over(self, org: Org, ask: HandoverRequest) -> dict[str, Any]:
        now = self.clock()
        end_user = digits(ask.sender_number)
        account, history = await self._history(org, ask)
        sender = (
            digits(ask.sender) if ask.sender else next((m.our_number for m in history if m.our_number), None)
        )
        if sender is None:
            senders = [s.lstrip("+") for s in account.senders]
            if len(senders) != 1:
                raise HandoverError("the history names no WhatsApp sender: send `sender` in the body", 400)
            sender = senders[0]
        if org.account_for(sender) is None:
            raise HandoverError(f"sender {sender} is not one of the org's selected WhatsApp senders", 409)
        recent = [m for m in history if m.at_ms >= (now - HISTORY_SECONDS) * 1000]

        established = await self.api.establish_conversation(org, end_user, ask.routing_attributes)
        cid = str(established.get("conversationIdentifier") or "")
        session = established.get("messagingSessionId")
        if recent:  # the documented flow: the first history call establishes the session, the rest attach
            session = await self._import(org, end_user, recent, now) or session
        routed = await self.api.route(org, cid, ask.routing.info() if ask.routing else None)
        session = session or routed.get("workItemId")

        last_inbound = max((m.at_ms for m in recent if m.inbound), default=int(now * 1000)) / 1000
        record = await self.conversations.get(org.org_id, end_user) or Conversation(
            org_id=org.org_id, end_user=end_user, sender=sender
        )
        record.sender = sender
        record.conversation_identifier = cid
        record.session_id = str(session) if session else record.session_id
        record.last_inbound_at = max(record.last_inbound_at or 0.0, last_inbound)
        record.opted_in_at, record.opt_in_source = last_inbound, "chatbot handover"
        record.handover = True
        await self.conversations.put(record)

        welcome_id = None
        if org.welcome_message:
            welcome_id = await self._welcome(org, record, ask.conversation_id)
        return {
            "conversationIdentifier": cid,
            "messagingSessionId": record.session_id,
            "imported": len(recent),
            "routed": bool(routed.get("success", True)),
            "welcomeMessageId": welcome_id,
        }

    async def _history(self, org: Org, ask: HandoverRequest) -> tuple[WhatsAppAccount, list[BotMessage]]:
        """The bot conversation's messages, from the account that has it."""
        accounts = [org.account_for(ask.sender)] if ask.sender else list(org.accounts)
        refusals = []
        for account in accounts:
            if account is None:
                break
            found = await self._messages(account, ask.conversation_id)
            if isinstance(found, list):
                return account, found
            refusals.append(f"{account.name}: {found}")
        raise HandoverError(
            f"Infobip has no conversation {ask.conversation_id} in the org's accounts ("
            + ("; ".join(refusals) or "no account holds the sender")
            + ")",
            404,
        )

    async def _messages(self, account: WhatsAppAccount, conversation_id: str) -> list[BotMessage] | str:
        base = account.base_url.rstrip("/")
        found: list[BotMessage] = []
        for page in range(MAX_PAGES):
            try:
                response = await self.http.get(
                    f"{base}/ccaas/1/conversations/{conversation_id}/messages",
                    params={"limit": PAGE, "page": page, "orderBy": "createdAt:asc"},
                    headers={"Authorization": f"App {account.api_key}", "Accept": "application/json"},
                )
            except httpx.HTTPError as exc:
                raise HandoverError(f"Infobip ({base}) cannot be reached: {type(exc).__name__}") from None
            if response.status_code == 404:
                return "not found"
            if response.status_code in (401, 403):
                return f"the API key was refused (HTTP {response.status_code}; it needs conversations:manage)"
            if response.status_code >= 300:
                raise HandoverError(
                    f"Infobip answered HTTP {response.status_code} for the conversation history"
                )
            messages = response.json().get("messages") or []
            for m in messages:
                inbound = str(m.get("direction", "")).upper() == "INBOUND"
                at = parse_time(m.get("createdAt"), self.clock())
                ours = m.get("to") if inbound else m.get("from")
                found.append(
                    BotMessage(
                        str(m.get("id")), int(at * 1000), inbound, _text(m), digits(ours) if ours else None
                    )
                )
            if len(messages) < PAGE:
                break
        found.sort(key=lambda m: m.at_ms)
        return found

    async def _import(self, org: Org, end_user: str, history: list[BotMessage], now: float) -> str | None:
        """History into a new messaging session, five entries a call, newest first."""
        session: str | None = None
        now_ms = int(now * 1000)
        first_ms = history[0].at_ms
        people = [{"displayName": "Customer", "participant": participant(end_user), "joinedTime": first_ms}]
        if any(not m.inbound for m in history):
            bot = participant(BOT, "Chatbot", "chatbot")
            people.append(
                {
                    "displayName": "Infobip chatbot",
                    "participant": bot,
                    "joinedTime": first_ms,
                    "leftTime": now_ms,
                }
            )
        chunks = [history[i : i + ENTRIES_PER_CALL] for i in range(0, len(history), ENTRIES_PER_CALL)]
        for chunk in reversed(chunks):
            if session:
                how = {
                    "messagingSessionRequestType": "AttachMessagingSession",
                    "payload": {"sessionId": session},
                }
            else:
                how = {
                    "messagingSessionRequestType": "EstablishMessagingSession",
                    "payload": {"startTime": first_ms, "endTime": now_ms},
                }
            body = {
                "channelAddressIdentifier": org.channel_address_identifier,
                "conversationParticipants": people,
                "conversationEntries": [self._entry(end_user, m) for m in chunk],
                "messagingSession": how,
            }
            try:
                answer = await self.api.add_history(org, body)
            except InteractionError as exc:
                if exc.code == 10073:  # these ids are in already: an earlier attempt got this far
                    continue
                raise
            session = answer.get("messagingSessionId") or session
        return str(session) if session else None

    def _entry(self, end_user: str, m: BotMessage) -> dict[str, Any]:
        sender = participant(end_user) if m.inbound else participant(BOT, "Chatbot", "chatbot")
        return {
            "clientTimestamp": m.at_ms,
            "sender": sender,
            "entryPayload": {
                "entryType": "Message",
                "id": entry_id(m.id),
                "abstractMessage": {  # one id for the entry and its message, as Salesforce's own entries
                    "messageType": "StaticContentMessage",
                    "id": entry_id(m.id),
                    "staticContent": {"formatType": "Text", "text": m.text},
                },
            },
        }

    async def _welcome(self, org: Org, record: Conversation, conversation_id: str) -> str | None:
        assert org.welcome_message
        welcome = notice(org, record, "welcome", conversation_id, org.welcome_message)
        if welcome is None:
            return None
        verdict = (await self.services.submit([welcome]))[0]
        if not verdict.accepted:
            log.warning("org %s: the welcome message was refused: %s", org.org_id, verdict.problems)
        return verdict.id
