"""The simulator's WhatsApp endpoints: the template endpoint and one per free-form message type.

WhatsApp's API is not Infobip's "new-gen" envelope: a message is `{from, to, messageId, content, callbackData,
notifyUrl, urlOptions}`; the template endpoint takes a `messages[]` of them (and a `bulkId`), a free-form
endpoint exactly one as the whole body. Their 200 answers differ the same way: `{"messages": [...],
"bulkId"}` against one flat `{"to", "messageCount", "messageId", "status"}`.

Reports are WhatsApp's own (`receive-whatsapp-delivery-reports`, no `sender` and no `callbackData`), seen
reports go to the same `notifyUrl`, inbound replies are `receive-inbound-whatsapp-messages` entries, and
click notifications are the common flat ones. For a template, the text the simulator shortens links in and
clicks is the body placeholders only: like Infobip, it never tracks header or button URLs.

Imported when the simulator asks, not when the plugin loads.
"""

from __future__ import annotations

import uuid
from typing import Any

from channel_engine.simulator import (
    NewGenEndpoint,
    Outcome,
    RequestViolation,
    SimulatedSend,
    error_body,
    seen_entry,
    status_body,
)

from .channels import FREE_FORM_PATHS, NAME, TEMPLATE_PATH

MESSAGE_ID_MAX = 200
BULK_ID_MAX = 100
CALLBACK_DATA_MAX = 4000

Violations = list[tuple[str, str]]


def endpoints() -> list[WhatsAppEndpoint]:
    found: list[WhatsAppEndpoint] = [TemplateEndpoint()]
    found += [FreeFormEndpoint(path, kind) for kind, path in FREE_FORM_PATHS.items()]
    return found


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


class WhatsAppEndpoint:
    """What every WhatsApp endpoint reads and renders alike; subclasses know their body and answer."""

    channel = NAME

    def __init__(self, path: str, *, price_per_message: float = 0.01, currency: str = "EUR") -> None:
        self.path = path
        self.price_per_message = price_per_message
        self.currency = currency
        self._clicks = NewGenEndpoint(path, NAME)  # the click notification is the common flat one

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r})"

    # --- requests ---

    def parse(self, body: dict[str, Any]) -> list[SimulatedSend]:
        violations: Violations = []
        sends = self.read(body, violations)
        if violations:
            raise RequestViolation(violations)
        return sends

    def read(self, body: dict[str, Any], violations: Violations) -> list[SimulatedSend]:
        raise NotImplementedError

    def content_text(self, content: dict[str, Any], at: str, violations: Violations) -> str | None:
        """The text links are shortened and clicked in; adds a violation for missing required content."""
        raise NotImplementedError

    def read_message(
        self, message: Any, at: str, bulk_id: str | None, violations: Violations
    ) -> SimulatedSend | None:
        """One message: a template `messages[]` entry (`at` = "messages[0].") or a free-form body ("")."""
        if not isinstance(message, dict):
            violations.append((at.rstrip("."), "must not be null"))
            return None
        before = len(violations)
        violations += [
            (f"{at}{key}", "must not be blank") for key in ("from", "to") if _blank(message.get(key))
        ]
        message_id = message.get("messageId")
        if message_id is None:
            message_id = str(uuid.uuid4())
        elif not isinstance(message_id, str) or not 0 < len(message_id) <= MESSAGE_ID_MAX:
            violations.append((f"{at}messageId", f"size must be between 1 and {MESSAGE_ID_MAX}"))
        content = message.get("content")
        text = None
        if isinstance(content, dict):
            text = self.content_text(content, f"{at}content.", violations)
        else:
            violations.append((f"{at}content", "must not be null"))
        callback_data = message.get("callbackData")
        if callback_data is not None and (
            not isinstance(callback_data, str) or len(callback_data) > CALLBACK_DATA_MAX
        ):
            violations.append((f"{at}callbackData", f"size must be between 0 and {CALLBACK_DATA_MAX}"))
        if len(violations) > before:
            return None
        notify = message.get("notifyUrl") or None
        url = message.get("urlOptions")
        track: dict[str, Any] | None = url if isinstance(url, dict) else None  # defaults apply once present
        return SimulatedSend(
            message_id=message_id,
            to=message["to"],
            sender=message["from"],
            bulk_id=bulk_id,
            text=text,
            delivery_url=notify,
            seen_url=notify,  # WhatsApp posts seen reports to the notifyUrl too
            tracking_url=track.get("trackingUrl") if track else None,
            track_clicks=bool(track.get("trackClicks", True)) if track else False,
            shorten_url=bool(track.get("shortenUrl", True)) if track else False,
            remove_protocol=bool(track.get("removeProtocol", False)) if track else False,
            custom_domain=track.get("customDomain") if track else None,
            callback_data=callback_data,
        )

    # --- answers ---

    def answer(self, send: SimulatedSend, status: Outcome) -> dict[str, Any]:
        """One message's submit answer, as both endpoint kinds write it."""
        return {
            "to": send.to,
            "messageCount": send.message_count,
            "messageId": send.message_id,
            "status": status_body(status),
        }

    def contact(self, send: SimulatedSend) -> dict[str, Any]:
        """The end user's profile, as Meta shares it."""
        who: dict[str, Any] = {"name": "Simulated User"}
        who["phoneNumber" if send.to.lstrip("+").isdigit() else "userId"] = send.to
        return who

    def delivery_report(
        self, send: SimulatedSend, outcome: Outcome, sent_at: str, done_at: str
    ) -> dict[str, Any]:
        charged = outcome.group_name != "REJECTED"
        return {
            "bulkId": send.bulk_id or "",
            "price": {
                "pricePerMessage": self.price_per_message if charged else 0.0,
                "currency": self.currency,
            },
            "status": status_body(outcome),
            "error": error_body(outcome),
            "messageId": send.message_id,
            "doneAt": done_at,
            "messageCount": send.message_count,
            "sentAt": sent_at,
            "to": send.to,
            "contact": self.contact(send),
        }

    def seen_report(self, send: SimulatedSend, sent_at: str, seen_at: str) -> dict[str, Any]:
        return seen_entry(send, sent_at, seen_at) | {"contact": self.contact(send)}

    def click_report(self, send: SimulatedSend, url: str, clicked_ms: int) -> dict[str, Any]:
        return self._clicks.click_report(send, url, clicked_ms)

    def inbound_message(
        self, send: SimulatedSend, text: str, message_id: str, received_at: str
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "from": send.to,
            "to": send.sender or "",
            "integrationType": "WHATSAPP",
            "receivedAt": received_at,
            "messageId": message_id,
            "pairedMessageId": send.message_id,
        }
        if send.callback_data is not None:
            entry["callbackData"] = send.callback_data
        entry["message"] = {"text": text, "type": "TEXT"}
        entry["price"] = {"pricePerMessage": 0.0, "currency": self.currency}
        entry["contact"] = self.contact(send)
        return entry


