"""Checks every channel makes the same way: the phone number, URL shortening and tracking options,
callback data, validity period (and Infobip's 48-hour cap), unknown content keys, bounded text and the
South Korean reseller code.

Each returns a list of Problems (empty when fine) with the seeds' codes, so a plugin's `validate_message`
is a sum of these and its own content checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .models import CALLBACK_DATA_MAX, OutboundMessage, Problem, ValidityPeriod
from .problems import problem, warning

VALIDITY_UNIT_SECONDS = {"SECONDS": 1, "MINUTES": 60, "HOURS": 3600}
# Viber, RCS, MMS and Kakao: "Validity period longer than 48h is not supported" (Infobip cuts it to 48 h).
VALIDITY_CAP_HOURS = 48
RESELLER_CODE_DIGITS = 9  # "9-digit registration number in the business registration certificate"
TRACKING_URL_MAX = 2048  # our API's limit (UrlOptions.tracking_url)
CUSTOM_DOMAIN_MAX = 253  # the longest DNS name (RFC 1035 §2.3.4, without the trailing dot)

# International format: country code first (never 0), then the national number; E.164 allows 15 digits
# at most, and no country's full numbers are shorter than 7.
INTERNATIONAL_NUMBER = re.compile(r"\+?[1-9][0-9]{6,14}")


def check_common(message: OutboundMessage, *, destination: bool = True) -> list[Problem]:
    """The phone-number destination (unless `destination` is False), URL options, callback data and
    validity period of any message."""
    problems = check_destination(message.destination) if destination else []
    problems += check_url_options(message)
    problems += check_callback_data(message)
    problems += check_validity(message)
    return problems


def check_destination(destination: str | None, path: str = "$.destination") -> list[Problem]:
    """A phone number in international format (SFMC: "Error: Missing phone number in request")."""
    if destination is None or not destination.strip():
        return [
            problem("missing_destination", path, "destination is missing: give the phone number to send to")
        ]
    if not INTERNATIONAL_NUMBER.fullmatch(destination):
        return [
            problem(
                "invalid_destination",
                path,
                f"destination {destination!r} is not a phone number in international format: country code "
                "first, 7 to 15 digits, no spaces or punctuation, an optional leading + (e.g. 385981112233)",
            )
        ]
    return []


def check_callback_data(message: OutboundMessage, limit: int = CALLBACK_DATA_MAX) -> list[Problem]:
    callback = message.options.callback_data
    if callback is not None and len(callback) > limit:
        return [
            problem(
                "invalid_callback_data",
                "$.options.callbackData",
                f"callbackData has {len(callback)} characters; Infobip takes at most {limit}",
            )
        ]
    return []


def check_validity(message: OutboundMessage) -> list[Problem]:
    validity = message.options.validity_period
    if validity is not None and (not is_int(validity.amount) or validity.amount < 1):
        return [
            problem(
                "invalid_field",
                "$.options.validityPeriod.amount",
                "validityPeriod.amount must be a whole number of 1 or more",
            )
        ]
    return []


def check_validity_cap(
    validity: ValidityPeriod | None, what: str, path: str = "$.options.validityPeriod"
) -> list[Problem]:
    """A warning (the message is still sent) when Infobip will cut a validity period to 48 hours; `what`
    names the message in the sentence ("a Viber message")."""
    if validity is None or not is_int(validity.amount):
        return []
    if validity.amount * VALIDITY_UNIT_SECONDS.get(validity.time_unit, 60) <= VALIDITY_CAP_HOURS * 3600:
        return []
    return [
        warning(
            "invalid_field",
            path,
            f"a validity period of {validity.amount} {validity.time_unit.lower()} is longer than the "
            f"{VALIDITY_CAP_HOURS} hours Infobip keeps {what}: Infobip cuts a longer one to "
            f"{VALIDITY_CAP_HOURS} hours",
        )
    ]


def reseller_code(value: Any) -> int | None:
    """The South Korean reseller code as Infobip's integer, from an int or a string of digits; None when it
    is neither."""
    if is_int(value):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
    else:
        return None
    return number if 0 < number < 10**RESELLER_CODE_DIGITS else None


def check_reseller_code(value: Any, path: str) -> list[Problem]:
    """A given reseller code must be one (a missing one is the caller's to judge)."""
    if value is None or reseller_code(value) is not None:
        return []
    name = path.removeprefix("$.")
    return [
        problem(
            "invalid_field",
            path,
            f"{name} {value!r} is not a reseller code: a number of at most {RESELLER_CODE_DIGITS} digits",
        )
    ]


def check_url_options(message: OutboundMessage) -> list[Problem]:
    """URL shortening and click tracking, with the seeds' codes (and SFMC texts) for each mistake."""
    url = message.options.url_options
    if url is None:
        return []
    path = "$.options.urlOptions"
    problems = []
    if url.tracking_url is not None:
        if not 1 <= len(url.tracking_url) <= TRACKING_URL_MAX:
            problems.append(
                problem(
                    "invalid_tracking_url_length",
                    f"{path}.trackingUrl",
                    f"urlOptions.trackingUrl must have 1 to {TRACKING_URL_MAX} characters "
                    f"(it has {len(url.tracking_url)})",
                )
            )
        elif not url.tracking_url.startswith(("https://", "http://")):
            problems.append(
                problem(
                    "invalid_field",
                    f"{path}.trackingUrl",
                    "urlOptions.trackingUrl must be an http:// or https:// URL: Infobip posts clicks to it",
                )
            )
        if not url.track_clicks:
            problems.append(
                problem(
                    "missing_track_clicks",
                    f"{path}.trackClicks",
                    "urlOptions.trackingUrl is set but trackClicks is false: clicks are only reported when "
                    "trackClicks is true",
                )
            )
    if url.custom_domain is not None:
        if not 1 <= len(url.custom_domain) <= CUSTOM_DOMAIN_MAX:
            problems.append(
                problem(
                    "invalid_custom_domain_length",
                    f"{path}.customDomain",
                    f"urlOptions.customDomain must have 1 to {CUSTOM_DOMAIN_MAX} characters "
                    f"(it has {len(url.custom_domain)})",
                )
            )
        elif "/" in url.custom_domain or ":" in url.custom_domain or " " in url.custom_domain:
            problems.append(
                problem(
                    "invalid_field",
                    f"{path}.customDomain",
                    f"urlOptions.customDomain {url.custom_domain!r} must be a bare domain name registered at "
                    "Infobip, such as go.example.com, without scheme or path",
                )
            )
    if not url.shorten_url:
        needs = [
            name
            for name, used in (
                ("trackClicks", url.track_clicks),
                ("customDomain", url.custom_domain is not None),
                ("removeProtocol", url.remove_protocol),
            )
            if used
        ]
        if needs:
            problems.append(
                problem(
                    "missing_shorten_url",
                    f"{path}.shortenUrl",
                    f"urlOptions.shortenUrl is false but {', '.join(needs)} needs shortened URLs "
                    "(trackClicks is true unless set to false): set shortenUrl to true",
                )
            )
    return problems


def check_keys(value: dict[str, Any], known: Iterable[str], path: str, what: str) -> list[Problem]:
    """Refuse keys a shape does not have, so a misspelt field never silently drops out of the request."""
    known = tuple(known)
    return [
        problem(
            "invalid_field",
            f"{path}.{key}",
            f"{what} has no field {key!r}; its fields are {', '.join(known)}",
        )
        for key in value
        if key not in known
    ]


def check_text(
    value: Any,
    path: str,
    *,
    limit: int,
    code: str = "invalid_text_length",
    required: bool = True,
    what: str = "",
) -> list[Problem]:
    """A string of 1 to `limit` characters (not blank); `code` names the seeds' problem for a bad length.

    `what` names the field in the sentence (default: the path without `$.`)."""
    name = what or path.removeprefix("$.")
    if value is None:
        if not required:
            return []
        return [problem(code, path, f"{name} is missing: it needs 1 to {limit} characters")]
    if not isinstance(value, str):
        return [problem("invalid_field", path, f"{name} must be text, not {type(value).__name__}")]
    if not value.strip() or len(value) > limit:
        return [problem(code, path, f"{name} must have 1 to {limit} characters (it has {len(value)})")]
    return []


def check_url(
    value: Any, path: str, *, limit: int, code: str = "invalid_field", required: bool = True, what: str = ""
) -> list[Problem]:
    """An http(s) URL of at most `limit` characters; `code` names the seeds' problem for a bad length."""
    found = check_text(value, path, limit=limit, code=code, required=required, what=what)
    if found or value is None:
        return found
    if not value.startswith(("https://", "http://")):
        name = what or path.removeprefix("$.")
        return [problem("invalid_field", path, f"{name} must be an http:// or https:// URL, not {value!r}")]
    return []


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
