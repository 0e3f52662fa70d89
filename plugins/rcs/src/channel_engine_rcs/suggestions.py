"""Suggestions: the chips under an RCS message and the buttons on a card, checked and built.

Our shape is Infobip's, flat, with `type` naming the action:

    {"type": "REPLY", "text": "Book a table", "postbackData": "book"}
    {"type": "OPEN_URL", "text": "Menu", "url": "https://...",
     "application": "WEBVIEW", "webviewViewMode": "TALL"}       # application BROWSER by default
    {"type": "DIAL_PHONE", "text": "Call us", "phoneNumber": "+385981112233"}
    {"type": "SHOW_LOCATION", "text": "Find us", "latitude": 45.81, "longitude": 15.98, "label": "Bistro"}
    {"type": "REQUEST_LOCATION", "text": "Share location"}
    {"type": "CREATE_CALENDAR_EVENT", "text": "Save the date", "title": "Tasting", "description": "...",
     "startTime": "2030-05-01T19:00:00.000+0200", "endTime": "2030-05-01T22:00:00.000+0200"}

`postbackData` (what comes back when the user taps) is optional here: the text is used when it is left
out, since Infobip requires one. Limits are the spec's (`ReplySuggestion` and its siblings).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from channel_engine import Problem, problem
from channel_engine.checks import check_keys, check_url, is_int

from .fields import Text, check_choice, check_texts

TEXT_MAX = 25
POSTBACK_MAX = 2024
URL_MAX = 2048
LABEL_MAX = 100
EVENT_TITLE_MAX = 100
EVENT_DESCRIPTION_MAX = 500
PHONE_NUMBER = re.compile(r"\+?[0-9]\d{1,14}")  # DialPhoneSuggestion.phoneNumber's pattern
APPLICATIONS = ("BROWSER", "WEBVIEW")
WEBVIEW_MODES = ("FULL", "HALF", "TALL")

COMMON_KEYS = ("type", "text", "postbackData")
COMMON_TEXTS = (
    Text("text", TEXT_MAX, "the suggestion's text", required=True),
    Text("postbackData", POSTBACK_MAX, "postbackData"),
)
LOCATION_TEXTS = (Text("label", LABEL_MAX, "the location's label"),)
EVENT_TEXTS = (
    Text("title", EVENT_TITLE_MAX, "the event's title", required=True),
    Text("description", EVENT_DESCRIPTION_MAX, "the event's description"),
)
TYPE_KEYS: dict[str, tuple[str, ...]] = {
    "REPLY": (),
    "OPEN_URL": ("url", "application", "webviewViewMode"),
    "DIAL_PHONE": ("phoneNumber",),
    "SHOW_LOCATION": ("latitude", "longitude", "label"),
    "REQUEST_LOCATION": (),
    "CREATE_CALENDAR_EVENT": ("title", "description", "startTime", "endTime"),
}
TYPES = tuple(TYPE_KEYS)


def check_suggestions(value: Any, path: str, *, limit: int, where: str) -> list[Problem]:
    """A list of at most `limit` suggestions (`where` says whose, for the sentence)."""
    if value is None:
        return []
    if not isinstance(value, list):
        return [problem("invalid_field", path, f"{where} suggestions must be a list of suggestion objects")]
    problems = []
    if len(value) > limit:
        problems.append(
            problem(
                "invalid_field",
                path,
                f"{where} can have at most {limit} suggestions; it has {len(value)}",
            )
        )
    for i, item in enumerate(value):
        problems += check_suggestion(item, f"{path}[{i}]")
    return problems


def check_suggestion(item: Any, path: str) -> list[Problem]:
    if not isinstance(item, dict):
        return [problem("invalid_field", path, "a suggestion must be an object with type and text")]
    kind = item.get("type")
    if kind is None:
        return [
            problem("missing_field", f"{path}.type", f"a suggestion needs a type: one of {', '.join(TYPES)}")
        ]
    if kind not in TYPES:  # a tuple: an unhashable value is simply not in it
        return check_choice(kind, f"{path}.type", TYPES, "suggestion type")
    problems = check_keys(item, COMMON_KEYS + TYPE_KEYS[kind], path, f"a {kind} suggestion")
    problems += check_texts(item, path, COMMON_TEXTS)
    problems += _CHECKS.get(kind, _nothing)(item, path)
    return problems


def suggestion_payload(item: dict[str, Any]) -> dict[str, Any]:
    """Infobip's suggestion object for a valid suggestion of ours."""
    out: dict[str, Any] = {"text": item["text"], "postbackData": item.get("postbackData") or item["text"]}
    for key in TYPE_KEYS[item["type"]]:
        if key in item:
            out[key] = infobip_time(item[key]) if key in ("startTime", "endTime") else item[key]
    out["type"] = item["type"]
    return out


