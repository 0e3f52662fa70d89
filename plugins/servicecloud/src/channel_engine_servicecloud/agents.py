"""Agents' side of a conversation: their messages from the platform event out to WhatsApp, and WhatsApp's
delivery and read reports back to Salesforce as acknowledgements.

An `Interaction` event's entry (`payload`, or the event itself in the older flat form) is a Message, a
session status change or something an end user never sees (typing, receipts). A Message becomes a
WhatsApp message from the sender the end user last wrote to, with an id derived from the entry, so a
redelivered event is not sent twice. WhatsApp allows free-form messages only within 24 hours of the end
user's last message: outside that window, and whenever the engine cannot take the message, the agent gets a
`MessageDeliveryFailed` with the reason. When a session ends, the org's closing message goes to the end user.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

import msgspec

from channel_engine import HostRef, HostServices, OutboundMessage, Report
from channel_engine.documents import Documents

from .config import Org, engine_account
from .conversations import Conversation, Conversations, digits
from .interaction_api import InteractionApi, delivery_failed, entry_id

log = logging.getLogger("channel_engine_servicecloud.agents")

HOST = "servicecloud"
WINDOW_CLOSED = "WhatsAppWindowClosed"
FAILED_STATUSES = {"UNDELIVERABLE", "REJECTED", "EXPIRED"}


def idempotency_key(org_id: str, *parts: str) -> str:
    """The engine's idempotency key for something Salesforce or the panel identifies (an entry, a session's
    closing message, a press of Send): the same one twice is one message."""
    return "sc-" + hashlib.sha256("\0".join((org_id, *parts)).encode()).hexdigest()[:32]


def whatsapp_contents(message: dict[str, Any]) -> list[dict[str, Any]]:
    """An agent's `abstractMessage` as our WhatsApp free-form contents (one per attachment)."""
    kind = message.get("messageType")
    if kind == "StaticContentMessage":
        content = message.get("staticContent") or {}
        if content.get("formatType") == "Attachments":
            text = content.get("text")
            found = [_attachment(a, text if i == 0 else None) for i, a in enumerate(content["attachments"])]
            return [f for f in found if f is not None]
        if isinstance(content.get("text"), str):
            return [{"type": "TEXT", "text": content["text"]}]
    if kind == "ChoicesMessage":  # buttons and quick replies, written out: our channel sends them as text
        choices = message.get("choices") or {}
        title = ((choices.get("titleItem") or {}).get("title")) or choices.get("text") or ""
        options = [
            (item.get("titleItem") or {}).get("title") or item.get("optionIdentifier")
            for item in choices.get("optionItems") or []
        ]
        lines = [title, *(f"{i}. {o}" for i, o in enumerate(options, 1) if o)]
        text = "\n".join(line for line in lines if line)
        if text:
            return [{"type": "TEXT", "text": text}]
    return []


def notice(org: Org, record: Conversation, kind: str, key: str, text: str) -> OutboundMessage | None:
    """A message of the org's own (the welcome or closing message) to the conversation's end user, from
    the sender they wrote to; its idempotency key is derived from `kind` and `key`, so it goes once. None
    when that sender is no longer selected."""
    account = org.account_for(record.sender)
    if account is None:
        return None
    return OutboundMessage(
        channel="whatsapp",
        idempotency_key=idempotency_key(org.org_id, kind, key),
        destination=record.end_user,
        sender=record.sender,
        content={"type": "TEXT", "text": text},
        account=engine_account(org, account),
        host=HostRef(name=HOST, context={"orgId": org.org_id, "endUser": record.end_user, "kind": kind}),
    )


def _attachment(attachment: dict[str, Any], caption: str | None) -> dict[str, Any] | None:
    url, mime = attachment.get("url"), str(attachment.get("mimeType") or "")
    if not isinstance(url, str) or not url:
        return None
    kind = {"image": "IMAGE", "video": "VIDEO", "audio": "AUDIO"}.get(mime.split("/")[0], "DOCUMENT")
    content: dict[str, Any] = {"type": kind, "mediaUrl": url}
    if caption and kind != "AUDIO":
        content["caption"] = caption
    if kind == "DOCUMENT":
        content["filename"] = str(attachment.get("name") or "file")[:240]
    return content


def _entry(event: dict[str, Any]) -> dict[str, Any]:
    """The conversation entry of an Interaction event, with or without the `payload` wrapper."""
    entry = event.get("payload", event)
    return entry if isinstance(entry, dict) else {}


