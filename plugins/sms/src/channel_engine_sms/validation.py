"""Checks an SMS or LMS message before the engine accepts it.

The message's `content` for these channels (every key but `text` is optional, except as noted):

    {
      "text": "Your code is 1234",          # required: not blank, at most MAX_SEGMENTS SMS parts
      "title": "Weekly offer",              # lms only, and required there: 1-66 characters
      "southKorea": {"resellerCode": 123456789},   # lms: required; sms: optional (int, or its digits)
      "indiaDlt": {                         # India local traffic (DLT registration)
        "principalEntityId": "1201159...",  #   required when indiaDlt is given
        "contentTemplateId": "1207161...",  #   optional
        "telemarketerId": "1702..."         #   optional
      },
      "transliteration": "TURKISH",         # one of TRANSLITERATIONS
      "language": {"languageCode": "TR", "singleShift": false, "lockingShift": false},
      "campaignReferenceId": "summer-2025", # <= 255 characters, shown in Infobip's campaign analytics
      "whatsAppFooter": {                   # conversational campaigns: a link to a WhatsApp chat (footer.py)
        "number": "14150000000",            #   required: international format, digits, an optional +
        "text": "Questions? Chat with us on WhatsApp:"   # optional, <= 100 characters, no URL
      }
    }

`whatsAppFooter` (conversational campaigns) ends the SMS with a line that opens a WhatsApp chat with the
business: after a line break the text gets `<footer text> https://wa.me/<number>`, the footer text being
"Chat with us on WhatsApp:" unless given. The footer is counted and sent as part of the text: its
characters count towards the 255 parts (a text that only fits without it is refused at `$.content.text`,
saying so), one non-GSM-7 character in it makes the whole message UCS-2, and with `options.urlOptions`
Infobip shortens and tracks the wa.me link like any other URL of the text.

Any other key is refused, so a misspelt field never silently drops out of the request. The shape is
flattened from Infobip's `content` and `options.regional` of `/sms/3/messages`; `payload.py` puts each key
back where Infobip wants it.

A problem names the JSON path in our wire format and carries the SFMC messageStatus text of its code where
the seeds have one (`channel_engine.problems`).
"""

from __future__ import annotations

import re
from typing import Any

from channel_engine import OutboundMessage, Problem, problem
from channel_engine.checks import (
    check_callback_data,
    check_destination,
    check_reseller_code,
    check_url_options,
    check_validity,
)
from channel_engine.segments import count_segments, is_gsm7

from .footer import FOOTER_KEY, check_footer, footer_line

# No Infobip spec sets a maxLength on `text`, and Infobip splits long texts itself. The hard ceiling is the
# concatenation header (3GPP TS 23.040 §9.2.3.24.1): it counts parts in one octet, so no SMS can have more
# than 255 parts (39,015 GSM-7 or 17,085 UCS-2 characters). Anything longer can never arrive as one
# message; a lower, cost-driven limit is the sending platform's decision, not the channel's.
MAX_SEGMENTS = 255
LMS_TITLE_MAX = 66  # options.regional.southKorea.title maxLength in the spec
CAMPAIGN_REFERENCE_MAX = 255  # options.campaignReferenceId maxLength in the spec
# Alphanumeric sender IDs travel as GSM-7 packed into the 10-octet TP-OA field (TS 23.040 §9.1.2.5): 11
# characters. Numeric senders (long numbers and short codes) may have up to 16 digits.
SENDER_ALPHA_MAX = 11
SENDER_NUMERIC_MAX = 16
RESELLER_CODE_MISSING = (
    "content.southKorea.resellerCode is missing: Infobip requires the reseller code to send an LMS to "
    "phone numbers registered in South Korea"
)

TRANSLITERATIONS = frozenset(
    {
        "NONE", "TURKISH", "GREEK", "CYRILLIC", "SERBIAN_CYRILLIC", "CENTRAL_EUROPEAN", "BALTIC",
        "NON_UNICODE", "PORTUGUESE", "COLOMBIAN", "BULGARIAN_CYRILLIC", "ALL",
    }
)  # fmt: skip
LANGUAGE_CODES = frozenset({"NONE", "TR", "ES", "PT", "AUTODETECT"})

