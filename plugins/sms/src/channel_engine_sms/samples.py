"""Demo messages (`sample_message`): what a retailer's spring campaign looks like on SMS and LMS."""

from __future__ import annotations

from typing import Any

TRACKING = {"urlOptions": {"shortenUrl": True, "trackClicks": True}}


def sample(channel: str, index: int, destination: str, with_link: bool) -> dict[str, Any]:
    if with_link:
        text = f"Hi! Your spring offer {index} is ready: https://shop.example.com/offer/{index}"
    else:
        text = f"Hi! Order {index} has shipped."
    content: dict[str, Any] = {"text": text}
    if channel == "lms":
        # A Korean number keeps the destination's last three digits, which pick the simulator's outcome.
        destination = "8210" + destination[-8:]
        content |= {"title": f"봄 세일 {index}", "southKorea": {"resellerCode": 123456789}}
    message: dict[str, Any] = {
        "channel": channel,
        "destination": destination,
        "sender": "ChanEngine",
        "content": content,
    }
    if with_link:
        message["options"] = dict(TRACKING)
    return message
