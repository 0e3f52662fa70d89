"""Kakao buttons: AlimTalk's seven types and ChinguTalk's web and app links, checked and written out.

A button is Infobip's own object, `{"type": ..., "name": ..., <the fields of its type>}`:

| SFMC name         | type              | fields besides `name`                                   |
|-------------------|-------------------|---------------------------------------------------------|
| Web Link          | URL               | urlMobile (required), urlPc, target                     |
| App Link          | APP_LINK          | schemeAndroid, schemeIos, urlMobile (at least two), urlPc |
| Delivery Tracking | DELIVERY_TRACKING | (AlimTalk only)                                         |
| Chatbot Switch    | CHATBOT_SWITCH    | chatExtra, chatEvent (AlimTalk only)                    |
| Bot Keyword       | BOT_KEYWORD       | (AlimTalk only)                                         |
| Message Delivery  | MESSAGE_DELIVERY  | (AlimTalk only)                                         |
| Add Channel       | ADD_CHANNEL       | (AlimTalk only)                                         |

Limits are the spec's (kakao.json): AlimTalk `Button` subtypes and ChinguTalk `TextAndImageFreeForm*Button`.
"""

from __future__ import annotations

from typing import Any

from channel_engine import Problem, problem
from channel_engine.checks import check_keys, check_text, check_url

MAX_BUTTONS = 5  # AlimTalk `buttons` maxItems; ChinguTalk: "a maximum of 5 if a coupon is not provided"
NAME_MAX = {"kakao-alim": 28, "kakao-chingu": 14}  # `name` maxLength of each API's buttons
URL_MAX = 500  # urlMobile and urlPc maxLength, both APIs
SCHEME_MAX = 500  # schemeAndroid and schemeIos maxLength, both APIs
ALIM_TARGET_MAX = 3  # AlimTalk UrlButton.target maxLength (Kakao's "out": open in the external browser)
CHINGU_TARGETS = ("OUT",)  # ChinguTalk TextAndImageFreeFormButtonTarget enum
CHAT_MAX = 50  # AlimTalk ChatbotSwitchButton chatExtra and chatEvent maxLength

URL_FIELDS = ("urlMobile", "urlPc", "target")
APP_FIELDS = ("schemeAndroid", "schemeIos", "urlMobile", "urlPc")
APP_TARGETS = ("schemeAndroid", "schemeIos", "urlMobile")  # the spec: at least two of these three

FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "kakao-alim": {
        "URL": URL_FIELDS,
        "APP_LINK": APP_FIELDS,
        "DELIVERY_TRACKING": (),
        "CHATBOT_SWITCH": ("chatExtra", "chatEvent"),
        "BOT_KEYWORD": (),
        "MESSAGE_DELIVERY": (),
        "ADD_CHANNEL": (),
    },
    # The SFMC ChinguTalk activity offers web and app links only; Infobip's other free-form buttons need a
    # registered business form or a targeting they depend on.
    "kakao-chingu": {"URL": URL_FIELDS, "APP_LINK": APP_FIELDS},
}


def check_buttons(channel: str, value: Any, path: str = "$.content.buttons") -> list[Problem]:
    """The `buttons` list: at most MAX_BUTTONS, each a known type with valid fields."""
    if value is None:
        return []
    if not isinstance(value, list):
        return [problem("invalid_field", path, "content.buttons must be a list of button objects")]
    problems = []
    if len(value) > MAX_BUTTONS:
        problems.append(
            problem(
                "invalid_buttons_length",
                path,
                f"content.buttons has {len(value)} buttons; a Kakao message takes at most {MAX_BUTTONS}",
            )
        )
    for i, button in enumerate(value):
        problems += _button(channel, button, f"{path}[{i}]")
    return problems


def button_entry(button: dict[str, Any]) -> dict[str, Any]:
    """A validated button as Infobip takes it: `type` first, then the fields given."""
    return {"type": button["type"], **{k: v for k, v in button.items() if k != "type"}}


def _button(channel: str, button: Any, path: str) -> list[Problem]:
    name = path.removeprefix("$.")
    if not isinstance(button, dict):
        return [problem("invalid_field", path, f"{name} must be an object with a type and a name")]
    types = FIELDS[channel]
    kind = button.get("type")
    if kind not in types:
        return [problem("invalid_field", f"{path}.type", _type_sentence(channel, name, kind))]
    fields = types[kind]
    problems = check_keys(button, ("type", "name", *fields), path, f"a {kind} button")
    problems += check_text(
        button.get("name"), f"{path}.name", limit=NAME_MAX[channel], code="invalid_button_text_length"
    )
    if kind == "URL":
        problems += _urls(button, path, mobile_required=True)
        problems += _target(channel, button.get("target"), f"{path}.target")
    elif kind == "APP_LINK":
        problems += _app_link(button, path)
    elif kind == "CHATBOT_SWITCH":
        for key in fields:
            problems += check_text(
                button.get(key), f"{path}.{key}", limit=CHAT_MAX, code="invalid_field", required=False
            )
    return problems


def _type_sentence(channel: str, name: str, kind: Any) -> str:
    known = ", ".join(FIELDS[channel])
    if kind is None:
        return f"{name}.type is missing: it is one of {known}"
    if channel == "kakao-chingu" and kind in FIELDS["kakao-alim"]:
        return f"{name}.type {kind!r} is an AlimTalk button; a ChinguTalk message takes {known}"
    return f"{name}.type {kind!r} is not one of {known}"


def _urls(button: dict[str, Any], path: str, *, mobile_required: bool) -> list[Problem]:
    problems = check_url(
        button.get("urlMobile"),
        f"{path}.urlMobile",
        limit=URL_MAX,
        code="invalid_button_url_length",
        required=mobile_required,
    )
    problems += check_url(
        button.get("urlPc"), f"{path}.urlPc", limit=URL_MAX, code="invalid_button_url_length", required=False
    )
    return problems


def _target(channel: str, target: Any, path: str) -> list[Problem]:
    if target is None:
        return []
    if channel == "kakao-chingu":
        if target in CHINGU_TARGETS:
            return []
        return [
            problem(
                "invalid_field",
                path,
                f"{path.removeprefix('$.')} {target!r} is not valid: only 'OUT' (the external browser)",
            )
        ]
    return check_text(target, path, limit=ALIM_TARGET_MAX, code="invalid_field")


def _app_link(button: dict[str, Any], path: str) -> list[Problem]:
    problems = []
    for key in ("schemeAndroid", "schemeIos"):
        problems += check_text(
            button.get(key),
            f"{path}.{key}",
            limit=SCHEME_MAX,
            code="invalid_app_scheme_length",
            required=False,
        )
    problems += _urls(button, path, mobile_required=False)
    given = [key for key in APP_TARGETS if button.get(key) is not None]
    if len(given) < 2:
        problems.append(
            problem(
                "invalid_app_scheme_length",
                path,
                f"{path.removeprefix('$.')} is an app link with {', '.join(given) or 'none'} of "
                "schemeAndroid, "
                "schemeIos and urlMobile: Kakao needs at least two of them (usually both app schemes)",
            )
        )
    return problems
