"""Demo messages (`sample_message`): a coffee roaster's order notices (AlimTalk) and its spring offer
(ChinguTalk)."""

from __future__ import annotations

from typing import Any

from .channels import ALIM

# A made-up KakaoTalk channel sender key (Kakao's keys are 40 hex digits).
SENDER_KEY = "5e1f0c2a9b7d4e3f8a6c1b0d2e4f6a8c9b7d5e3f"
TRACKING = {"urlOptions": {"shortenUrl": True, "trackClicks": True}}


def sample(channel: str, index: int, destination: str, with_link: bool) -> dict[str, Any]:
    # A Korean mobile number keeps the destination's last digits, which pick the simulator's outcome.
    message: dict[str, Any] = {
        "channel": channel,
        "destination": "8210" + destination[-8:],
        "sender": SENDER_KEY,
    }
    if channel == ALIM.name:
        message["content"] = _alim(index, with_link)
    else:
        message["content"] = _chingu(index, with_link)
        if with_link:  # only ChinguTalk shortens and tracks URLs
            message["options"] = dict(TRACKING)
    return message


def _alim(index: int, with_link: bool) -> dict[str, Any]:
    buttons: list[dict[str, Any]] = [{"type": "DELIVERY_TRACKING", "name": "배송 조회"}]
    if with_link:
        buttons.append(
            {"type": "URL", "name": "주문 상세", "urlMobile": f"https://m.lipa-coffee.example/orders/{index}"}
        )
    return {
        "templateCode": "ORDER_SHIPPED_01",
        "title": "배송 시작",
        "text": f"[리파 커피] 주문 {index}번이 발송되었습니다. 내일 도착 예정입니다.",
        "buttons": buttons,
        "smsFailover": {"text": f"[리파 커피] 주문 {index}번이 발송되었습니다.", "title": "배송 안내"},
    }


def _chingu(index: int, with_link: bool) -> dict[str, Any]:
    text = f"봄 시즌 원두 {index}종 20% 할인!"
    if with_link:
        text += f" https://lipa-coffee.example/spring/{index}"
    content: dict[str, Any] = {
        "text": text,
        "buttons": [
            {"type": "URL", "name": "할인 보기", "urlMobile": "https://m.lipa-coffee.example/spring"},
            {
                "type": "APP_LINK",
                "name": "앱 열기",
                "schemeAndroid": "lipacoffee://spring",
                "schemeIos": "lipacoffee://spring",
            },
        ],
    }
    if index % 2 == 0:
        content["image"] = {
            "url": "https://cdn.lipa-coffee.example/spring.jpg",
            "link": "https://lipa-coffee.example/spring",
        }
    return content
