"""The WhatsApp link footer of conversational campaigns: `content.whatsAppFooter` on sms and lms messages.

A marketing SMS can end with a line that sends the customer to a WhatsApp chat with the business (Salesforce's
"Run Conversational Campaigns for WhatsApp"): the link is shown as WhatsApp's own click-to-chat URL,
`https://wa.me/<country code and number>`, so the customer sees where it leads.

The footer is part of the text, not an extra field of Infobip's request: `message_text` is what the channel
counts parts of, checks the length of and sends as `content.text`. So the footer's characters count towards
the parts (a non-GSM-7 character in it makes the whole text UCS-2), and Infobip shortens and tracks the wa.me
link like any other URL of the text when the message's `urlOptions` ask for it.
"""

from __future__ import annotations

import re
from typing import Any

from channel_engine import Problem, problem
from channel_engine.checks import INTERNATIONAL_NUMBER

FOOTER_KEY = "whatsAppFooter"
FOOTER_KEYS = ("number", "text")
DEFAULT_FOOTER_TEXT = "Chat with us on WhatsApp:"
FOOTER_TEXT_MAX = 100  # characters: a footer is one short line, not a second message
WA_ME = "https://wa.me/"
NUMBER_REASON = "must be the WhatsApp number in international format, digits only (e.g. 14150000000)"

# What a reader or a link shortener takes for a link: a scheme, or a bare www. host.
_URL_IN_TEXT = re.compile(r"\bhttps?://|\bwww\.", re.IGNORECASE)


def whatsapp_link(number: str) -> str:
    """WhatsApp's click-to-chat URL for a number in international format (a leading '+' is dropped)."""
    return WA_ME + number.removeprefix("+")


def footer_line(footer: dict[str, Any]) -> str:
    """What a valid `whatsAppFooter` adds to the text: a new line, its text, a space and the wa.me link."""
    return f"\n{footer.get('text', DEFAULT_FOOTER_TEXT)} {whatsapp_link(footer['number'])}"


def message_text(content: dict[str, Any]) -> str:
    """The text an sms or lms message is sent with: `content.text`, plus the WhatsApp footer when the
    (validated) content has one."""
    footer = content.get(FOOTER_KEY)
    return str(content["text"]) + (footer_line(footer) if footer else "")


def check_footer(value: Any) -> list[Problem]:
    """Every problem of a given `content.whatsAppFooter`; [] when it can be appended."""
    path = f"$.content.{FOOTER_KEY}"
    if not isinstance(value, dict):
        return [
            problem(
                "invalid_field",
                path,
                f'content.{FOOTER_KEY} must be an object: {{"number": "14150000000", "text": "..."}}',
            )
        ]
    problems = [
        problem(
            "invalid_field",
            f"{path}.{key}",
            f"content.{FOOTER_KEY} has no field {key!r}; its fields are {', '.join(FOOTER_KEYS)}",
        )
        for key in value
        if key not in FOOTER_KEYS
    ]
    problems += _number(value.get("number"), f"{path}.number")
    if "text" in value:
        problems += _footer_text(value["text"], f"{path}.text")
    return problems


def _number(number: Any, path: str) -> list[Problem]:
    name = path.removeprefix("$.")
    if number is None:
        return [problem("missing_field", path, f"{name} is missing: it {NUMBER_REASON}")]
    if isinstance(number, str) and INTERNATIONAL_NUMBER.fullmatch(number):
        return []
    given = repr(number) if isinstance(number, str) else f"(a {type(number).__name__}, not a string)"
    return [
        problem(
            "invalid_field",
            path,
            f"{name} {given} {NUMBER_REASON}: 7 to 15 digits, country code first (no leading 0), "
            "no spaces or punctuation, an optional leading +",
        )
    ]


def _footer_text(text: Any, path: str) -> list[Problem]:
    name = path.removeprefix("$.")
    if not isinstance(text, str):
        return [problem("invalid_field", path, f"{name} must be a string, not {type(text).__name__}")]
    if not text.strip():
        return [
            problem(
                "invalid_field",
                path,
                f"{name} is blank: leave it out to use the default {DEFAULT_FOOTER_TEXT!r}",
            )
        ]
    if len(text) > FOOTER_TEXT_MAX:
        return [
            problem(
                "invalid_field",
                path,
                f"{name} must have at most {FOOTER_TEXT_MAX} characters (it has {len(text)})",
            )
        ]
    if _URL_IN_TEXT.search(text):
        return [
            problem(
                "invalid_field",
                path,
                f"{name} must not contain a URL: the footer's one link is the wa.me link it adds itself",
            )
        ]
    return []
