"""Checks the content of a template message (`"type": "TEMPLATE"`); the shape is in `validation`.

The engine cannot see the registered template, so it checks what any template must satisfy: the name's
alphabet, the language code's form, every placeholder filled, the header's own fields, and at most as many
buttons of each kind as WhatsApp allows. Whether the counts match the registered template is Infobip's and
Meta's to judge.
"""

from __future__ import annotations

import re
from typing import Any

from channel_engine import Problem, problem
from channel_engine.checks import check_keys, check_text

from .fields import check_location, check_media_url

TEMPLATE_KEYS = ("type", "templateName", "language", "header", "placeholders", "buttons")
TEMPLATE_NAME_MAX = 512  # templateName maxLength in the spec
# The spec: "Should only contain lowercase alphanumeric characters and underscores."
TEMPLATE_NAME = re.compile(r"[a-z0-9_]+")
# WhatsApp's language codes: a language (en, fil) or a locale (en_GB, pt_BR).
LANGUAGE = re.compile(r"[a-z]{2,3}(?:_[A-Z]{2})?")

# Meta's limits for template parameters (Cloud API, the template `parameter` object): a header's text has at
# most 60 characters; a body parameter 1,024 when the template has other components, 32,768 when the body
# is all there is. The spec has no maxLength for either.
HEADER_TEXT_MAX = 60
PLACEHOLDER_MAX = 1024
PLACEHOLDER_MAX_BODY_ONLY = 32768
# The spec's 400 example for content.templateData.header.placeholder.
CRAMPED = re.compile(r"[\n\t]| {5,}")

HEADER_KEYS = {
    "TEXT": ("type", "placeholder"),
    "IMAGE": ("type", "mediaUrl"),
    "VIDEO": ("type", "mediaUrl"),
    "DOCUMENT": ("type", "mediaUrl", "filename"),
    "LOCATION": ("type", "latitude", "longitude"),
}
FILENAME_MAX = 240  # TemplateDocumentHeaderContent.filename maxLength

BUTTONS_MAX = 10  # the spec: "up to ten buttons"
BUTTON_KEYS = ("type", "parameter")
# type -> (the parameter's maxLength, how many buttons of the type one template may have). QUICK_REPLY and
# COPY_CODE lengths are the spec's; a dynamic URL's suffix is bounded by Meta's 2,000 characters per button
# URL. "a maximum of two `dynamic URL` buttons, one `copy code` button".
BUTTON_RULES = {"QUICK_REPLY": (128, BUTTONS_MAX), "URL": (2000, 2), "COPY_CODE": (15, 1)}
BUTTON_MEANING = {"QUICK_REPLY": "payload", "URL": "URL suffix", "COPY_CODE": "code"}


def check_template(content: dict[str, Any]) -> list[Problem]:
    """Every problem of a template message's content, in field order."""
    problems = check_keys(content, TEMPLATE_KEYS, "$.content", "a TEMPLATE message's content")
    problems += _name(content.get("templateName"))
    problems += _language(content.get("language"))
    if "header" in content:
        problems += _header(content["header"])
    only_body = "header" not in content and not content.get("buttons")
    problems += _placeholders(content.get("placeholders", []), only_body)
    if "buttons" in content:
        problems += _buttons(content["buttons"])
    return problems


def _name(name: Any) -> list[Problem]:
    path = "$.content.templateName"
    if name is None:
        reason = "content.templateName is missing: name the approved template to send"
    elif not isinstance(name, str):
        reason = f"content.templateName must be text, not {type(name).__name__}"
    elif not 1 <= len(name) <= TEMPLATE_NAME_MAX:
        reason = f"content.templateName must have 1 to {TEMPLATE_NAME_MAX} characters (it has {len(name)})"
    elif not TEMPLATE_NAME.fullmatch(name):
        reason = (
            f"template name {name!r} may only use lowercase letters, digits and underscores, as WhatsApp "
            "registers names (e.g. order_shipped)"
        )
    else:
        return []
    return [problem("invalid_template_name", path, reason)]


