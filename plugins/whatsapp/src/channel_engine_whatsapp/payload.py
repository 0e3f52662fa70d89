"""Builds Infobip requests from validated whatsapp messages, and reads Infobip's answers to them.

Template messages go to `POST /whatsapp/1/message/template`, up to the channel's `max_batch` in one
request's `messages[]`. `bulkId` is that request's only request-level field, so messages with different bulk
IDs go in different requests. Each free-form message goes alone to its type's endpoint (`/message/text`,
`/message/image`...), which takes one message per request.

Every message carries `from`, `to`, our message id as `messageId`, `callbackData`, and the engine's reports
URL as `notifyUrl`: Infobip posts delivery AND seen reports there. WhatsApp has no validity period.

URL shortening and click tracking (`urlOptions`) are per message, and the engine's clicks URL is the
`trackingUrl` unless the host names its own. On a template, Infobip shortens and tracks the URLs in the body
placeholders; a URL in a text header is shortened but not tracked, and button URLs are left alone (seed 001,
"Unified URL Tracking"). That split is Infobip's own behaviour for `urlOptions`, not something the request
spells out, so the payload carries `urlOptions` unchanged; the simulator plays the split back.
"""

from __future__ import annotations

from typing import Any

from channel_engine import (
    ChannelEngineError,
    OutboundMessage,
    ProviderRequest,
    SendOutcome,
    WebhookUrls,
    envelope,
    parse_send_statuses,
)

from .channels import FREE_FORM_PATHS, MAX_BATCH, TEMPLATE, TEMPLATE_PATH
from .validation import UNTRACKED_TYPES


def build_requests(
    channel: str, messages: list[OutboundMessage], webhooks: WebhookUrls, max_batch: int = MAX_BATCH
) -> list[ProviderRequest]:
    """Template messages grouped by bulk ID (in order of first appearance) and cut into requests of at most
    `max_batch`; then one request per free-form message."""
    templates: dict[str | None, list[OutboundMessage]] = {}
    free_form: list[ProviderRequest] = []
    for message in messages:
        if not message.id:  # the engine gives every message an id when it accepts it
            raise ChannelEngineError(f"a {channel} message reached build_payload without an id")
        kind = message.content["type"]
        if kind == TEMPLATE:
            templates.setdefault(message.options.bulk_id, []).append(message)
        else:
            body = message_entry(message, webhooks)
            free_form.append(ProviderRequest(path=FREE_FORM_PATHS[kind], body=body, message_ids=[message.id]))
    bulk = [
        _template_request(chunk, bulk_id, webhooks)
        for bulk_id, members in templates.items()
        for chunk in envelope.chunks(members, max_batch)
    ]
    return bulk + free_form


def message_entry(message: OutboundMessage, webhooks: WebhookUrls) -> dict[str, Any]:
    """One message as Infobip's WhatsApp endpoints take it: a `messages[]` entry of the template endpoint, or
    the whole body of a free-form one."""
    kind = message.content["type"]
    entry: dict[str, Any] = {"from": message.sender, "to": message.destination, "messageId": message.id}
    entry["content"] = (
        _template_content(message.content) if kind == TEMPLATE else _free_content(message.content)
    )
    if message.options.callback_data is not None:
        entry["callbackData"] = message.options.callback_data
    entry["notifyUrl"] = webhooks.reports
    tracking = envelope.schedule_and_tracking(message, webhooks).get("tracking")
    if tracking is not None and kind not in UNTRACKED_TYPES:
        entry["urlOptions"] = tracking  # WhatsApp's per-message `urlOptions` has the new-gen tracking shape
    reply_to = message.content.get("replyToMessageId")
    if reply_to:
        entry["context"] = {"replyToMessageId": reply_to}
    return entry


def _template_content(content: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"body": {"placeholders": list(content.get("placeholders", []))}}
    if "header" in content:
        data["header"] = dict(content["header"])
    if content.get("buttons"):
        data["buttons"] = [dict(button) for button in content["buttons"]]
    return {"templateName": content["templateName"], "templateData": data, "language": content["language"]}


def _free_content(content: dict[str, Any]) -> dict[str, Any]:
    """Our free-form content is Infobip's, plus `type` (which picks the endpoint) and `replyToMessageId`
    (which goes to `context`)."""
    return {key: value for key, value in content.items() if key not in ("type", "replyToMessageId")}


def _template_request(
    messages: list[OutboundMessage], bulk_id: str | None, webhooks: WebhookUrls
) -> ProviderRequest:
    body: dict[str, Any] = {"messages": [message_entry(m, webhooks) for m in messages]}
    if bulk_id:
        body["bulkId"] = bulk_id
    return ProviderRequest(path=TEMPLATE_PATH, body=body, message_ids=[m.id or "" for m in messages])


def parse_response(channel: str, request: ProviderRequest, body: dict[str, Any]) -> list[SendOutcome]:
    """Infobip's 200 answer: `{"messages": [...], "bulkId"}` from the template endpoint, one flat message
    (`{"to", "messageCount", "messageId", "status"}`) from a free-form endpoint. An entry without a messageId
    is the message at its position in the request."""
    entries = body.get("messages") if request.path == TEMPLATE_PATH else [body]
    if not isinstance(entries, list):
        entries = []
    named = [
        {**entry, "messageId": entry.get("messageId") or mid}
        for entry, mid in zip(entries, request.message_ids, strict=False)
        if isinstance(entry, dict)
    ]
    return parse_send_statuses(request, {"messages": named})
