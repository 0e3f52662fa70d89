"""The simulator's `/rcs/2/messages`: the core's new-gen endpoint, taught what is RCS's own.

The core's `NewGenEndpoint("/rcs/2/messages", "rcs")` already reads the envelope, sends seen reports to
`webhooks.seen.url` and renders RCS's inbound shape (`sender` is the end user). This subclass adds:

- Infobip's RCS refusals: an unknown content type, a blank text, a card with neither title nor media, a
  carousel of fewer than 2 or more than 10 cards, too many suggestions, and `messageOrdering.respectOrder`
  (true by default) on messages that go to different destinations or senders.
- The links a user can click: the text, card titles and descriptions and every OPEN_URL suggestion's URL,
  so tracked messages of any type (destinations ending 997) get their click notifications.
- Delivery reports as RCS writes them: `interactionType`, `price.trafficType`, `conversation`, and `channel`
  ("RCS") when the message had an SMS failover.

It is imported when the simulator asks, not when the plugin loads, so the engine starts without the
simulator's code.
"""

from __future__ import annotations

from typing import Any

from channel_engine.simulator import NewGenEndpoint, Outcome, RequestViolation, SimulatedSend

from .channels import NAME, SEND_PATH
from .suggestions import urls

CONTENT_TYPES = ("TEXT", "FILE", "CARD", "CAROUSEL", "PROVIDER_TEMPLATE")
TEXT_MAX, SUGGESTIONS_MAX, CARD_SUGGESTIONS_MAX, CAROUSEL_MIN, CAROUSEL_MAX = 3072, 11, 4, 2, 10
BASIC_TEXT_MAX = 160  # a longer text, or one with suggestions, is a rich message
TRAFFIC_TYPES = {
    "BASIC_MESSAGE": "BASIC",
    "SINGLE_MESSAGE": "SINGLE",
    "RICH_MESSAGE": "RICH",
    "RICH_MEDIA_MESSAGE": "RICH_MEDIA",
}


class RcsSend(SimulatedSend, kw_only=True):
    interaction_type: str = "BASIC_MESSAGE"
    failover: bool = False


def endpoints() -> list[RcsEndpoint]:
    return [RcsEndpoint()]


class RcsEndpoint(NewGenEndpoint):
    def __init__(self) -> None:
        super().__init__(path=SEND_PATH, channel=NAME)

    def __repr__(self) -> str:
        return f"RcsEndpoint({self.path!r})"

    def parse(self, body: dict[str, Any]) -> list[SimulatedSend]:
        sends = super().parse(body)  # the envelope: raises on anything malformed there
        violations = _ordering(body)
        messages = body["messages"]
        for i, message in enumerate(messages):
            violations += _content(f"messages[{i}].content", message["content"])
        if violations:
            raise RequestViolation(violations)
        owners = [message for message in messages for _ in message["destinations"]]
        return [_rcs_send(send, message) for send, message in zip(sends, owners, strict=True)]

    def delivery_report(
        self, send: SimulatedSend, outcome: Outcome, sent_at: str, done_at: str
    ) -> dict[str, Any]:
        entry = super().delivery_report(send, outcome, sent_at, done_at)
        interaction = getattr(send, "interaction_type", "BASIC_MESSAGE")
        if entry["price"]["pricePerMessage"]:  # "null for not chargeable RCS messages"
            entry["price"] = {"trafficType": TRAFFIC_TYPES[interaction], **entry["price"]}
        if getattr(send, "failover", False):
            entry["channel"] = "RCS"
        entry["conversation"] = {"canInitiate": True}
        entry["interactionType"] = interaction
        return entry


def _rcs_send(send: SimulatedSend, message: dict[str, Any]) -> RcsSend:
    content = message["content"]
    options = message.get("options") if isinstance(message.get("options"), dict) else {}
    fields = {name: getattr(send, name) for name in send.__struct_fields__}
    fields["text"] = "\n".join(_clickable(content)) or None
    return RcsSend(**fields, interaction_type=_interaction(content), failover="smsFailover" in options)


