"""End users' WhatsApp messages into Salesforce, in order per conversation and never twice.

Infobip's subscription posts inbound messages to `POST /servicecloud/{orgId}/inbound`, signed with
HMAC-SHA256 over the raw body. Each message is stored in a durable queue under a key that sorts by
conversation, then by the time the end user sent it, then by Infobip's message id, and the call is answered
200 once that is stored: Infobip's redelivery of the same message lands on the same key.

A worker (any engine process) takes one conversation at a time under a short lease, posts its messages
oldest first as interactions, and deletes each once Salesforce has it. A message Salesforce may take later
(it is down, throttling, migrating) stops its conversation until the retry, so nothing overtakes it; one
Salesforce refuses for good is kept in the org's failures list and the conversation moves on. A message
already handed over is remembered for a week, so a late redelivery changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channel_engine import HostServices, signature_matches
from channel_engine.documents import Documents

from .config import NAMESPACE, Org
from .conversations import Conversation, Conversations, digits
from .interaction_api import InteractionApi, InteractionError, attachment_message, text_message

log = logging.getLogger("channel_engine_servicecloud.inbound")

QUEUE = NAMESPACE + ".inbound"
SIGNATURE_HEADERS = ("X-Hub-Signature-256", "X-Hub-Signature", "X-Infobip-Signature")
SEEN_SECONDS = 7 * 24 * 3600
LEASE_SECONDS = 30.0
MAX_ATTACHMENT = 25 * 1024 * 1024  # the Interaction Service's limit (error 10008)
MEDIA_TYPES = {"IMAGE", "DOCUMENT", "VIDEO", "AUDIO", "VOICE", "STICKER"}


class Inbound(msgspec.Struct, kw_only=True):
    """One end user's message, as the queue keeps it."""

    org_id: str
    message_id: str
    end_user: str
    sender: str  # our WhatsApp number it was sent to
    received_at: float
    type: str = "TEXT"
    text: str | None = None
    media_url: str | None = None

    def queue_key(self) -> str:
        # Sorts by conversation, then send time (ms), then id: list order is delivery order.
        return f"{self.org_id}:{self.end_user}:{int(self.received_at * 1000):014d}:{self.message_id}"


def parse_time(value: Any, default: float) -> float:
    """Infobip's `2025-01-01T10:10:00.000+0000` (or ISO 8601 with a colon in the offset) as Unix seconds."""
    if not isinstance(value, str):
        return default
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        with contextlib.suppress(ValueError):
            return dt.datetime.strptime(value, fmt).timestamp()
    with contextlib.suppress(ValueError):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return default