_OPTIONAL_KEYS = ("southKorea", "indiaDlt", "transliteration", "language", "campaignReferenceId", FOOTER_KEY)
CONTENT_KEYS = {"sms": ("text", *_OPTIONAL_KEYS), "lms": ("text", "title", *_OPTIONAL_KEYS)}
INDIA_DLT_KEYS = ("principalEntityId", "contentTemplateId", "telemarketerId")
LANGUAGE_KEYS = ("languageCode", "singleShift", "lockingShift")

NUMERIC_SENDER = re.compile(rf"\+?[0-9]{{1,{SENDER_NUMERIC_MAX}}}")
# The usual alphanumeric sender (letters, digits, spaces, at least one letter): valid without the checks
# below, which every message of a campaign would otherwise repeat.
PLAIN_SENDER = re.compile(rf"(?=[ 0-9]*[A-Za-z])[A-Za-z0-9 ]{{1,{SENDER_ALPHA_MAX}}}")


def validate(message: OutboundMessage) -> list[Problem]:
    """Every problem of an sms or lms message, in field order; [] when it may be sent."""
    problems = check_destination(message.destination)
    problems += _sender(message.sender)
    problems += _content(message.channel, message.content)
    problems += check_url_options(message)
    problems += check_callback_data(message)
    problems += check_validity(message)
    return problems


def _sender(sender: str | None) -> list[Problem]:
    if sender is None:
        return []
    path = "$.sender"
    if PLAIN_SENDER.fullmatch(sender) or NUMERIC_SENDER.fullmatch(sender):
        return []
    if sender.lstrip("+").isascii() and sender.lstrip("+").isdigit():
        reason = f"a numeric sender has at most {SENDER_NUMERIC_MAX} digits"
    elif not sender.strip():
        reason = "it is blank; leave sender out to use the account's default sender"
    elif not is_gsm7(sender) or any(ch in "\n\r\x0c" for ch in sender):
        reason = "an alphanumeric sender may only use characters of the GSM 7-bit alphabet, on one line"
    elif count_segments(sender).units > SENDER_ALPHA_MAX:  # septets: an extension character takes two
        reason = f"an alphanumeric sender has at most {SENDER_ALPHA_MAX} characters"
    elif not any(ch.isalnum() for ch in sender):
        reason = "it has no letter or digit"
    else:
        return []
    return [problem("invalid_sender", path, f"sender {sender!r} is not valid: {reason}")]


def _content(channel: str, content: dict[str, Any]) -> list[Problem]:
    known = CONTENT_KEYS[channel]
    problems = [
        problem("invalid_field", f"$.content.{key}", _unknown_key_sentence(channel, key, known))
        for key in content
        if key not in known
    ]
    footer = content.get(FOOTER_KEY)
    footer_problems = check_footer(footer) if FOOTER_KEY in content else []
    # The footer is sent as part of the text, so the length check counts it (when it can be built).
    problems += _text(content.get("text"), footer_line(footer) if footer and not footer_problems else "")
    if channel == "lms":
        problems += _title(content.get("title"))
    problems += _south_korea(channel, content.get("southKorea"))
    if "indiaDlt" in content:
        problems += _india_dlt(content["indiaDlt"])
    if "transliteration" in content and content["transliteration"] not in TRANSLITERATIONS:
        problems.append(
            problem(
                "invalid_field",
                "$.content.transliteration",
                f"transliteration {content['transliteration']!r} is not one of {_listing(TRANSLITERATIONS)}",
            )
        )
    if "language" in content:
        problems += _language(content["language"])
    if "campaignReferenceId" in content:
        ref = content["campaignReferenceId"]
        if not isinstance(ref, str) or not ref or len(ref) > CAMPAIGN_REFERENCE_MAX:
            problems.append(
                problem(
                    "invalid_field",
                    "$.content.campaignReferenceId",
                    f"campaignReferenceId must be text of 1 to {CAMPAIGN_REFERENCE_MAX} characters",
                )
            )
    problems += footer_problems
    return problems


def _unknown_key_sentence(channel: str, key: str, known: tuple[str, ...]) -> str:
    if key == "title" and channel == "sms":
        return "content.title is for the lms channel only: send a titled Korean long SMS as channel lms"
    return f"content has no field {key!r} on the {channel} channel; its fields are {', '.join(known)}"


