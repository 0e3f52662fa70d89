"""Checks an RCS message before the engine accepts it.

The message's `content` has a `type` (TEXT when left out) and that type's fields:

    {"type": "TEXT", "text": "Your table is ready", "suggestions": [...]}           # text: 1-3072
    {"type": "FILE", "fileUrl": "https://.../menu.pdf", "thumbnailUrl": "https://.../t.jpg",
     "suggestions": [...]}                                                            # thumbnail: videos
    {"type": "CARD", "orientation": "VERTICAL", "alignment": "LEFT", "card": {...}, "suggestions": [...]}
    {"type": "CAROUSEL", "cardWidth": "MEDIUM", "cards": [{...}, {...}], "suggestions": [...]}   # 2-10

Every type may also have:

    "suggestions": [...],                   # at most 11 on the message (4 on each card): suggestions.py
    "smsFailover": {"text": "...", "sender": "InfoSMS"},   # an SMS when RCS cannot deliver
    "campaignReferenceId": "autumn-menu"   # at most 255 characters

A card is `{"title", "description", "mediaUrl", "thumbnailUrl", "mediaHeight", "suggestions"}` (cards.py).
`orientation` (VERTICAL or HORIZONTAL) and `alignment` (LEFT or RIGHT, the image's side on a horizontal
card) default to VERTICAL and LEFT; `cardWidth` (SMALL or MEDIUM) to MEDIUM. Any key the type does not have
is refused, so a misspelt field never silently drops out of the request.

The shape is Infobip's `/rcs/2/messages` content, flattened where Infobip nests one value (`file.url` is
`fileUrl`, a card's `media.file.url` its `mediaUrl`); `payload.py` puts each value back where Infobip wants
it. Limits are the spec's. A problem names the JSON path in our wire format and carries the SFMC
messageStatus text of its code where the seeds have one (`channel_engine.problems`).
"""

from __future__ import annotations

from typing import Any

from channel_engine import OutboundMessage, Problem, problem
from channel_engine.checks import check_common, check_keys, check_text, check_url, check_validity_cap
from channel_engine.segments import count_segments

from .cards import MEDIA_URL_MAX, check_card
from .fields import check_choice
from .suggestions import check_suggestions

TEXT_MAX = 3072  # RcsOutboundTextContent.text maxLength
SUGGESTIONS_MAX = 11  # suggestions maxItems on every content type
CAROUSEL_MIN, CAROUSEL_MAX = 2, 10  # RcsOutboundCarouselContent.contents minItems / maxItems
CAMPAIGN_REFERENCE_MAX = 255  # options.campaignReferenceId maxLength
# The failover is an SMS: its text may have as many parts as one SMS can (the concatenation header counts
# them in one octet, 3GPP TS 23.040 9.2.3.24.1). A sender is alphanumeric (11 characters) or numeric (16).
FAILOVER_SEGMENTS_MAX = 255
FAILOVER_SENDER_ALPHA_MAX, FAILOVER_SENDER_NUMERIC_MAX = 11, 16

ORIENTATIONS = ("VERTICAL", "HORIZONTAL")
ALIGNMENTS = ("LEFT", "RIGHT")
CARD_WIDTHS = ("SMALL", "MEDIUM")
COMMON_KEYS = ("type", "suggestions", "smsFailover", "campaignReferenceId")
TYPE_KEYS: dict[str, tuple[str, ...]] = {
    "TEXT": ("text",),
    "FILE": ("fileUrl", "thumbnailUrl"),
    "CARD": ("orientation", "alignment", "card"),
    "CAROUSEL": ("cardWidth", "cards"),
}
TYPES = tuple(TYPE_KEYS)
FAILOVER_KEYS = ("text", "sender")


def validate(message: OutboundMessage) -> list[Problem]:
    """Every problem of an RCS message, in field order; [] when it may be sent."""
    problems = check_common(message)
    if message.sender is not None and not message.sender.strip():
        problems.append(
            problem(
                "invalid_field",
                "$.sender",
                "sender is blank: give your RCS sender (agent) name, or leave sender out",
            )
        )
    problems += _content(message.content)
    problems += check_validity_cap(message.options.validity_period, "an RCS message")
    return problems


def content_type(content: dict[str, Any]) -> str:
    return content.get("type", "TEXT")


def _content(content: dict[str, Any]) -> list[Problem]:
    kind = content_type(content)
    if kind not in TYPES:  # a tuple: an unhashable value is simply not in it
        return [
            problem(
                "invalid_field",
                "$.content.type",
                f"content.type {kind!r} is not one of {', '.join(TYPES)} (TEXT when left out)",
            )
        ]
    problems = [_misplaced(kind, key) for key in content if key not in COMMON_KEYS + TYPE_KEYS[kind]]
    problems += _BODY[kind](content)
    problems += check_suggestions(
        content.get("suggestions"), "$.content.suggestions", limit=SUGGESTIONS_MAX, where="an RCS message"
    )
    if "smsFailover" in content:
        problems += _sms_failover(content["smsFailover"])
    problems += check_text(
        content.get("campaignReferenceId"),
        "$.content.campaignReferenceId",
        limit=CAMPAIGN_REFERENCE_MAX,
        code="invalid_field",
        required=False,
    )
    return problems


