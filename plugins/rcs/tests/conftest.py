"""Fixtures of the RCS plugin's tests: messages as a host would send them, and the engine's webhook URLs."""

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
    base = "https://engine.example.net/webhooks/infobip/rcs"
    return WebhookUrls(reports=f"{base}/reports", clicks=f"{base}/clicks", inbound=f"{base}/inbound")


@pytest.fixture
def make_message() -> MakeMessage:
    """`make_message(**wire_fields)`: an rcs OutboundMessage decoded from our wire format (camelCase), so
    the model's own rules apply. By default a plain TEXT message from the BistroLipa agent."""
    ids = itertools.count(1)

    def make(**fields: Any) -> OutboundMessage:
        raw: dict[str, Any] = {
            "channel": "rcs",
            "id": f"rcs-{next(ids):04d}",
            "destination": "385981112233",
            "sender": "BistroLipa",
            "content": {"text": "Your table at Bistro Lipa is ready."},
        }
        raw.update(fields)
        return msgspec.convert(raw, OutboundMessage)

    return make
