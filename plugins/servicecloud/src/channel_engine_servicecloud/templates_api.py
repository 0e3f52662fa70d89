"""A WhatsApp sender's approved templates, from Infobip (`GET /whatsapp/2/senders/{sender}/templates`),
in the small shape the agents' template panel needs to build its form and check what it sends.

Only APPROVED templates are kept: the others cannot be sent. So are only the templates whose every part
the engine can fill: a GIF header, a carousel, a limited-time offer, or a flow, catalog, product, order,
voice-call or contact-request button needs values our TEMPLATE message has no field for, so such a
template is left out rather than offered and refused at send time.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

import httpx
import msgspec
from msgspec import Struct, field

from .config import WhatsAppAccount

log = logging.getLogger("channel_engine.servicecloud")

PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION")
# Buttons an agent fills: a dynamic URL's suffix, a quick reply's payload, a coupon code. A static URL and a
# phone number are the same on every message (shown read-only, sent as nothing). Any other type (a voice
# call's validity, a flow's token...) makes the template one we cannot send.
FILLED_BUTTONS = ("QUICK_REPLY", "COPY_CODE")
FIXED_BUTTONS = ("PHONE_NUMBER",)
TIMEOUT = 15.0

HeaderFormat = Literal["TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION"]


class Header(Struct, rename="camel", omit_defaults=True):
    format: HeaderFormat
    text: str | None = None  # a TEXT header's registered text
    placeholders: int = 0  # how many {{n}} the text has (WhatsApp allows one)


class Button(Struct, rename="camel", omit_defaults=True):
    type: str  # QUICK_REPLY, URL, COPY_CODE, PHONE_NUMBER, VOICE_CALL
    text: str
    url: str | None = None  # a URL button's registered URL; a dynamic one ends in {{1}}
    phone_number: str | None = None
    takes_parameter: bool = False  # the agent gives a value: dynamic URL, QUICK_REPLY, COPY_CODE


class Template(Struct, rename="camel", omit_defaults=True):
    name: str
    language: str
    category: str
    body: str
    body_placeholders: int = 0
    header: Header | None = None
    footer: str | None = None
    buttons: list[Button] = field(default_factory=list)

    def parameter_buttons(self) -> list[Button]:
        """The buttons that take a value, in the template's order: what `buttons[]` of a send fills."""
        return [b for b in self.buttons if b.takes_parameter]


class TemplatesUnavailable(Exception):
    """Infobip did not give the list: `message` is a sentence for the agent, naming the account."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- Infobip's answer, as far as we read it (it has more, and may gain fields) ------------------------


class _Text(Struct):
    text: str = ""


class _Structure(Struct, rename="camel"):
    body: _Text = field(default_factory=_Text)
    header: dict[str, Any] | None = None
    footer: _Text | None = None
    buttons: list[dict[str, Any]] = field(default_factory=list)
    carousel: Any = None
    limited_time_offer: Any = None


class _Template(Struct):
    name: str = ""
    language: str = ""
    status: str = ""
    category: str = ""
    structure: _Structure = field(default_factory=_Structure)


class _Templates(Struct):
    templates: list[_Template] = field(default_factory=list)


_decode = msgspec.json.Decoder(_Templates).decode


def placeholder_count(text: str) -> int:
    """The number of placeholders: WhatsApp numbers them {{1}}, {{2}}... in order, so the highest."""
    return max((int(n) for n in PLACEHOLDER.findall(text)), default=0)


def _button(raw: dict[str, Any]) -> Button | None:
    kind = str(raw.get("type", ""))
    text = str(raw.get("text", ""))
    if kind == "URL":
        url = str(raw.get("url", ""))
        return Button(kind, text, url=url, takes_parameter=placeholder_count(url) > 0)
    if kind in FILLED_BUTTONS:
        return Button(kind, text, takes_parameter=True)
    if kind in FIXED_BUTTONS:
        phone = raw.get("phoneNumber")
        return Button(kind, text, phone_number=str(phone) if phone else None)
    return None


def to_template(raw: _Template) -> Template | None:
    """The panel's template, or None when the engine cannot send it (see the module's docstring)."""
    structure = raw.structure
    if structure.carousel is not None or structure.limited_time_offer is not None:
        return None
    header = None
    if structure.header is not None:
        kind = structure.header.get("format")
        if kind not in HEADER_FORMATS:
            return None
        text = structure.header.get("text") if kind == "TEXT" else None
        header = Header(kind, text=text, placeholders=placeholder_count(text or ""))
    buttons = [_button(b) for b in structure.buttons]
    if any(b is None for b in buttons):
        return None
    return Template(
        name=raw.name,
        language=raw.language,
        category=raw.category,
        body=structure.body.text,
        body_placeholders=placeholder_count(structure.body.text),
        header=header,
        footer=structure.footer.text if structure.footer and structure.footer.text else None,
        buttons=[b for b in buttons if b is not None],
    )


async def approved_templates(
    http: httpx.AsyncClient, account: WhatsAppAccount, sender: str
) -> list[Template]:
    """The sender's approved templates that the engine can send, by name then language.

    Raises TemplatesUnavailable when Infobip refuses the account's key, cannot be reached, or answers
    something else than the list."""
    number = sender.lstrip("+")
    url = f"{account.base_url.rstrip('/')}/whatsapp/2/senders/{number}/templates"
    headers = {"Authorization": f"App {account.api_key}", "Accept": "application/json"}
    try:
        response = await http.get(url, headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        log.warning("templates of %s: Infobip account %s unreachable (%s)", number, account.name, exc)
        raise TemplatesUnavailable(
            f"Infobip could not be reached for account {account.name} ({type(exc).__name__}): "
            "try again shortly"
        ) from None
    if response.status_code in (401, 403):
        raise TemplatesUnavailable(
            f"Infobip refused the API key of account {account.name} (HTTP {response.status_code}): "
            "check the key and its whatsapp:manage scope in the setup wizard"
        )
    if response.status_code == 404:
        raise TemplatesUnavailable(f"Infobip account {account.name} has no WhatsApp sender {number}")
    if not response.is_success:
        raise TemplatesUnavailable(
            f"Infobip answered HTTP {response.status_code} for the templates of sender {number} "
            f"(account {account.name}): try again shortly"
        )
    try:
        listed = _decode(response.content)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        log.warning("templates of %s on account %s: not the documented answer: %s", number, account.name, exc)
        raise TemplatesUnavailable(
            f"Infobip's template list for sender {number} (account {account.name}) is not the documented one"
        ) from None
    found = [to_template(t) for t in listed.templates if t.status == "APPROVED"]
    return sorted((t for t in found if t is not None), key=lambda t: (t.name, t.language))
