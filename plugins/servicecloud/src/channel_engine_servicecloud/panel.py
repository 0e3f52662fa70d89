"""The agents' WhatsApp template panel: a page for the iframe component on Service Cloud's Messaging
Session page, and the small API behind it. Mounted under /servicecloud:

    GET  /{orgId}/panel/{token}/templates                      the page (ui/panel.html)
    GET  /{orgId}/panel/{token}/ui/{file}                      its script and style
    GET  /{orgId}/panel/{token}/api/context?id=<sessionId>     senders, and the session's recipient
    GET  /{orgId}/panel/{token}/api/templates?sender=&search=  the sender's approved templates
    POST /{orgId}/panel/{token}/api/send                       send one template message (202 {messageId})
    GET  /{orgId}/panel/{token}/api/messages/{id}              where that message is now

Salesforce's iframe component appends `?id=<recordId>` to the configured URL, so the URL cannot carry a
query string of its own: it is a capability URL whose secret path segment is `panel_token(org)`, derived
from the engine's key (the setup wizard shows it). A wrong token and an unknown org get the same bare 404.

The page may only be framed by Salesforce (`frame-ancestors`, overridable with
CHANNEL_ENGINE_SERVICECLOUD_FRAME_ANCESTORS), runs no inline script, and loads nothing from elsewhere.

A send is checked against the registered template first (every placeholder filled, the header's media URL,
filename or location, each button value, quick-reply payloads of at most 128 characters), so the agent
sees a problem beside the field it concerns before Infobip would refuse the message; then the whatsapp
channel's own validation runs at intake. Every problem's path is a field of the send request
(`$.placeholders[1]`, `$.header.mediaUrl`, `$.buttons[0]`...), which the page shows beside that input.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

import httpx
import msgspec
from msgspec import Struct, field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channel_engine import HostRef, HostServices, OutboundMessage, Problem
from channel_engine.documents import Documents, validation_path
from channel_engine.models import MessageView

from .agents import idempotency_key
from .config import Org, WhatsAppAccount, engine_account
from .conversations import Conversations
from .templates_api import Template, TemplatesUnavailable, approved_templates

log = logging.getLogger("channel_engine.servicecloud")

HOST = "servicecloud"
SOURCE = "template-panel"
FRAME_ANCESTORS = (
    "https://*.force.com",
    "https://*.salesforce.com",
    "https://*.lightning.force.com",
    "'self'",
)
FRAME_ANCESTORS_VARIABLE = "CHANNEL_ENGINE_SERVICECLOUD_FRAME_ANCESTORS"
NO_SENDER = "No WhatsApp sender is configured for this org: select senders in the setup wizard."
QUICK_REPLY_MAX = 128  # WhatsApp's limit for a quick-reply button's payload
COPY_CODE_MAX = 15  # ... and for a copy-code button's code
CATALOG_SECONDS = 60.0  # a template list is fetched once a minute per sender at most, not per keystroke
ASSETS = {"panel.js": "text/javascript; charset=utf-8", "panel.css": "text/css; charset=utf-8"}
FAILED_STATES = frozenset({"FAILED", "UNDELIVERABLE", "EXPIRED", "REJECTED"})
NUMBER_PUNCTUATION = re.compile(r"[\s().-]")


def panel_token(services: HostServices, org_id: str) -> str:
    """The secret path segment of an org's panel URL."""
    return services.derive(f"servicecloud-panel:{org_id}")


def frame_ancestors() -> list[str]:
    """Who may frame the page: Salesforce's domains, or the list (comma- or space-separated) in
    CHANNEL_ENGINE_SERVICECLOUD_FRAME_ANCESTORS, which replaces them."""
    configured = os.environ.get(FRAME_ANCESTORS_VARIABLE, "").replace(",", " ").split()
    return configured or list(FRAME_ANCESTORS)


def page_headers() -> dict[str, str]:
    policy = (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        f"base-uri 'none'; form-action 'none'; frame-ancestors {' '.join(frame_ancestors())}"
    )
    return {
        "Content-Security-Policy": policy,
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",  # the URL holds the panel's token
        "X-Content-Type-Options": "nosniff",
    }


# -- the send request ------------------------------------------------------------------------------------


class HeaderValues(Struct, rename="camel", forbid_unknown_fields=True):
    """What the agent fills in the template's header."""

    text: str | None = None  # a TEXT header's {{1}}
    media_url: str | None = None  # IMAGE, VIDEO, DOCUMENT
    filename: str | None = None  # DOCUMENT
    latitude: float | None = None  # LOCATION
    longitude: float | None = None