def _language(language: Any) -> list[Problem]:
    path = "$.content.language"
    if language is None:
        return [
            problem(
                "missing_field",
                path,
                "content.language is missing: give the template's language (e.g. en_GB)",
            )
        ]
    if not isinstance(language, str) or not LANGUAGE.fullmatch(language):
        return [
            problem(
                "invalid_field",
                path,
                f"content.language {language!r} is not a WhatsApp language code: a language or a locale as "
                "the template was registered with (en, en_GB, pt_BR)",
            )
        ]
    return []


def _placeholders(values: Any, only_body: bool) -> list[Problem]:
    path = "$.content.placeholders"
    if not isinstance(values, list):
        return [
            problem(
                "invalid_field", path, "content.placeholders must be a list of texts, in the template's order"
            )
        ]
    limit = PLACEHOLDER_MAX_BODY_ONLY if only_body else PLACEHOLDER_MAX
    problems = []
    for i, value in enumerate(values):
        problems += check_text(value, f"{path}[{i}]", limit=limit, what=f"placeholder {{{{{i + 1}}}}}")
    return problems


def _header(header: Any) -> list[Problem]:
    path = "$.content.header"
    if not isinstance(header, dict):
        return [problem("invalid_field", path, 'content.header must be an object: {"type": "IMAGE", ...}')]
    kind = header.get("type")
    if kind not in HEADER_KEYS:
        code = "missing_field" if kind is None else "invalid_field"
        return [
            problem(
                code,
                f"{path}.type",
                f"content.header.type must be one of {', '.join(HEADER_KEYS)} (it is {kind!r})",
            )
        ]
    problems = check_keys(header, HEADER_KEYS[kind], path, f"a {kind} header")
    if kind == "TEXT":
        placeholder = header.get("placeholder")
        found = check_text(placeholder, f"{path}.placeholder", limit=HEADER_TEXT_MAX)
        if not found and CRAMPED.search(placeholder):
            found = [
                problem(
                    "invalid_field",
                    f"{path}.placeholder",
                    "content.header.placeholder may not have line breaks, tabs or more than four spaces in a "
                    "row",
                )
            ]
        return problems + found
    if kind == "LOCATION":
        return problems + check_location(header, path)
    problems += check_media_url(header.get("mediaUrl"), f"{path}.mediaUrl", f"the header's {kind.lower()}")
    if kind == "DOCUMENT":
        filename = header.get("filename")
        if filename is None:
            problems.append(
                problem(
                    "missing_field",
                    f"{path}.filename",
                    "content.header.filename is missing: a DOCUMENT header names its file",
                )
            )
        else:
            problems += check_text(filename, f"{path}.filename", limit=FILENAME_MAX, code="invalid_field")
    return problems


def _buttons(buttons: Any) -> list[Problem]:
    path = "$.content.buttons"
    if not isinstance(buttons, list):
        return [problem("invalid_field", path, "content.buttons must be a list, in the template's order")]
    if len(buttons) > BUTTONS_MAX:
        return [
            problem(
                "invalid_field",
                path,
                f"content.buttons has {len(buttons)} buttons; a template has at most {BUTTONS_MAX}",
            )
        ]
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, button in enumerate(buttons):
        at = f"{path}[{i}]"
        if not isinstance(button, dict):
            problems.append(problem("invalid_field", at, f"content.buttons[{i}] must be an object"))
            continue
        kind = button.get("type")
        if kind not in BUTTON_RULES:
            problems.append(
                problem(
                    "invalid_field",
                    f"{at}.type",
                    f"button type {kind!r} is not one a template message fills: {', '.join(BUTTON_RULES)}. "
                    "Static URL and phone number buttons take no value: leave them out",
                )
            )
            continue
        limit, most = BUTTON_RULES[kind]
        problems += check_keys(button, BUTTON_KEYS, at, f"a {kind} button")
        problems += check_text(
            button.get("parameter"),
            f"{at}.parameter",
            limit=limit,
            code="invalid_field",
            what=f"content.buttons[{i}].parameter (the {BUTTON_MEANING[kind]})",
        )
        seen[kind] = seen.get(kind, 0) + 1
        if seen[kind] == most + 1:
            problems.append(
                problem(
                    "invalid_field", at, f"a template has at most {most} {kind} button(s); this is one more"
                )
            )
    return problems
