"""Fixtures of the Kakao plugin's tests: messages as a host would send them, and the engine's webhook URLs."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from channel_engine import OutboundMessage, WebhookUrls

MakeMessage = Callable[..., OutboundMessage]

SENDER_KEY = "9c2d4e6f8a0b1c3d5e7f9a1b3c5d7e9f0a2b4c6d"

# The smallest good content of each channel; tests replace what they examine.
CONTENT = {
    "kakao-alim": {
        "templateCode": "TABLE_READY_01",
        "text": "[비스트로 리파] 예약하신 테이블이 준비되었습니다.",
    },
    "kakao-chingu": {"text": "[비스트로 리파] 이번 주 브런치 메뉴를 확인하세요."},
}


@pytest.fixture
def webhooks() -> WebhookUrls:
    base = "https://engine.example.net/webhooks/infobip/kakao"
    return WebhookUrls(reports=f"{base}/reports", clicks=f"{base}/clicks", inbound=f"{base}/inbound")


@pytest.fixture
def make_message() -> MakeMessage:
    """`make_message(channel="kakao-alim", **wire_fields)`: an OutboundMessage decoded from our wire format
    (camelCase), so the model's own rules apply; a Korean destination and a sender key by default."""
    ids = itertools.count(1)

    def make(channel: str = "kakao-alim", **fields: Any) -> OutboundMessage:
        raw: dict[str, Any] = {
            "channel": channel,
            "id": f"{channel}-{next(ids):04d}",
            "destination": "821012345678",
            "sender": SENDER_KEY,
            "content": copy.deepcopy(CONTENT.get(channel, {"text": "hi"})),
        }
        raw.update(fields)
        return msgspec.convert(raw, OutboundMessage)

    return make