class SendRequest(Struct, rename="camel", forbid_unknown_fields=True):
    sender: str = ""
    to: str = ""
    template_name: str = ""
    language: str = ""
    header: HeaderValues | None = None
    placeholders: list[str] = field(default_factory=list)  # body {{1}}, {{2}}... in order
    buttons: list[str] = field(default_factory=list)  # a value per button that takes one, in order
    session_id: str | None = None  # the MessagingSession the panel is open on
    request_id: str | None = None  # the page's id for this send: the same send twice is one message


Issue = dict[str, str]


def issue(path: str, message: str) -> Issue:
    return {"path": path, "message": message}


def digits(number: str) -> str:
    """A number as typed (spaces, dashes, brackets, a leading +) as digits, the way WhatsApp writes it."""
    return NUMBER_PUNCTUATION.sub("", number).removeprefix("+")


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def check_against(template: Template, request: SendRequest) -> list[Issue]:
    """Whether the request fills exactly what the registered template needs, field by field."""
    found: list[Issue] = []
    if _blank(request.to):
        found.append(issue("$.to", "enter the recipient's WhatsApp number, country code first"))
    found += _check_header(template, request.header)
    wanted = template.body_placeholders
    for i in range(wanted):
        if i >= len(request.placeholders) or _blank(request.placeholders[i]):
            found.append(issue(f"$.placeholders[{i}]", f"fill placeholder {{{{{i + 1}}}}} of the body"))
    if len(request.placeholders) > wanted:
        found.append(
            issue(
                "$.placeholders",
                f"the body of {template.name} has {wanted} placeholder(s); {len(request.placeholders)} "
                "values were given",
            )
        )
    buttons = template.parameter_buttons()
    for i, button in enumerate(buttons):
        value = request.buttons[i] if i < len(request.buttons) else ""
        found += _check_button(i, button.type, button.text, value)
    if len(request.buttons) > len(buttons):
        found.append(
            issue(
                "$.buttons",
                f"{template.name} has {len(buttons)} button(s) that take a value; "
                f"{len(request.buttons)} values were given",
            )
        )
    return found


def _check_header(template: Template, values: HeaderValues | None) -> list[Issue]:
    header = template.header
    given = values or HeaderValues()
    if header is None or (header.format == "TEXT" and header.placeholders == 0):
        if values is not None and values != HeaderValues():
            return [issue("$.header", f"the header of {template.name} takes no value")]
        return []
    if header.format == "TEXT":
        if _blank(given.text):
            return [issue("$.header.text", "fill the header's placeholder {{1}}")]
        return []
    if header.format == "LOCATION":
        return [
            issue(f"$.header.{key}", f"enter the location's {key}")
            for key in ("latitude", "longitude")
            if getattr(given, key) is None
        ]
    found = []
    if _blank(given.media_url):
        what = {"IMAGE": "image", "VIDEO": "video", "DOCUMENT": "document"}[header.format]
        found.append(issue("$.header.mediaUrl", f"enter the https:// URL of the header's {what}"))
    if header.format == "DOCUMENT" and _blank(given.filename):
        found.append(issue("$.header.filename", "name the document's file (e.g. invoice.pdf)"))
    return found


def _check_button(i: int, kind: str, text: str, value: str) -> list[Issue]:
    path = f"$.buttons[{i}]"
    if not value.strip():
        what = {"QUICK_REPLY": "payload", "COPY_CODE": "code", "URL": "URL ending"}[kind]
        return [issue(path, f"enter the {what} of button {text!r}")]
    limit = {"QUICK_REPLY": QUICK_REPLY_MAX, "COPY_CODE": COPY_CODE_MAX}.get(kind)
    if limit is not None and len(value) > limit:
        what = "a quick-reply payload" if kind == "QUICK_REPLY" else "a copy-code button's code"
        return [issue(path, f"{what} has at most {limit} characters (this one has {len(value)})")]
    return []


def template_content(template: Template, request: SendRequest) -> dict[str, Any]:
    """Our whatsapp TEMPLATE content (validation.py's shape) for a checked request."""
    content: dict[str, Any] = {
        "type": "TEMPLATE",
        "templateName": template.name,
        "language": template.language,
        "placeholders": list(request.placeholders),
    }
    header, given = template.header, request.header or HeaderValues()
    if header is not None and header.format == "TEXT" and header.placeholders:
        content["header"] = {"type": "TEXT", "placeholder": given.text}
    elif header is not None and header.format == "LOCATION":
        content["header"] = {"type": "LOCATION", "latitude": given.latitude, "longitude": given.longitude}
    elif header is not None and header.format != "TEXT":
        content["header"] = {"type": header.format, "mediaUrl": (given.media_url or "").strip()}
        if header.format == "DOCUMENT":
            content["header"]["filename"] = (given.filename or "").strip()
    buttons = template.parameter_buttons()
    if buttons:
        content["buttons"] = [
            {"type": b.type, "parameter": value} for b, value in zip(buttons, request.buttons, strict=True)
        ]
    return content