class TemplateEndpoint(WhatsAppEndpoint):
    """`POST /whatsapp/1/message/template`: `{"messages": [...], "bulkId"}`."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(TEMPLATE_PATH, **kw)

    def read(self, body: dict[str, Any], violations: Violations) -> list[SimulatedSend]:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise RequestViolation([("messages", "must not be empty")])
        bulk_id = body.get("bulkId")
        if bulk_id is not None and (not isinstance(bulk_id, str) or len(bulk_id) > BULK_ID_MAX):
            violations.append(("bulkId", f"size must be between 0 and {BULK_ID_MAX}"))
        sends = [
            self.read_message(m, f"messages[{i}].", bulk_id or None, violations)
            for i, m in enumerate(messages)
        ]
        return [send for send in sends if send is not None]

    def content_text(self, content: dict[str, Any], at: str, violations: Violations) -> str | None:
        violations += [
            (f"{at}{key}", "must not be blank")
            for key in ("templateName", "language")
            if _blank(content.get(key))
        ]
        data = content.get("templateData")
        body = data.get("body") if isinstance(data, dict) else None
        placeholders = body.get("placeholders") if isinstance(body, dict) else None
        if not isinstance(placeholders, list):
            violations.append((f"{at}templateData.body.placeholders", "must not be null"))
            return None
        for i, value in enumerate(placeholders):
            if _blank(value):
                violations.append((f"{at}templateData.body.placeholders[{i}]", "must not be blank"))
        # Only body placeholders are shortened and tracked: header and button URLs never are.
        return "\n".join(p for p in placeholders if isinstance(p, str)) or None

    def response(
        self, sends: list[SimulatedSend], statuses: list[Outcome], bulk_id: str | None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {"messages": [self.answer(s, o) for s, o in zip(sends, statuses, strict=True)]}
        if bulk_id:
            out["bulkId"] = bulk_id
        return out


class FreeFormEndpoint(WhatsAppEndpoint):
    """`POST /whatsapp/1/message/<type>`: one message as the whole body, answered by one flat entry."""

    def __init__(self, path: str, kind: str, **kw: Any) -> None:
        super().__init__(path, **kw)
        self.kind = kind

    def read(self, body: dict[str, Any], violations: Violations) -> list[SimulatedSend]:
        send = self.read_message(body, "", None, violations)
        return [send] if send is not None else []

    def content_text(self, content: dict[str, Any], at: str, violations: Violations) -> str | None:
        if self.kind == "TEXT":
            required = ("text",)
        elif self.kind == "LOCATION":
            required = ("latitude", "longitude")
        else:
            required = ("mediaUrl",)
        violations += [(f"{at}{key}", "must not be null") for key in required if content.get(key) is None]
        text = content.get("text", content.get("caption"))
        return text if isinstance(text, str) else None

    def response(
        self, sends: list[SimulatedSend], statuses: list[Outcome], bulk_id: str | None
    ) -> dict[str, Any]:
        (send,), (status,) = sends, statuses
        return self.answer(send, status)
