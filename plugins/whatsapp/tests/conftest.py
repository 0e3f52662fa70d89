"""Fixtures of the WhatsApp plugin's tests: messages as a host would send them, and the engine's webhook
URLs."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from channel_engine import OutboundMessage, WebhookUrls

MakeMessage = Callable[..., OutboundMessage]

TEMPLATE = {
    "type": "TEMPLATE",
    "templateName": "table_ready",
    "language": "en_GB",
    "placeholders": ["Ana", "18:30"],
}


@pytest.fixture
def webhooks() -> WebhookUrls:
    base = "https://engine.example.net/webhooks/infobip/whatsapp"
    return WebhookUrls(reports=f"{base}/reports", clicks=f"{base}/clicks", inbound=f"{base}/inbound")


@pytest.fixture
def make_message() -> MakeMessage:
    """`make_message(**wire_fields)`: a whatsapp OutboundMessage decoded from our wire format (camelCase),
    so the model's own rules apply. By default a two-placeholder template from a valid sender."""
    ids = itertools.count(1)

    def make(**fields: Any) -> OutboundMessage:
        raw: dict[str, Any] = {
            "channel": "whatsapp",
            "id": f"wa-{next(ids):04d}",
            "destination": "385981112233",
            "sender": "441134960000",
            "content": dict(TEMPLATE),
        }
        raw.update(fields)
        return msgspec.convert(raw, OutboundMessage)

    return make


@pytest.fixture
def template() -> Callable[..., dict[str, Any]]:
    """`template(**content_fields)`: the default template content with some fields replaced or added."""

    def content(**fields: Any) -> dict[str, Any]:
        return {**TEMPLATE, **fields}

    return content