# Where a problem the whatsapp channel finds is in the send request (longest prefix first).
_FORM_PATHS = (
    ("$.content.header.placeholder", "$.header.text"),
    ("$.content.header.mediaUrl", "$.header.mediaUrl"),
    ("$.content.header.filename", "$.header.filename"),
    ("$.content.header.latitude", "$.header.latitude"),
    ("$.content.header.longitude", "$.header.longitude"),
    ("$.content.header", "$.header"),
    ("$.content.templateName", "$.templateName"),
    ("$.content.language", "$.language"),
    ("$.content.placeholders", "$.placeholders"),
    ("$.destination", "$.to"),
    ("$.sender", "$.sender"),
)
_BUTTON = re.compile(r"^\$\.content\.buttons\[(\d+)\]")


def form_path(path: str) -> str:
    """The send request's field a channel problem at `path` (of our OutboundMessage) is about."""
    button = _BUTTON.match(path)
    if button:
        return f"$.buttons[{button.group(1)}]"
    for ours, theirs in _FORM_PATHS:
        if path == ours or path.startswith((ours + ".", ours + "[")):
            return theirs + path[len(ours) :]
    return path


def channel_issues(problems: list[Problem]) -> list[Issue]:
    return [issue(form_path(p.path), p.message) for p in problems if p.severity == "error"]


def refused(status: int, issues: list[Issue]) -> JSONResponse:
    first = issues[0]
    body = {"error": f"{first['path']}: {first['message']}", "problems": issues}
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def message_status(view: MessageView) -> dict[str, Any]:
    """A message's state in the words the page shows: queued, sent, delivered, or failed with the reason."""
    state = view.state
    if state in FAILED_STATES:
        reason = view.failure_reason or view.error_name or view.status_name or state.lower()
        text = f"failed: {reason}"
    else:
        text = {"QUEUED": "queued", "SENDING": "queued", "SENT": "sent", "DELIVERED": "delivered"}[state]
    answer: dict[str, Any] = {
        "messageId": view.id,
        "state": state,
        "final": state == "DELIVERED" or state in FAILED_STATES,
        "text": text,
    }
    for key, value in (("statusName", view.status_name), ("errorName", view.error_name)):
        if value:
            answer[key] = value
    return answer


def matches(template: Template, search: str) -> bool:
    needle = search.strip().casefold()
    return not needle or needle in template.name.casefold() or needle in template.category.casefold()