class AgentMessages:
    def __init__(
        self,
        services: HostServices,
        orgs: Documents[Org],
        conversations: Conversations,
        api: InteractionApi,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.services = services
        self.orgs = orgs
        self.conversations = conversations
        self.api = api
        self.clock = clock

    # -- platform events in ----------------------------------------------------------------------------

    async def handle_event(self, org: Org, data: dict[str, Any]) -> None:
        """One Streaming API event (`data`: schema, payload, event). Raises when it should come again."""
        assert org.platform_event is not None
        fields = data.get("payload") or {}
        event_type = _unwrap(fields.get(org.platform_event.type_field))
        raw = _unwrap(fields.get(org.platform_event.payload_field))
        if event_type != "Interaction" or not isinstance(raw, str):
            log.info("org %s: ignoring a %s platform event", org.org_id, event_type or "typeless")
            return
        try:
            event = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            log.error("org %s: a platform event's payload is not JSON; skipped", org.org_id)
            return
        await self.handle_interaction(org, event)

    async def handle_interaction(self, org: Org, event: dict[str, Any]) -> None:
        entry = _entry(event)
        end_user = digits(str((event.get("recipient") or {}).get("subject") or ""))
        cid = event.get("conversationIdentifier") or entry.get("conversationIdentifier")
        kind = entry.get("entryType")
        if kind == "Message":
            await self._agent_message(org, end_user, cid, entry)
        elif kind == "SessionStatusChanged":
            status = (entry.get("entryPayload") or entry).get("sessionStatus")
            if status == "Ended":
                await self._session_ended(org, end_user, cid, entry)

    async def _agent_message(self, org: Org, end_user: str, cid: str | None, entry: dict[str, Any]) -> None:
        identifier = str(entry.get("identifier") or (entry.get("entryPayload") or {}).get("id") or "")
        abstract = (entry.get("entryPayload") or {}).get("abstractMessage") or {}
        record = await self._conversation(org, end_user, cid)
        now = self.clock()
        if record is None or not record.window_open(now):
            last = (
                "never" if record is None or record.last_inbound_at is None else _when(record.last_inbound_at)
            )
            await self._failed(
                org,
                end_user,
                identifier,
                WINDOW_CLOSED,
                "WhatsApp allows free-form messages only within 24 hours of the customer's last message "
                f"(last message: {last}). Send an approved template from the WhatsApp template panel "
                "instead.",
            )
            return
        contents = whatsapp_contents(abstract)
        if not contents:
            await self._failed(
                org,
                end_user,
                identifier,
                "UnsupportedMessage",
                f"a {abstract.get('messageType') or 'message'} without text or attachments cannot go to "
                "WhatsApp",
            )
            return
        account = org.account_for(record.sender)
        if account is None:
            await self._failed(
                org,
                end_user,
                identifier,
                "SenderNotConfigured",
                f"the WhatsApp sender {record.sender} is no longer selected for this org",
            )
            return
        messages = [
            OutboundMessage(
                channel="whatsapp",
                idempotency_key=idempotency_key(org.org_id, identifier, str(i)),
                destination=end_user,
                sender=record.sender,
                content=content,
                account=engine_account(org, account),
                host=HostRef(
                    name=HOST,
                    context={
                        "orgId": org.org_id,
                        "endUser": end_user,
                        "conversationIdentifier": cid or record.conversation_identifier,
                        "entryIdentifier": identifier,
                        "acknowledge": i == 0,  # one receipt per entry, however many files it had
                    },
                ),
            )
            for i, content in enumerate(contents)
        ]
        verdicts = await self.services.submit(messages)
        refused = [v for v in verdicts if not v.accepted]
        if refused:
            reasons = "; ".join(
                f"{p.path}: {p.message}" for v in refused for p in v.problems if p.severity == "error"
            )
            await self._failed(org, end_user, identifier, "InvalidMessage", reasons[:1000])

    async def _session_ended(self, org: Org, end_user: str, cid: str | None, entry: dict[str, Any]) -> None:
        record = await self._conversation(org, end_user, cid)
        if record is None or not org.closing_message or not record.window_open(self.clock()):
            return
        session = str((entry.get("entryPayload") or entry).get("sessionId") or record.session_id or cid)
        closing = notice(org, record, "closing", session, org.closing_message)
        if closing is not None:
            await self.services.submit([closing])

    async def _conversation(self, org: Org, end_user: str, cid: str | None) -> Conversation | None:
        record = await self.conversations.get(org.org_id, end_user) if end_user else None
        if record is None and cid:
            record = await self.conversations.by_identifier(org.org_id, cid)
        return record

    async def _failed(self, org: Org, end_user: str, identifier: str, code: str, reason: str) -> None:
        log.info("org %s: agent message %s not sent: %s", org.org_id, identifier, code)
        interaction = delivery_failed(
            identifier, end_user, identifier, code, reason, int(self.clock() * 1000)
        )
        await self.api.post_interaction(org, end_user, interaction)

    # -- reports back ----------------------------------------------------------------------------------

    async def deliver_report(self, report: Report, message: OutboundMessage | None) -> None:
        """A WhatsApp report of an agent's message as Salesforce's receipt of its entry."""
        context = message.host.context if message is not None else {}
        identifier = context.get("entryIdentifier")
        if not identifier or not context.get("acknowledge", True):
            return  # welcome, closing and template-panel messages are no conversation entry of an agent
        org = await self.orgs.get(str(context.get("orgId")))
        if org is None:
            return
        end_user = str(context.get("endUser"))
        group = (report.status_group or "").upper()
        if report.kind == "SEEN":
            await self._acknowledge(org, end_user, context, identifier, "Read", report)
        elif report.kind == "DELIVERY" and group == "DELIVERED":
            await self._acknowledge(org, end_user, context, identifier, "Delivered", report)
        elif report.kind == "FAILED" or (report.kind == "DELIVERY" and group in FAILED_STATUSES):
            code = report.error_name or report.status_name or "DeliveryFailed"
            reason = report.error_description or report.status_description or f"WhatsApp reported {group}"
            await self._failed(org, end_user, identifier, code, reason)

    async def _acknowledge(
        self, org: Org, end_user: str, context: dict[str, Any], identifier: str, kind: str, report: Report
    ) -> None:
        cid = context.get("conversationIdentifier")
        if not cid:
            return
        ack = {
            "acknowledgementTimestamp": str(int(self.clock() * 1000)),
            "acknowledgementType": kind,
            "acknowledgedConversationEntryIdentifier": identifier,
            "acknowledgmentCreatedConversationEntryIdentifier": entry_id(identifier, kind),
        }
        await self.api.acknowledge(org, end_user, cid, [ack])


def _unwrap(value: Any) -> Any:
    """A platform event field: plain, or an Avro union (`{"string": ...}`) as some clients decode it."""
    if isinstance(value, dict) and len(value) == 1:
        return next(iter(value.values()))
    return value


def _when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))