def _misplaced(kind: str, key: str) -> Problem:
    owner = next((other for other, keys in TYPE_KEYS.items() if key in keys), None)
    if owner is not None:
        sentence = f"content.{key} belongs to type {owner}, and this content's type is {kind}"
    else:
        fields = ", ".join(COMMON_KEYS + TYPE_KEYS[kind])
        sentence = f"content has no field {key!r} on an RCS {kind} message; its fields are {fields}"
    return problem("invalid_field", f"$.content.{key}", sentence)


def _text(content: dict[str, Any]) -> list[Problem]:
    return check_text(content.get("text"), "$.content.text", limit=TEXT_MAX, what="content.text")


def _file(content: dict[str, Any]) -> list[Problem]:
    problems = check_url(
        content.get("fileUrl"), "$.content.fileUrl", limit=MEDIA_URL_MAX, what="content.fileUrl"
    )
    problems += check_url(
        content.get("thumbnailUrl"),
        "$.content.thumbnailUrl",
        limit=MEDIA_URL_MAX,
        required=False,
        what="content.thumbnailUrl",
    )
    return problems


def _card(content: dict[str, Any]) -> list[Problem]:
    problems = _choice(content, "orientation", ORIENTATIONS) + _choice(content, "alignment", ALIGNMENTS)
    if "card" not in content:
        sentence = "an RCS CARD message needs its card: {title, mediaUrl, ...}"
        problems.append(problem("missing_field", "$.content.card", sentence))
    else:
        problems += check_card(content["card"], "$.content.card")
    return problems


def _carousel(content: dict[str, Any]) -> list[Problem]:
    problems = _choice(content, "cardWidth", CARD_WIDTHS)
    cards = content.get("cards")
    path = "$.content.cards"
    if cards is None:
        sentence = f"an RCS CAROUSEL needs its cards: {CAROUSEL_MIN} to {CAROUSEL_MAX}"
        problems.append(problem("missing_field", path, sentence))
    elif not isinstance(cards, list):
        problems.append(problem("invalid_field", path, "content.cards must be a list of cards"))
    else:
        if not CAROUSEL_MIN <= len(cards) <= CAROUSEL_MAX:
            sentence = f"a carousel has {CAROUSEL_MIN} to {CAROUSEL_MAX} cards; this one has {len(cards)}"
            problems.append(problem("invalid_field", path, sentence))
        for i, card in enumerate(cards):
            problems += check_card(card, f"{path}[{i}]")
    return problems


_BODY = {"TEXT": _text, "FILE": _file, "CARD": _card, "CAROUSEL": _carousel}


def _choice(content: dict[str, Any], key: str, allowed: tuple[str, ...]) -> list[Problem]:
    return check_choice(content.get(key), f"$.content.{key}", allowed, f"content.{key}")


def _sms_failover(value: Any) -> list[Problem]:
    path = "$.content.smsFailover"
    if not isinstance(value, dict):
        return [
            problem(
                "invalid_field", path, 'content.smsFailover must be an object: {"text": ..., "sender": ...}'
            )
        ]
    problems = check_keys(value, FAILOVER_KEYS, path, "content.smsFailover")
    problems += _failover_text(value.get("text"), f"{path}.text")
    sender = value.get("sender")
    if sender is not None and not _sms_sender_ok(sender):
        problems.append(
            problem(
                "invalid_field",
                f"{path}.sender",
                f"the failover SMS's sender {sender!r} is neither alphanumeric (1 to "
                f"{FAILOVER_SENDER_ALPHA_MAX} characters) nor a number of at most "
                f"{FAILOVER_SENDER_NUMERIC_MAX} digits",
            )
        )
    return problems


def _failover_text(text: Any, path: str) -> list[Problem]:
    if text is not None and not isinstance(text, str):
        return [
            problem("invalid_field", path, f"the failover SMS's text must be text, not {type(text).__name__}")
        ]
    if text is None or not text.strip():
        return [
            problem("invalid_text_length", path, "the failover SMS needs a text of at least one character")
        ]
    parts = count_segments(text).segments
    if parts > FAILOVER_SEGMENTS_MAX:
        return [
            problem(
                "invalid_text_length",
                path,
                f"the failover SMS's text needs {parts} SMS parts; one SMS can have at most "
                f"{FAILOVER_SEGMENTS_MAX}",
            )
        ]
    return []


def _sms_sender_ok(sender: Any) -> bool:
    if not isinstance(sender, str) or not sender.strip():
        return False
    digits = sender.removeprefix("+")
    if digits.isascii() and digits.isdigit():
        return len(digits) <= FAILOVER_SENDER_NUMERIC_MAX
    return len(sender) <= FAILOVER_SENDER_ALPHA_MAX and "\n" not in sender
