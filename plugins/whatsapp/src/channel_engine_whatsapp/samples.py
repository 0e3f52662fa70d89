"""Demo messages (`sample_message`): a retailer's spring campaign on WhatsApp, as approved templates (a
campaign reaches people outside the 24-hour window, so it cannot be free-form)."""

from __future__ import annotations

from typing import Any

SENDER = "441134960000"  # a number from Ofcom's range reserved for drama: it reaches no one
TRACKING = {"urlOptions": {"shortenUrl": True, "trackClicks": True}}


def sample(channel: str, index: int, destination: str, with_link: bool) -> dict[str, Any]:
    if with_link:
        content: dict[str, Any] = {
            "type": "TEMPLATE",
            "templateName": "spring_offer",
            "language": "en_GB",
            "header": {"type": "IMAGE", "mediaUrl": f"https://shop.example.com/img/spring-{index}.jpg"},
            "placeholders": [f"offer {index}", f"https://shop.example.com/offer/{index}"],
            "buttons": [{"type": "QUICK_REPLY", "parameter": "stop-promotions"}],
        }
    else:
        content = {
            "type": "TEMPLATE",
            "templateName": "order_shipped",
            "language": "en_GB",
            "placeholders": [f"{index}"],
            "buttons": [{"type": "URL", "parameter": f"track/{index}"}],
        }
    message: dict[str, Any] = {
        "channel": channel,
        "destination": destination,
        "sender": SENDER,
        "content": content,
    }
    if with_link:
        message["options"] = dict(TRACKING)
    return message