def _clickable(content: dict[str, Any]) -> list[str]:
    """The text a user sees and the URLs of its OPEN_URL suggestions, where tracked links can be."""
    cards = content.get("contents") if content.get("type") == "CAROUSEL" else [content.get("content")]
    parts = [content["text"]] if isinstance(content.get("text"), str) else []
    for card in cards or ():
        if isinstance(card, dict):
            parts += [card[key] for key in ("title", "description") if isinstance(card.get(key), str)]
            parts += urls(card.get("suggestions"))
    return parts + urls(content.get("suggestions"))


def _interaction(content: dict[str, Any]) -> str:
    if content.get("type") != "TEXT":
        return "RICH_MEDIA_MESSAGE"
    if content.get("suggestions") or len(content.get("text", "")) > BASIC_TEXT_MAX:
        return "RICH_MESSAGE"
    return "BASIC_MESSAGE"


def _ordering(body: dict[str, Any]) -> list[tuple[str, str]]:
    """Infobip keeps messages in order unless told not to, and then they must share sender and
    destinations."""
    messages = body["messages"]
    options = body.get("options") if isinstance(body.get("options"), dict) else {}
    ordering = options.get("messageOrdering") if isinstance(options.get("messageOrdering"), dict) else {}
    if len(messages) < 2 or ordering.get("respectOrder", True) is False:
        return []
    if len(messages) > CAROUSEL_MAX:
        return [("messages", "size must be between 2 and 10 when messageOrdering.respectOrder is true")]
    first = messages[0]
    if any(
        m.get("sender") != first.get("sender") or m.get("destinations") != first.get("destinations")
        for m in messages[1:]
    ):
        return [
            (
                "messages",
                "must have the same sender and destinations when messageOrdering.respectOrder is true",
            )
        ]
    return []


def _content(at: str, content: dict[str, Any]) -> list[tuple[str, str]]:
    kind = content.get("type")
    if kind not in CONTENT_TYPES:
        return [(f"{at}.type", f"must be one of {', '.join(CONTENT_TYPES)}")]
    found = _suggestions(f"{at}.suggestions", content.get("suggestions"), SUGGESTIONS_MAX)
    if kind == "TEXT":
        text = content.get("text")
        if not isinstance(text, str) or not text.strip():
            found.append((f"{at}.text", "must not be blank"))
        elif len(text) > TEXT_MAX:
            found.append((f"{at}.text", f"size must be between 0 and {TEXT_MAX}"))
    elif kind == "FILE":
        if not isinstance(content.get("file"), dict) or not content["file"].get("url"):
            found.append((f"{at}.file.url", "must not be blank"))
    elif kind == "CARD":
        found += [
            (f"{at}.{key}", "must not be null") for key in ("orientation", "alignment") if key not in content
        ]
        found += _card(f"{at}.content", content.get("content"))
    elif kind == "CAROUSEL":
        cards = content.get("contents")
        if "cardWidth" not in content:
            found.append((f"{at}.cardWidth", "must not be null"))
        if not isinstance(cards, list) or not CAROUSEL_MIN <= len(cards) <= CAROUSEL_MAX:
            found.append((f"{at}.contents", f"size must be between {CAROUSEL_MIN} and {CAROUSEL_MAX}"))
        else:
            for j, card in enumerate(cards):
                found += _card(f"{at}.contents[{j}]", card)
    return found


def _card(at: str, card: Any) -> list[tuple[str, str]]:
    if not isinstance(card, dict):
        return [(at, "must not be null")]
    found = _suggestions(f"{at}.suggestions", card.get("suggestions"), CARD_SUGGESTIONS_MAX)
    if not card.get("title") and not isinstance(card.get("media"), dict):
        found.append((at, "must contain media or title"))
    return found


def _suggestions(at: str, items: Any, limit: int) -> list[tuple[str, str]]:
    if items is not None and (not isinstance(items, list) or len(items) > limit):
        return [(at, f"size must be between 0 and {limit}")]
    return []