class TemplateCatalog:
    """Each sender's approved templates, kept `ttl` seconds: the list is read for every search and every
    send, and it changes only when a template is approved at Infobip."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        ttl: float = CATALOG_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.ttl = ttl
        self.clock = clock
        self._kept: dict[tuple[str, str, str], tuple[float, list[Template]]] = {}

    async def templates(self, account: WhatsAppAccount, sender: str) -> list[Template]:
        key_hash = hashlib.sha256(account.api_key.encode()).hexdigest()
        key = (account.base_url, key_hash, sender)
        kept = self._kept.get(key)
        now = self.clock()
        if kept is not None and kept[0] > now:
            return kept[1]
        found = await approved_templates(self.http, account, sender)
        self._kept = {k: v for k, v in self._kept.items() if v[0] > now}
        self._kept[key] = (now + self.ttl, found)
        return found


def _ui_file(name: str) -> bytes:
    return resources.files(__package__).joinpath("ui", name).read_bytes()


def not_found() -> Response:
    """The one answer to a wrong token, an unknown org or an unknown file: it tells nothing."""
    return Response("Not Found", status_code=404, media_type="text/plain")


def panel_routes(
    services: HostServices, orgs: Documents[Org], conversations: Conversations, http: httpx.AsyncClient
) -> list[Route]:
    catalog = TemplateCatalog(http)

    async def org_of(request: Request) -> Org | None:
        """The org the URL names, if its token is the org's: None answers 404 whichever was wrong."""
        org_id, token = request.path_params["org_id"], request.path_params["token"]
        if not hmac.compare_digest(token.encode(), panel_token(services, org_id).encode()):
            return None
        return await orgs.get(org_id)

    async def page(request: Request) -> Response:
        if await org_of(request) is None:
            return not_found()
        return Response(_ui_file("panel.html"), media_type="text/html; charset=utf-8", headers=page_headers())

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS or await org_of(request) is None:
            return not_found()
        return Response(_ui_file(name), media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})

    async def context(request: Request) -> Response:
        org = await org_of(request)
        if org is None:
            return not_found()
        session_id = (request.query_params.get("id") or "").strip() or None
        conversation = await conversations.by_session(org.org_id, session_id) if session_id else None
        answer = {
            "orgId": org.org_id,
            "senders": org.senders(),
            "recipient": conversation.end_user if conversation else None,
            "sender": conversation.sender if conversation else None,
            "sessionId": session_id,
        }
        if not answer["senders"]:
            answer["problem"] = NO_SENDER
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})

    def sender_of(org: Org, sender: str) -> tuple[str, WhatsAppAccount] | Issue:
        number = digits(sender)
        account = org.account_for(number) if number else None
        if account is None:
            if not org.senders():
                return issue("$.sender", NO_SENDER)
            listed = ", ".join(org.senders())
            return issue(
                "$.sender", f"sender {number or '(none)'} is not one of this org's senders: {listed}"
            )
        return number, account

    async def templates(request: Request) -> Response:
        org = await org_of(request)
        if org is None:
            return not_found()
        chosen = sender_of(org, request.query_params.get("sender", ""))
        if isinstance(chosen, dict):
            return refused(400, [{**chosen, "path": "sender"}])
        number, account = chosen
        try:
            found = await catalog.templates(account, number)
        except TemplatesUnavailable as exc:
            return JSONResponse({"error": exc.message}, status_code=502)
        search = request.query_params.get("search", "")
        shown = [t for t in found if matches(t, search)]
        return JSONResponse(
            {"sender": number, "templates": msgspec.to_builtins(shown)}, headers={"Cache-Control": "no-store"}
        )

    async def send(request: Request) -> Response:
        org = await org_of(request)
        if org is None:
            return not_found()
        try:
            body = msgspec.json.decode(await request.body(), type=SendRequest)
        except msgspec.ValidationError as exc:
            return refused(400, [issue(validation_path(exc), str(exc).split(" - at `")[0])])
        except msgspec.DecodeError as exc:
            return refused(400, [issue("$", f"the body is not valid JSON: {exc}")])
        chosen = sender_of(org, body.sender)
        if isinstance(chosen, dict):
            return refused(400, [chosen])
        number, account = chosen
        try:
            found = await catalog.templates(account, number)
        except TemplatesUnavailable as exc:
            return JSONResponse({"error": exc.message}, status_code=502)
        template = next(
            (t for t in found if t.name == body.template_name and t.language == body.language), None
        )
        if template is None:
            return refused(
                400,
                [
                    issue(
                        "$.templateName",
                        f"{body.template_name or '(none)'} ({body.language or 'no language'}) is not an "
                        f"approved template of sender {number}",
                    )
                ],
            )
        issues = check_against(template, body)
        if issues:
            return refused(400, issues)
        to = digits(body.to)
        message = OutboundMessage(
            channel="whatsapp",
            destination=to,
            sender=number,
            content=template_content(template, body),
            account=engine_account(org, account),
            host=HostRef(
                name=HOST,
                context={"orgId": org.org_id, "endUser": to, "source": SOURCE, "sessionId": body.session_id},
            ),
            # Pressing Send twice for one form is one message.
            idempotency_key=idempotency_key(org.org_id, "panel", body.request_id)
            if body.request_id
            else None,
        )
        try:
            verdict = (await services.submit([message]))[0]
        except Exception as exc:  # the engine's own fault: the agent may press Send again
            log.error("storing a panel message for org %s failed: %s", org.org_id, type(exc).__name__)
            return JSONResponse({"error": "the engine could not store the message; send it again"}, 503)
        if not verdict.accepted:
            return refused(400, channel_issues(verdict.problems))
        return JSONResponse({"messageId": verdict.id}, status_code=202, headers={"Cache-Control": "no-store"})

    async def status(request: Request) -> Response:
        org = await org_of(request)
        if org is None:
            return not_found()
        view = await services.message(request.path_params["message_id"])
        host = view.host if view is not None else None
        if view is None or host is None or host.name != HOST or host.context.get("orgId") != org.org_id:
            return JSONResponse({"error": "no such message was sent from this org's panel"}, status_code=404)
        return JSONResponse(message_status(view), headers={"Cache-Control": "no-store"})

    base = "/{org_id}/panel/{token}"
    return [
        Route(f"{base}/templates", page, methods=["GET"]),
        Route(f"{base}/ui/{{name}}", asset, methods=["GET"]),
        Route(f"{base}/api/context", context, methods=["GET"]),
        Route(f"{base}/api/templates", templates, methods=["GET"]),
        Route(f"{base}/api/send", send, methods=["POST"]),
        Route(f"{base}/api/messages/{{message_id}}", status, methods=["GET"]),
    ]
