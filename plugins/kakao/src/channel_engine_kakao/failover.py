"""SMS failover (`content.smsFailover`): the SMS Infobip sends when the Kakao message cannot be delivered.

    "smsFailover": {
      "text": "Your order has shipped: ...",      # required: not blank, at most MAX_SEGMENTS SMS parts
      "sender": "BistroLipa",                     # optional: alphanumeric (<= 11) or numeric (<= 16 digits)
      "title": "배송 안내",                         # optional: a Korean LMS title, 1-66 characters
      "resellerCode": 123456789,                  # optional: Korean reseller code (int, or its digits)
      "validityPeriod": {"amount": 2, "timeUnit": "HOURS"}   # optional, as options.validityPeriod
    }

Infobip's `options.smsFailover` of both Kakao APIs (`DefaultSmsFailover`): `title` and `resellerCode` go to
its `regional.southKorea`.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from channel_engine import Problem, ValidityPeriod, problem
from channel_engine.checks import (
    check_keys,
    check_reseller_code,
    check_text,
    check_validity_cap,
    reseller_code,
)
from channel_engine.problems import from_decode_error
from channel_engine.segments import count_segments, is_gsm7

PATH = "$.content.smsFailover"
KEYS = ("text", "sender", "title", "resellerCode", "validityPeriod")
# No spec sets a maxLength on an SMS text; 255 parts is what one SMS can ever be (the concatenation header
# counts parts in one octet, 3GPP TS 23.040 §9.2.3.24.1).
MAX_SEGMENTS = 255
TITLE_MAX = 66  # SouthKoreaOptions.title maxLength
SENDER_ALPHA_MAX = 11  # GSM-7 in the 10-octet TP-OA field (TS 23.040 §9.1.2.5)
NUMERIC_SENDER = re.compile(r"\+?[0-9]{1,16}")

# The spec on validityPeriod: "longer than 48h is not supported. If exceeded, it will be automatically set
# to 48h."


def check_failover(value: Any) -> list[Problem]:
    if value is None:
        return []
    if not isinstance(value, dict):
        return [problem("invalid_field", PATH, 'content.smsFailover must be an object: {"text": ...}')]
    problems = check_keys(value, KEYS, PATH, "content.smsFailover")
    problems += _text(value.get("text"))
    problems += _sender(value.get("sender"))
    problems += check_text(
        value.get("title"), f"{PATH}.title", limit=TITLE_MAX, code="invalid_title_length", required=False
    )
    problems += check_reseller_code(value.get("resellerCode"), f"{PATH}.resellerCode")
    if value.get("validityPeriod") is not None:
        problems += _validity(value["validityPeriod"])
    return problems


def failover_entry(value: dict[str, Any]) -> dict[str, Any]:
    """Infobip's `smsFailover` block of a validated `content.smsFailover`."""
    entry: dict[str, Any] = {}
    if value.get("sender") is not None:
        entry["sender"] = value["sender"]
    entry["text"] = value["text"]
    if value.get("validityPeriod") is not None:
        validity = msgspec.convert(value["validityPeriod"], ValidityPeriod)
        entry["validityPeriod"] = {"amount": validity.amount, "timeUnit": validity.time_unit}
    korea: dict[str, Any] = {}
    if value.get("title") is not None:
        korea["title"] = value["title"]
    if value.get("resellerCode") is not None:
        korea["resellerCode"] = reseller_code(value["resellerCode"])
    if korea:
        entry["regional"] = {"southKorea": korea}
    return entry


def _text(text: Any) -> list[Problem]:
    path = f"{PATH}.text"
    if text is None:
        return [
            problem("invalid_text_length", path, "content.smsFailover.text is missing: the SMS needs a text")
        ]
    if not isinstance(text, str):
        return [
            problem(
                "invalid_field", path, f"content.smsFailover.text must be text, not {type(text).__name__}"
            )
        ]
    if not text.strip():
        return [
            problem("invalid_text_length", path, "content.smsFailover.text is blank: the SMS needs a text")
        ]
    count = count_segments(text)
    if count.segments > MAX_SEGMENTS:
        return [
            problem(
                "invalid_text_length",
                path,
                f"content.smsFailover.text needs {count.segments} SMS parts; one SMS has at most "
                f"{MAX_SEGMENTS}",
            )
        ]
    return []


def _sender(sender: Any) -> list[Problem]:
    if sender is None:
        return []
    path = f"{PATH}.sender"
    if not isinstance(sender, str):
        return [problem("invalid_sender", path, "content.smsFailover.sender must be text")]
    if NUMERIC_SENDER.fullmatch(sender):
        return []
    if sender.lstrip("+").isascii() and sender.lstrip("+").isdigit():
        reason = "a numeric sender has at most 16 digits"
    elif not sender.strip():
        reason = "it is blank; leave it out to use the account's default SMS sender"
    elif not is_gsm7(sender) or any(ch in "\n\r\x0c" for ch in sender):
        reason = "an alphanumeric sender may only use characters of the GSM 7-bit alphabet, on one line"
    elif count_segments(sender).units > SENDER_ALPHA_MAX:
        reason = f"an alphanumeric sender has at most {SENDER_ALPHA_MAX} characters"
    else:
        return []
    return [problem("invalid_sender", path, f"content.smsFailover.sender {sender!r} is not valid: {reason}")]


def _validity(value: Any) -> list[Problem]:
    path = f"{PATH}.validityPeriod"
    try:
        validity = msgspec.convert(value, ValidityPeriod)
    except msgspec.ValidationError as error:
        return [from_decode_error(error, path)]
    return check_validity_cap(validity, "a Kakao message", path)
