"""Rich cards, alone (type CARD) or in a carousel: checked and built.

Our card is Infobip's `CardContent` with its media flattened into form-friendly fields:

    {"title": "Autumn menu", "description": "Five courses ...", "mediaUrl": "https://.../menu.jpg",
     "thumbnailUrl": "https://.../menu-thumb.jpg", "mediaHeight": "MEDIUM", "suggestions": [...]}

A card needs a title or a mediaUrl (Infobip: "Must contain media or title to be valid").
"""

from __future__ import annotations

from typing import Any

from channel_engine import Problem, problem
from channel_engine.checks import check_keys, check_url

from .fields import Text, check_choice, check_texts
from .suggestions import check_suggestions, suggestions_payload

TITLE_MAX = 200  # CardContent.title maxLength
DESCRIPTION_MAX = 2000  # CardContent.description maxLength
MEDIA_URL_MAX = 2048  # CardResourceSchema.url and Resource.url maxLength
SUGGESTIONS_MAX = 4  # CardContent.suggestions maxItems
HEIGHTS = ("SHORT", "MEDIUM", "TALL")
DEFAULT_HEIGHT = "MEDIUM"  # Infobip requires a height with media; ours may leave it out
CARD_TEXTS = (
    Text("title", TITLE_MAX, "the card's title", code="invalid_title_length"),
    Text("description", DESCRIPTION_MAX, "the card's description", code="invalid_text_length"),
)
CARD_KEYS = ("title", "description", "mediaUrl", "thumbnailUrl", "mediaHeight", "suggestions")


def check_card(card: Any, path: str) -> list[Problem]:
    if not isinstance(card, dict):
        return [problem("invalid_field", path, "a card must be an object with a title or a mediaUrl")]
    problems = check_keys(card, CARD_KEYS, path, "a card")
    problems += check_texts(card, path, CARD_TEXTS)
    if card.get("title") is None and card.get("mediaUrl") is None:
        problems.append(problem("missing_field", path, "a card needs a title or a mediaUrl (or both)"))
    for key in ("mediaUrl", "thumbnailUrl"):
        what = f"the card's {key}"
        problems += check_url(card.get(key), f"{path}.{key}", limit=MEDIA_URL_MAX, required=False, what=what)
    for key in ("thumbnailUrl", "mediaHeight"):
        if key in card and card.get("mediaUrl") is None:
            sentence = f"{key} describes the card's media: it needs a mediaUrl"
            problems.append(problem("invalid_field", f"{path}.{key}", sentence))
    problems += check_choice(card.get("mediaHeight"), f"{path}.mediaHeight", HEIGHTS, "mediaHeight")
    problems += check_suggestions(
        card.get("suggestions"), f"{path}.suggestions", limit=SUGGESTIONS_MAX, where="a card"
    )
    return problems


def card_payload(card: dict[str, Any]) -> dict[str, Any]:
    """Infobip's `CardContent` for a valid card of ours."""
    out: dict[str, Any] = {key: card[key] for key in ("title", "description") if key in card}
    if "mediaUrl" in card:
        media: dict[str, Any] = {"file": {"url": card["mediaUrl"]}}
        if "thumbnailUrl" in card:
            media["thumbnail"] = {"url": card["thumbnailUrl"]}
        media["height"] = card.get("mediaHeight", DEFAULT_HEIGHT)
        out["media"] = media
    if card.get("suggestions"):
        out["suggestions"] = suggestions_payload(card["suggestions"])
    return out
