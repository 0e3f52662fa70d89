"""Demo messages (`sample_message`): a bistro's autumn campaign on RCS, one content type after another."""

from __future__ import annotations

from typing import Any

SHOP = "https://bistro-lipa.example"
TRACKING = {"urlOptions": {"shortenUrl": True, "trackClicks": True}}
REPLIES = [
    {"type": "REPLY", "text": "Book a table", "postbackData": "book"},
    {"type": "REPLY", "text": "Not now", "postbackData": "later"},
]
CALL = {"type": "DIAL_PHONE", "text": "Call us", "phoneNumber": "+385981112233"}
FIND_US = {
    "type": "SHOW_LOCATION",
    "text": "Find us",
    "latitude": 45.8131,
    "longitude": 15.9775,
    "label": "Bistro Lipa",
}


def sample(channel: str, index: int, destination: str, with_link: bool) -> dict[str, Any]:
    content = (_text, _card, _carousel)[index % 3](index, with_link)
    message: dict[str, Any] = {
        "channel": channel,
        "destination": destination,
        "sender": "BistroLipa",
        "content": content,
    }
    if with_link:
        message["options"] = dict(TRACKING)
    return message


def _open(text: str, url: str) -> dict[str, Any]:
    return {"type": "OPEN_URL", "text": text, "url": url}


def _text(index: int, with_link: bool) -> dict[str, Any]:
    text = f"Hi! Your autumn table offer {index} is ready."
    suggestions = list(REPLIES)
    if with_link:
        text += f" Menu: {SHOP}/menu/{index}"
        suggestions.append(_open("See the menu", f"{SHOP}/menu/{index}"))
    return {"type": "TEXT", "text": text, "suggestions": suggestions}


def _card(index: int, with_link: bool) -> dict[str, Any]:
    card: dict[str, Any] = {
        "title": f"Autumn tasting menu {index}",
        "description": "Five courses of truffles, chestnuts and pumpkin, paired with Croatian wines.",
        "mediaUrl": f"{SHOP}/img/autumn-{index}.jpg",
        "mediaHeight": "MEDIUM",
        "suggestions": [REPLIES[0], CALL],
    }
    if with_link:
        card["suggestions"].append(_open("Full menu", f"{SHOP}/tasting/{index}"))
    return {"type": "CARD", "orientation": "VERTICAL", "card": card, "suggestions": [FIND_US]}


def _carousel(index: int, with_link: bool) -> dict[str, Any]:
    dishes = ("Truffle pasta", "Chestnut soup", "Pumpkin risotto")
    cards = []
    for n, dish in enumerate(dishes):
        card: dict[str, Any] = {
            "title": dish,
            "description": f"Chef's pick {index}.{n + 1}",
            "mediaUrl": f"{SHOP}/img/dish-{n + 1}.jpg",
            "suggestions": [{"type": "REPLY", "text": "Reserve this", "postbackData": f"dish={n + 1}"}],
        }
        if with_link:
            card["suggestions"].append(_open("Recipe", f"{SHOP}/recipes/{n + 1}"))
        cards.append(card)
    return {"type": "CAROUSEL", "cardWidth": "MEDIUM", "cards": cards, "suggestions": [REPLIES[0]]}
