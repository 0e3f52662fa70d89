"""Fixtures of the MMS plugin's tests: messages as a host would send them, and the engine's webhook URLs."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from channel_engine import OutboundMessage, WebhookUrls

MakeMessage = Callable[..., OutboundMessage]

# A menu card: a title, a picture and a line of text, the shape most MMS campaigns take.
CONTENT = {
    "title": "Spring menu",
    "segments": [
        {"type": "image", "url": "https://cdn.bistro-lipa.example/menus/spring.jpg"},
        {"type": "text", "text": "Wild garlic soup is back. Book a table today!"},
    ],
}


@pytest.fixture
def webhooks() -> WebhookUrls:
    base = "https://engine.example.net/webhooks/infobip/mms"
    return WebhookUrls(reports=f"{base}/reports", clicks=f"{base}/clicks", inbound=f"{base}/inbound")


@pytest.fixture
def make_message() -> MakeMessage:
    """`make_message(**wire_fields)`: an MMS OutboundMessage decoded from our wire format (camelCase), so the
    model's own rules apply; `content` defaults to the menu card."""
    ids = itertools.count(1)

    def make(**fields: Any) -> OutboundMessage:
        raw: dict[str, Any] = {
            "channel": "mms",
            "id": f"mms-{next(ids):04d}",
            "destination": "14155550123",
            "sender": "14155550100",
            "content": msgspec.json.decode(msgspec.json.encode(CONTENT)),  # a fresh copy
        }
        raw.update(fields)
        return msgspec.convert(raw, OutboundMessage)

    return make