def _message_text(message: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(type, text, media URL) of a WhatsApp inbound `message` object."""
    kind = str(message.get("type") or "TEXT").upper()
    if kind == "TEXT":
        return kind, message.get("text"), None
    if kind in MEDIA_TYPES:
        return kind, message.get("caption"), message.get("url")
    if kind == "LOCATION":
        where = ", ".join(str(message[k]) for k in ("name", "address") if message.get(k))
        text = f"Location: {message.get('latitude')}, {message.get('longitude')}" + (
            f" ({where})" if where else ""
        )
        return kind, text, None
    if kind in ("BUTTON", "INTERACTIVE_BUTTON_REPLY", "INTERACTIVE_LIST_REPLY", "QUICK_REPLY"):
        return kind, message.get("text") or message.get("title") or message.get("payload"), None
    # Contacts, orders, reactions...: the agent still sees that something came, and what.
    return kind, message.get("text") or f"[{kind.lower()} message]", None


def parse_inbound(org_id: str, body: Any, now: float) -> list[Inbound]:
    """Infobip's `receive-inbound-whatsapp-messages` body (`results[]`), or Conversations events of the same
    end user (`results[]` or one object with `conversationId`, `direction`, `content`). Raises ValueError
    naming what is wrong."""
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    entries = body.get("results") if "results" in body else [body]
    if not isinstance(entries, list):
        raise ValueError("`results` must be a list")
    found = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"results[{i}] must be an object")
        if "message" in entry:
            kind, text, url = _message_text(entry["message"] if isinstance(entry["message"], dict) else {})
            user, to, mid, at = (
                entry.get("from"),
                entry.get("to"),
                entry.get("messageId"),
                entry.get("receivedAt"),
            )
        elif "conversationId" in entry or "contentType" in entry:
            if str(entry.get("direction", "INBOUND")).upper() != "INBOUND":
                continue  # the bot's or an agent's own messages come back as events too
            content = entry.get("content")
            text = content.get("text") if isinstance(content, dict) else content
            url = content.get("url") if isinstance(content, dict) else None
            kind = str(entry.get("contentType") or "TEXT").upper()
            user, to, at = entry.get("from"), entry.get("to"), entry.get("createdAt")
            mid = entry.get("id") or entry.get("messageId")
        else:
            raise ValueError(f"results[{i}] is neither a WhatsApp inbound message nor a conversation message")
        for field, value in (("from", user), ("to", to), ("messageId", mid)):
            if not isinstance(value, str) or not value:
                raise ValueError(f"results[{i}].{field} is missing")
        found.append(
            Inbound(
                org_id=org_id,
                message_id=mid,
                end_user=digits(user),
                sender=digits(to),
                received_at=parse_time(at, now),
                type=kind,
                text=text if isinstance(text, str) else None,
                media_url=url if isinstance(url, str) else None,
            )
        )
    return found


class InboundRelay:
    """The webhook and the worker that relays its queue to Salesforce."""

    def __init__(
        self,
        services: HostServices,
        orgs: Documents[Org],
        conversations: Conversations,
        api: InteractionApi,
        http: httpx.AsyncClient,
        *,
        retry_seconds: float = 5.0,
        poll_seconds: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.services = services
        self.orgs = orgs
        self.conversations = conversations
        self.api = api
        self.http = http
        self.queue = services.data(QUEUE)
        self.data = services.data(NAMESPACE)
        self.retry_seconds = retry_seconds
        self.poll_seconds = poll_seconds
        self.clock = clock
        self.owner = uuid.uuid4().hex  # this process, in lease values
        self.relayed = 0
        self._wake = asyncio.Event()
        self._not_before: dict[str, float] = {}  # conversation -> when to try again after a failure
        self._task: asyncio.Task[None] | None = None

    # -- the webhook ------------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [Route("/{org_id}/inbound", self.receive, methods=["POST"])]

    async def receive(self, request: Request) -> Response:
        org_id = request.path_params["org_id"]
        org = await self.orgs.get(org_id)
        if org is None:
            return JSONResponse({"error": f"org {org_id} is not configured"}, 404)
        body = await request.body()
        if not org.webhook_secret:
            return JSONResponse(
                {
                    "error": f"org {org_id} has no webhookSecret: set the HMAC secret of the Infobip "
                    "subscription"
                },
                409,
            )
        signature = next((request.headers[h] for h in SIGNATURE_HEADERS if h in request.headers), None)
        if signature is None:
            log.warning("refused an inbound call for org %s: no signature header", org_id)
            return JSONResponse(
                {"error": f"missing signature header ({' or '.join(SIGNATURE_HEADERS)})"}, 401
            )
        if not signature_matches(org.webhook_secret.encode(), body, signature, "sha256"):
            log.warning("refused an inbound call for org %s: the signature does not match", org_id)
            return JSONResponse({"error": "the signature does not match the body (HMAC-SHA256)"}, 401)
        try:
            messages = parse_inbound(org_id, msgspec.json.decode(body), self.clock())
        except msgspec.DecodeError as exc:
            return JSONResponse({"error": f"the body is not JSON: {exc}"}, 400)
        except ValueError as exc:
            return JSONResponse({"error": f"not an inbound WhatsApp body: {exc}"}, 400)
        try:
            queued = await self.enqueue(messages)
        except Exception as exc:  # Infobip retries what was not answered 2xx
            log.error("storing inbound messages for org %s failed: %s", org_id, type(exc).__name__)
            return JSONResponse({"error": "the store is unavailable; Infobip will retry"}, 503)
        return JSONResponse({"received": len(messages), "queued": queued})

    async def enqueue(self, messages: list[Inbound]) -> int:
        """Store messages not handed over before; returns how many were queued."""
        queued = 0
        for message in messages:
            if await self.data.get(_seen_key(message)) is not None:
                continue  # redelivered after Salesforce had it
            await self.queue.put(message.queue_key(), msgspec.json.encode(message))
            queued += 1
        if queued:
            self._wake.set()
        return queued

    # -- the worker -------------------------------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="servicecloud-inbound")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("relaying inbound messages failed; trying again shortly")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    async def relay_once(self) -> bool:
        """One pass over the queue; True while anything is left in it."""
        stored = await self.queue.list()
        by_conversation: dict[str, list[str]] = {}
        for key in sorted(stored):
            org_id, user, _ = key.split(":", 2)
            by_conversation.setdefault(f"{org_id}:{user}", []).append(key)
        now = self.clock()
        due = [c for c in by_conversation if self._not_before.get(c, 0.0) <= now]
        await asyncio.gather(*(self._relay_conversation(c, by_conversation[c], stored) for c in due))
        return bool(by_conversation)

    async def _relay_conversation(self, conversation: str, keys: list[str], stored: dict[str, bytes]) -> None:
        lease = f"lease:{conversation}"
        if not await self.data.add(lease, self.owner.encode(), LEASE_SECONDS):
            return  # another process is relaying this conversation
        try:
            for key in keys:
                message = msgspec.json.decode(stored[key], type=Inbound)
                if not await self._relay(message):
                    self._not_before[conversation] = self.clock() + self.retry_seconds
                    return
                await self.queue.delete(key)
            self._not_before.pop(conversation, None)
        finally:
            await self.data.delete(lease)

    async def _relay(self, message: Inbound) -> bool:
        """Hand one message to Salesforce: True when it is done with (taken, or refused for good)."""
        if await self.data.get(_seen_key(message)) is not None:
            return True
        org = await self.orgs.get(message.org_id)
        if org is None:
            log.warning("dropping inbound message %s: org %s was removed", message.message_id, message.org_id)
            return True
        try:
            answer = await self._post(org, message)
        except InteractionError as exc:
            if exc.retryable:
                log.warning("Salesforce did not take inbound message %s yet: %s", message.message_id, exc)
                return False
            await self._record_failure(message, str(exc))
            return True
        await self.data.add(_seen_key(message), b"1", SEEN_SECONDS)
        await self._remember(org, message, answer)
        self.relayed += 1
        return True

    async def _post(self, org: Org, message: Inbound) -> dict[str, Any]:
        at_ms = int(message.received_at * 1000)
        if message.media_url and message.type in MEDIA_TYPES:
            media = await self._download(org, message)
            if media is not None:
                interaction = attachment_message(message.message_id, message.text, len(media[1]), at_ms)
                return await self.api.post_interaction(org, message.end_user, interaction, attachment=media)
        text = message.text or (f"[{message.type.lower()}] {message.media_url}" if message.media_url else "")
        interaction = text_message(message.message_id, text or f"[{message.type.lower()} message]", at_ms)
        return await self.api.post_interaction(org, message.end_user, interaction)

    async def _download(self, org: Org, message: Inbound) -> tuple[str, bytes, str] | None:
        """The end user's file from Infobip (the account's key opens it); None when it cannot be had, and
        the agent then gets the link as text."""
        account = org.account_for(message.sender)
        headers = {"Authorization": f"App {account.api_key}"} if account is not None else {}
        try:
            response = await self.http.get(message.media_url or "", headers=headers)
        except httpx.HTTPError as exc:
            log.warning("inbound media %s cannot be fetched: %s", message.message_id, type(exc).__name__)
            return None
        if response.status_code != 200 or len(response.content) > MAX_ATTACHMENT:
            return None
        mime = response.headers.get("content-type", "application/octet-stream").split(";")[0]
        name = (message.media_url or "file").rstrip("/").rsplit("/", 1)[-1] or "file"
        return name, response.content, mime

    async def _remember(self, org: Org, message: Inbound, answer: dict[str, Any]) -> None:
        record = await self.conversations.get(org.org_id, message.end_user)
        now = self.clock()
        if record is None:
            record = Conversation(org_id=org.org_id, end_user=message.end_user, sender=message.sender)
        if not record.window_open(now):  # a new session window: the message is the end user's opt-in
            record.opted_in_at = message.received_at
            record.opt_in_source = "end-user message"
            record.handover = False
        record.sender = message.sender
        record.last_inbound_at = max(record.last_inbound_at or 0.0, message.received_at)
        record.conversation_identifier = (
            answer.get("conversationIdentifier") or record.conversation_identifier
        )
        work_items = answer.get("workItemIds") or []
        if work_items:
            record.session_id = str(work_items[0])
        await self.conversations.put(record)

    async def _record_failure(self, message: Inbound, reason: str) -> None:
        log.error("Salesforce refused inbound message %s for good: %s", message.message_id, reason)
        failure = {
            "messageId": message.message_id,
            "endUser": message.end_user,
            "reason": reason,
            "at": self.clock(),
            "text": message.text,
        }
        await self.data.put(
            f"failed:{message.org_id}:{message.message_id}", msgspec.json.encode(failure), SEEN_SECONDS
        )
        await self.data.add(_seen_key(message), b"failed", SEEN_SECONDS)


def _seen_key(message: Inbound) -> str:
    return f"seen:{message.org_id}:{message.message_id}"
