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

from channel_engine import Problem, ValidityPeriod, problem, warning
from channel_engine.checks import check_keys, check_text, is_int
from channel_engine.models import SECONDS_PER_UNIT
from channel_engine.problems import from_decode_error
from channel_engine.segments import count_segments, is_gsm7

PATH = "$.content.smsFailover"
KEYS = ("text", "sender", "title", "resellerCode", "validityPeriod")
# No spec sets a maxLength on an SMS text; 255 parts is what one SMS can ever be (the concatenation header
# counts parts in one octet, 3GPP TS 23.040 §9.2.3.24.1).
MAX_SEGMENTS = 255
TITLE_MAX = 66  # SouthKoreaOptions.title maxLength
RESELLER_CODE_MAX = 10**9 - 1  # "9-digit registration number in the business registration certificate"
SENDER_ALPHA_MAX = 11  # GSM-7 in the 10-octet TP-OA field (TS 23.040 §9.1.2.5)
NUMERIC_SENDER = re.compile(r"\+?[0-9]{1,16}")

# The spec on validityPeriod: "longer than 48h is not supported. If exceeded, it will be automatically set
# to 48h."
VALIDITY_MAX_SECONDS = 48 * 3600
UNIT_SECONDS = {"SECONDS": 1, "MINUTES": SECONDS_PER_UNIT["MINUTE"], "HOURS": SECONDS_PER_UNIT["HOUR"]}


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
    if value.get("resellerCode") is not None and reseller_code(value["resellerCode"]) is None:
        problems.append(
            problem(
                "invalid_field",
                f"{PATH}.resellerCode",
                f"content.smsFailover.resellerCode {value['resellerCode']!r} is not a reseller code: a "
                "number of at most 9 digits",
            )
        )
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


def reseller_code(value: Any) -> int | None:
    """The reseller code as Infobip's integer, from an int or a string of digits; None when it is neither."""
    if is_int(value):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
    else:
        return None
    return number if 0 < number <= RESELLER_CODE_MAX else None


def validity_warning(validity: ValidityPeriod | None, path: str) -> list[Problem]:
    """A warning (the message is still sent) when Infobip will cut a validity period to 48 hours."""
    if validity is None or not is_int(validity.amount):
        return []
    seconds = validity.amount * UNIT_SECONDS.get(validity.time_unit, 60)
    if seconds <= VALIDITY_MAX_SECONDS:
        return []
    return [
        warning(
            "invalid_field",
            path,
            f"a validity period of {validity.amount} {validity.time_unit.lower()} is longer than Kakao's 48 "
            "hours: Infobip will cut it to 48 hours",
        )
    ]


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
    return validity_warning(validity, path)
