"""Fixtures of the SMS plugin's tests: messages as a host would send them, and the engine's webhook URLs."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from channel_engine import OutboundMessage, WebhookUrls

MakeMessage = Callable[..., OutboundMessage]


@pytest.fixture
def webhooks() -> WebhookUrls:
    base = "https://engine.example.net/webhooks/infobip/sms"
    return WebhookUrls(reports=f"{base}/reports", clicks=f"{base}/clicks", inbound=f"{base}/inbound")


@pytest.fixture
def make_message() -> MakeMessage:
    """`make_message(channel="sms", **wire_fields)`: an OutboundMessage decoded from our wire format
    (camelCase), so the model's own rules apply. LMS messages get a title and reseller code by default."""
    ids = itertools.count(1)

    def make(channel: str = "sms", **fields: Any) -> OutboundMessage:
        raw: dict[str, Any] = {
            "channel": channel,
            "id": f"{channel}-{next(ids):04d}",
            "destination": "385981112233",
            "content": {"text": "Your table at Bistro Lipa is ready."},
        }
        if channel == "lms":
            raw["destination"] = "821012345678"
            raw["content"] = {
                "text": "이번 주 특가 안내: 모든 원두 20% 할인",
                "title": "주간 특가",
                "southKorea": {"resellerCode": 123456789},
            }
        raw.update(fields)
        return msgspec.convert(raw, OutboundMessage)

    return make
