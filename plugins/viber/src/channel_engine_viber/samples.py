"""Demo messages (`sample_message`): a bistro's spring menu on Viber, as a text with a button or an image."""

from __future__ import annotations

from typing import Any

TRACKING = {"urlOptions": {"shortenUrl": True, "trackClicks": True}}


def sample(channel: str, index: int, destination: str, with_link: bool) -> dict[str, Any]:
    if with_link:
        text = f"Spring menu {index} is here: https://bistro.example.com/menu/{index}"
    else:
        text = f"Your table for order {index} is booked. See you tonight!"
    content: dict[str, Any] = {
        "text": text,
        "button": {"title": "Book a table", "url": f"https://bistro.example.com/book?ref={index}"},
        "label": "PROMOTIONAL" if with_link else "TRANSACTIONAL",
        "trackingData": f"demo-{index}",
    }
    if index % 2:  # every other message shows the dish
        content["imageUrl"] = f"https://bistro.example.com/img/dish-{index}.jpg"
    message: dict[str, Any] = {
        "channel": channel,
        "destination": destination,
        "sender": "BistroLipa",
        "content": content,
    }
    if with_link:
        message["options"] = dict(TRACKING)
    return message
