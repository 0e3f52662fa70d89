"""The Interaction Service (SCRT2) API of an org: what Bring Your Own Channel partners call.

Every call carries the org's bearer token, `OrgId` (15 characters), `AuthorizationContext` (the
ConversationChannelDefinition's developer name) and a fresh `RequestId`; the history import also names its
`AuthorizationContextType`. A refused token is dropped and the call made once more with a new one.

Failures raise `InteractionError`, whose `retryable` says whether trying again later can help: network
errors, 429, 5xx, and the codes Salesforce documents as transient (read-only org migration, precondition
aborted, downstream timeout).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import msgspec

from .auth import TokenSource, json_object
from .config import Org

RETRYABLE_CODES = {10019, 10055, 10056, 10094, 500}
HISTORY_CONTEXT = "ConversationChannelDefinition"
_encode = msgspec.json.encode


class InteractionError(Exception):
    def __init__(self, message: str, *, status: int | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code

    @property
    def retryable(self) -> bool:
        if self.status is None or self.status == 429 or self.status >= 500:
            return True
        return self.code in RETRYABLE_CODES


def participant(subject: str, role: str = "EndUser", app_type: str = "custom") -> dict[str, str]:
    return {"appType": app_type, "subject": subject, "role": role}


def entry_id(*parts: str) -> str:
    """A UUID derived from what the entry is (an Infobip message id, say): a retried upload carries the
    same id, so Salesforce can tell it is the same entry."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "channel-engine:" + ":".join(parts)))


def text_message(entry: str, text: str, timestamp_ms: int, in_reply_to: str | None = None) -> dict[str, Any]:
    """An end user's text as an `EntryInteraction`."""
    message: dict[str, Any] = {
        "messageType": "StaticContentMessage",
        "id": entry_id(entry, "message"),
        "staticContent": {"formatType": "Text", "text": text},
    }
    if in_reply_to:
        message["inReplyToMessageId"] = in_reply_to
    return {
        "timestamp": timestamp_ms,
        "interactionType": "EntryInteraction",
        "payload": {"id": entry_id(entry), "entryType": "Message", "abstractMessage": message},
    }


def attachment_message(entry: str, text: str | None, size: int, timestamp_ms: int) -> dict[str, Any]:
    """An end user's file as an `AttachmentInteraction`; the file goes in the `attachments` part."""
    interaction: dict[str, Any] = {
        "timestamp": timestamp_ms,
        "interactionType": "AttachmentInteraction",
        "id": entry_id(entry),
        "attachmentIndex": 0,
        "contentLength": size,
    }
    if text:
        interaction["text"] = text
    return interaction


def delivery_failed(
    entry: str, end_user: str, failed_entry: str, code: str, message: str, timestamp_ms: int
) -> dict[str, Any]:
    """`MessageDeliveryFailed`: an agent's message did not reach the end user; the agent sees why."""
    return {
        "timestamp": timestamp_ms,
        "interactionType": "EntryInteraction",
        "payload": {
            "id": entry_id(entry, "failed"),
            "entryType": "MessageDeliveryFailed",
            "failedConversationEntryIdentifier": failed_entry,
            "recipient": participant(end_user),
            "errorCode": code,
            "errorMessage": message,
        },
    }


class InteractionApi:
    def __init__(self, http: httpx.AsyncClient, tokens: TokenSource) -> None:
        self.http = http
        self.tokens = tokens

    async def post_interaction(
        self,
        org: Org,
        end_user: str,
        interaction: dict[str, Any],
        *,
        attachment: tuple[str, bytes, str] | None = None,
        routing_attributes: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One interaction (`POST /interactions`, multipart part `json`): 202 with the conversation
        identifier and the messaging session id in `workItemIds[0]`."""
        body: dict[str, Any] = {
            "to": org.channel_address_identifier,
            "from": end_user,
            "interactions": [interaction],
        }
        if routing_attributes:
            body["routingAttributes"] = routing_attributes
        files: list[tuple[str, tuple[str | None, bytes, str]]] = [
            ("json", (None, _encode(body), "application/json"))
        ]
        if attachment is not None:
            name, content, mime = attachment
            files.append(("attachments", (name, content, mime)))
        return await self._call(org, "POST", "/interactions", files=files)

    async def acknowledge(
        self, org: Org, end_user: str, conversation_identifier: str, acknowledgements: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Delivered/Read receipts of agents' messages (1 to 25)."""
        body = {
            "sender": participant(end_user),
            "conversationIdentifier": conversation_identifier,
            "acknowledgements": acknowledgements,
        }
        return await self._call(org, "POST", "/acknowledgement", json=body)

    async def establish_conversation(
        self, org: Org, end_user: str, routing_attributes: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "channelAddressIdentifier": org.channel_address_identifier,
            "participants": [participant(end_user)],
        }
        if routing_attributes:
            body["routingAttributes"] = routing_attributes
        return await self._call(org, "POST", "/conversation", json=body)

    async def add_history(self, org: Org, body: dict[str, Any]) -> dict[str, Any]:
        return await self._call(org, "POST", "/conversationHistory", json=body, context_type=HISTORY_CONTEXT)

    async def route(
        self, org: Org, conversation_identifier: str, routing_info: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"conversationIdentifier": conversation_identifier, "routingType": "Initial"}
        if routing_info:
            body["routingInfo"] = routing_info
        return await self._call(org, "POST", "/route", json=body)

    async def update_consent(self, org: Org, end_user: str, status: str) -> dict[str, Any]:
        body = {
            "endUserClientId": end_user,
            "channelAddressIdentifier": org.channel_address_identifier,
            "consentStatus": status,
        }
        return await self._call(org, "PATCH", "/consent", json=body)

    async def _call(
        self, org: Org, method: str, path: str, *, context_type: str | None = None, **request: Any
    ) -> dict[str, Any]:
        if not (org.scrt_url and org.authorization_context and org.channel_address_identifier):
            raise InteractionError(
                f"org {org.org_id} has no SCRT URL, authorization context or channel address identifier yet: "
                "finish the setup wizard's configure step",
                status=409,
            )
        for attempt in (1, 2):
            token = await self.tokens.token(org)
            headers = {
                "Authorization": f"Bearer {token.access_token}",
                "OrgId": org.org_id[:15],
                "AuthorizationContext": org.authorization_context,
                "RequestId": str(uuid.uuid4()),
                "Accept": "application/json",
            }
            if context_type:
                headers["AuthorizationContextType"] = context_type
            url = f"{org.scrt_url.rstrip('/')}/api/v1{path}"
            try:
                response = await self.http.request(method, url, headers=headers, **request)
            except httpx.HTTPError as exc:
                raise InteractionError(f"{org.scrt_url} cannot be reached ({type(exc).__name__})") from None
            if response.status_code == 401 and attempt == 1:
                self.tokens.invalidate(org)  # an expired or revoked session: once more with a new token
                continue
            return _answer(path, response)
        raise AssertionError("unreachable")


def _answer(path: str, response: httpx.Response) -> dict[str, Any]:
    body = json_object(response)
    if response.status_code < 300:
        return body
    code = body.get("code")
    reason = body.get("message") or response.reason_phrase
    raise InteractionError(
        f"Salesforce refused {path}: HTTP {response.status_code}"
        + (f", code {code}" if code is not None else "")
        + f": {reason}",
        status=response.status_code,
        code=code if isinstance(code, int) else None,
    )
