"""Demo messages (`sample_message`): a restaurant's spring menu as an MMS, a picture and a few lines."""

from __future__ import annotations

from typing import Any

TRACKING = {"urlOptions": {"shortenUrl": True, "trackClicks": True}}


def sample(channel: str, index: int, destination: str, with_link: bool) -> dict[str, Any]:
    text = f"Hi! Our spring menu {index} is here."
    if with_link:
        text += f" Book a table: https://bistro.example.com/book/{index}"
    message: dict[str, Any] = {
        "channel": channel,
        "destination": destination,
        "sender": "447491163443",
        "content": {
            "title": f"Spring menu {index}",
            "segments": [
                {"type": "image", "url": f"https://cdn.example.com/menus/spring-{index}.jpg"},
                {"type": "text", "text": text},
            ],
        },
    }
    if with_link:
        message["options"] = dict(TRACKING)
    return message