def _text(text: Any, footer: str = "") -> list[Problem]:
    """`footer` is what `whatsAppFooter` appends to the text ("" without one)."""
    path = "$.content.text"
    if text is None:
        return [problem("invalid_text_length", path, "content.text is missing: an SMS needs a text")]
    if not isinstance(text, str):
        return [problem("invalid_field", path, f"content.text must be a string, not {type(text).__name__}")]
    if not text.strip():
        return [
            problem("invalid_text_length", path, "content.text is empty: an SMS needs at least one character")
        ]
    count = count_segments(text + footer)
    if count.segments <= MAX_SEGMENTS:
        return []
    needs = f"content.text needs {count.segments} SMS parts ({count.units} {count.encoding} units)"
    if footer:
        needs = (
            f"content.text with its WhatsApp footer needs {count.segments} SMS parts ({count.units} "
            f"{count.encoding} units; the footer counts: content.{FOOTER_KEY} adds {len(footer)} characters "
            "to the text)"
        )
    return [problem("invalid_text_length", path, f"{needs}; one SMS can have at most {MAX_SEGMENTS} parts")]


def _title(title: Any) -> list[Problem]:
    path = "$.content.title"
    if title is None:
        return [
            problem("missing_field", path, "content.title is missing: an LMS needs a title (1-66 characters)")
        ]
    if not isinstance(title, str) or not title.strip() or len(title) > LMS_TITLE_MAX:
        length = len(title) if isinstance(title, str) else type(title).__name__
        return [
            problem(
                "invalid_title_length",
                path,
                f"content.title must have 1 to {LMS_TITLE_MAX} characters (it has {length})",
            )
        ]
    return []


def _south_korea(channel: str, value: Any) -> list[Problem]:
    path = "$.content.southKorea"
    if value is None:
        if channel == "lms":
            return [
                problem(
                    "missing_field",
                    f"{path}.resellerCode",
                    RESELLER_CODE_MISSING,
                )
            ]
        return []
    if not isinstance(value, dict):
        return [problem("invalid_field", path, 'content.southKorea must be an object: {"resellerCode": ...}')]
    problems = [
        problem(
            "invalid_field", f"{path}.{key}", f"content.southKorea has no field {key!r}; it has resellerCode"
        )
        for key in value
        if key != "resellerCode"
    ]
    code = value.get("resellerCode")
    if code is None and channel == "lms":
        problems.append(problem("missing_field", f"{path}.resellerCode", RESELLER_CODE_MISSING))
    problems += check_reseller_code(code, f"{path}.resellerCode")
    return problems


def _india_dlt(value: Any) -> list[Problem]:
    path = "$.content.indiaDlt"
    if not isinstance(value, dict):
        return [problem("invalid_field", path, "content.indiaDlt must be an object with principalEntityId")]
    problems = [
        problem(
            "invalid_field",
            f"{path}.{key}",
            f"content.indiaDlt has no field {key!r}; its fields are {', '.join(INDIA_DLT_KEYS)}",
        )
        for key in value
        if key not in INDIA_DLT_KEYS
    ]
    if value.get("principalEntityId") is None:
        problems.append(
            problem(
                "missing_field",
                f"{path}.principalEntityId",
                "content.indiaDlt.principalEntityId is missing: DLT traffic to India needs your principal "
                "entity ID",
            )
        )
    for key in INDIA_DLT_KEYS:
        item = value.get(key)
        if item is not None and (not isinstance(item, str) or not item.strip()):
            problems.append(
                problem(
                    "invalid_field", f"{path}.{key}", f"content.indiaDlt.{key} must be a non-empty string"
                )
            )
    return problems


def _language(value: Any) -> list[Problem]:
    path = "$.content.language"
    if not isinstance(value, dict):
        return [problem("invalid_field", path, 'content.language must be an object: {"languageCode": ...}')]
    problems = []
    for key, item in value.items():
        if key == "languageCode":
            if item not in LANGUAGE_CODES:
                problems.append(
                    problem(
                        "invalid_field",
                        f"{path}.languageCode",
                        f"content.language.languageCode {item!r} is not one of {_listing(LANGUAGE_CODES)}",
                    )
                )
        elif key in LANGUAGE_KEYS:
            if not isinstance(item, bool):
                problems.append(
                    problem("invalid_field", f"{path}.{key}", f"content.language.{key} must be true or false")
                )
        else:
            problems.append(
                problem(
                    "invalid_field",
                    f"{path}.{key}",
                    f"content.language has no field {key!r}; its fields are {', '.join(LANGUAGE_KEYS)}",
                )
            )
    return problems


def _listing(values: frozenset[str]) -> str:
    return ", ".join(sorted(values))
