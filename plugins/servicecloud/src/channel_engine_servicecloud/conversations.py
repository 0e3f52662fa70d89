"""What the plugin remembers of each end user's WhatsApp conversation with an org.

One record per (org, end user): the WhatsApp sender they last wrote to (agents answer from it), the
Salesforce ids of the conversation and its messaging session, when they last wrote (WhatsApp's 24-hour
customer service window) and their session-specific opt-in. Indexes find a record from the messaging
session id (the template panel's `?id=`) and from the conversation identifier (agents' events).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec
from msgspec import Struct

from channel_engine import HostServices

from .config import NAMESPACE

WINDOW_SECONDS = 24 * 3600  # WhatsApp's customer service window after the end user's last message
KEEP_SECONDS = 30 * 24 * 3600  # a conversation nobody touched for a month is forgotten


class Conversation(Struct, rename="camel", kw_only=True):
    org_id: str
    end_user: str  # digits only, as WhatsApp's `from`
    sender: str  # our WhatsApp number the end user last wrote to
    conversation_identifier: str | None = None
    session_id: str | None = None  # the MessagingSession (workItemIds[0])
    last_inbound_at: float | None = None
    # WhatsApp's opt-in is per session: set when the end user writes (the wa.me click and the first
    # message are the implicit opt-in), it lasts as long as the service window.
    opted_in_at: float | None = None
    opt_in_source: str | None = None  # "end-user message", "chatbot handover"
    handover: bool = False  # the session came from a chatbot: send the closing message when it ends

    def window_open(self, now: float) -> bool:
        return self.last_inbound_at is not None and now - self.last_inbound_at < WINDOW_SECONDS


def digits(number: str) -> str:
    return number.strip().lstrip("+")


class Conversations:
    def __init__(self, services: HostServices, clock: Callable[[], float] = time.time) -> None:
        self.data = services.data(NAMESPACE)
        self.clock = clock
        self._decode = msgspec.json.Decoder(Conversation).decode

    async def get(self, org_id: str, end_user: str) -> Conversation | None:
        raw = await self.data.get(f"conv:{org_id}:{digits(end_user)}")
        return None if raw is None else self._decode(raw)

    async def put(self, conversation: Conversation) -> None:
        org, user = conversation.org_id, conversation.end_user
        await self.data.put(f"conv:{org}:{user}", msgspec.json.encode(conversation), KEEP_SECONDS)
        if conversation.session_id:  # Salesforce shows 15- and 18-character ids alike
            for sid in {conversation.session_id, conversation.session_id[:15]}:
                await self.data.put(f"session:{org}:{sid}", user.encode(), KEEP_SECONDS)
        if conversation.conversation_identifier:
            key = f"cid:{org}:{conversation.conversation_identifier}"
            await self.data.put(key, user.encode(), KEEP_SECONDS)

    async def by_session(self, org_id: str, session_id: str) -> Conversation | None:
        """The conversation of a MessagingSession record id (15 or 18 characters alike)."""
        for key in {session_id, session_id[:15]}:
            user = await self.data.get(f"session:{org_id}:{key}")
            if user is not None:
                return await self.get(org_id, user.decode())
        return None

    async def by_identifier(self, org_id: str, conversation_identifier: str) -> Conversation | None:
        user = await self.data.get(f"cid:{org_id}:{conversation_identifier}")
        return None if user is None else await self.get(org_id, user.decode())