def suggestions_payload(items: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [suggestion_payload(item) for item in items or ()]


def urls(items: list[dict[str, Any]] | None) -> list[str]:
    """The URLs that OPEN_URL suggestions open."""
    return [item["url"] for item in items or () if isinstance(item, dict) and item.get("type") == "OPEN_URL"]


# --- per type ------------------------------------------------------------------------------------------


def _nothing(item: dict[str, Any], path: str) -> list[Problem]:
    return []


def _open_url(item: dict[str, Any], path: str) -> list[Problem]:
    problems = check_url(item.get("url"), f"{path}.url", limit=URL_MAX, what="an OPEN_URL suggestion's url")
    application = item.get("application")
    problems += check_choice(application, f"{path}.application", APPLICATIONS, "application")
    mode = item.get("webviewViewMode")
    if application == "WEBVIEW" and mode is None:
        sentence = f"a WEBVIEW suggestion needs webviewViewMode: one of {', '.join(WEBVIEW_MODES)}"
        problems.append(problem("missing_field", f"{path}.webviewViewMode", sentence))
    elif mode is not None and application != "WEBVIEW":
        sentence = 'webviewViewMode is only for application "WEBVIEW"'
        problems.append(problem("invalid_field", f"{path}.webviewViewMode", sentence))
    else:
        problems += check_choice(mode, f"{path}.webviewViewMode", WEBVIEW_MODES, "webviewViewMode")
    return problems


def _dial_phone(item: dict[str, Any], path: str) -> list[Problem]:
    number = item.get("phoneNumber")
    if number is None:
        return [
            problem("missing_field", f"{path}.phoneNumber", "a DIAL_PHONE suggestion needs a phoneNumber")
        ]
    if not isinstance(number, str) or not PHONE_NUMBER.fullmatch(number):
        return [
            problem(
                "invalid_field",
                f"{path}.phoneNumber",
                f"phoneNumber {number!r} is not a phone number: digits only (2 to 16), an optional leading +",
            )
        ]
    return []


def _show_location(item: dict[str, Any], path: str) -> list[Problem]:
    problems = []
    for key, bound in (("latitude", 90), ("longitude", 180)):
        value = item.get(key)
        if value is None:
            problems.append(
                problem("missing_field", f"{path}.{key}", f"a SHOW_LOCATION suggestion needs a {key}")
            )
        elif not _is_number(value) or not -bound <= value <= bound:
            problems.append(
                problem("invalid_field", f"{path}.{key}", f"{key} must be a number from -{bound} to {bound}")
            )
    return problems + check_texts(item, path, LOCATION_TEXTS)


def _calendar_event(item: dict[str, Any], path: str) -> list[Problem]:
    problems = check_texts(item, path, EVENT_TEXTS)
    times = {}
    for key in ("startTime", "endTime"):
        value = item.get(key)
        moment = _moment(value)
        if value is None:
            problems.append(problem("missing_field", f"{path}.{key}", f"a calendar event needs its {key}"))
        elif moment is None:
            problems.append(
                problem(
                    "invalid_field",
                    f"{path}.{key}",
                    f"{key} {value!r} is not a date and time with its UTC offset, such as "
                    "2030-05-01T19:00:00.000+0200",
                )
            )
        else:
            times[key] = moment
    if len(times) == 2:
        now = dt.datetime.now(dt.UTC)
        if times["startTime"] <= now:
            problems.append(problem("invalid_field", f"{path}.startTime", "startTime must be in the future"))
        if times["endTime"] <= times["startTime"]:
            problems.append(problem("invalid_field", f"{path}.endTime", "endTime must come after startTime"))
    return problems


_CHECKS = {
    "OPEN_URL": _open_url,
    "DIAL_PHONE": _dial_phone,
    "SHOW_LOCATION": _show_location,
    "CREATE_CALENDAR_EVENT": _calendar_event,
}


def _is_number(value: Any) -> bool:
    return is_int(value) or isinstance(value, float)


def _moment(value: Any) -> dt.datetime | None:
    """An aware datetime from ISO 8601 text ("+0200" or "+02:00", "Z" too); None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def infobip_time(value: str) -> str:
    """A valid time as Infobip writes it: 2030-05-01T19:00:00.000+0200."""
    moment = _moment(value)
    assert moment is not None  # validated before the payload is built
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}{moment:%z}"
