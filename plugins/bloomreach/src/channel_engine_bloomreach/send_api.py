"""Our send endpoint for Bloomreach scenarios: `POST /bloomreach/{projectToken}/messages`.

Bloomreach has no fixed provider request: a scenario's webhook node sends what the customer writes. This is
the JSON it must send (snake_case, like Bloomreach's own event properties), with the project's webhook token
as `Authorization: Bearer <token>`. The README has the ready-to-paste template.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct, field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channel_engine import HostRef, HostServices, MessageOptions, OutboundMessage, Problem, UrlOptions
from channel_engine.documents import Documents, validation_path

from .config import Project, account_name
from .countries import without_delivery_reports
from .events import HOST

log = logging.getLogger("channel_engine.bloomreach")

Scalar = str | int | float | bool | None
Id = Annotated[str, Meta(min_length=1, max_length=200)] | int


class SendRequest(Struct, forbid_unknown_fields=True):
    to: Annotated[str, Meta(min_length=1, max_length=32)]
    customer_ids: dict[str, Annotated[str, Meta(min_length=1, max_length=500)] | int]
    channel: Literal["sms", "mms"] = "sms"
    text: str | None = None
    sender: str | None = None
    title: str | None = None  # MMS
    media_url: str | None = None  # MMS
    media_type: Literal["image", "video", "audio", "file"] = "image"  # MMS
    campaign_id: Id | None = None
    campaign_name: str | None = None
    action_id: Id | None = None
    action_name: str | None = None
    properties: dict[str, Scalar] = field(default_factory=dict)  # more event properties, copied as given
    callback_data: str | None = None
    shorten_urls: bool = False  # Infobip shortens the text's links
    track_clicks: bool = False  # ... and reports their clicks, tracked as `clicked` events
    message_id: Annotated[str, Meta(min_length=1, max_length=200)] | None = None  # idempotency key


# Where a problem the channel finds in the message is in the request we were sent.
_REQUEST_PATHS = (
    ("$.destination", "$.to"),
    ("$.content.text", "$.text"),
    ("$.content.title", "$.title"),
    ("$.content.segments", "$.media_url"),
    ("$.content", "$.text"),
    ("$.options.callbackData", "$.callback_data"),
    ("$.sender", "$.sender"),
)


def request_path(path: str) -> str:
    for ours, theirs in _REQUEST_PATHS:
        if path == ours or path.startswith((ours + ".", ours + "[")):
            return theirs
    return path


def refused(status: int, problems: list[dict[str, str]]) -> JSONResponse:
    first = problems[0]
    return JSONResponse(
        {"error": f"{first['path']}: {first['message']}", "problems": problems}, status_code=status
    )


def build_message(project: Project, request: SendRequest) -> OutboundMessage | list[dict[str, str]]:
    """The engine message for a request, or the problems that stop it before the channel looks."""
    problems = []
    if not request.customer_ids:
        problems.append(
            {"path": "$.customer_ids", "message": "give at least one customer id to track events on"}
        )
    sender = request.sender or project.default_sender
    if sender and project.senders and sender not in project.senders:
        problems.append(
            {
                "path": "$.sender",
                "message": f"{sender!r} is not one of the project's predefined senders "
                f"({', '.join(project.senders)})",
            }
        )
    if problems:
        return problems
    if request.channel == "sms":
        content: dict[str, Any] = {"text": request.text}
    else:
        segments = [{"type": request.media_type, "url": request.media_url}] if request.media_url else []
        segments += [{"type": "text", "text": request.text}] if request.text else []
        content = {"segments": segments}
        if request.title is not None:
            content["title"] = request.title
    properties = {
        key: value
        for key, value in (
            ("campaign_id", request.campaign_id),
            ("campaign_name", request.campaign_name),
            ("action_id", request.action_id),
            ("action_name", request.action_name),
        )
        if value is not None
    }
    bulk = "-".join(str(v) for v in (request.campaign_id, request.action_id) if v is not None) or None
    return OutboundMessage(
        channel=request.channel,
        destination=request.to,
        sender=sender,
        content=content,
        options=MessageOptions(
            callback_data=request.callback_data,
            bulk_id=bulk[:100] if bulk else None,
            url_options=UrlOptions(shorten_url=True, track_clicks=request.track_clicks)
            if request.shorten_urls or request.track_clicks
            else None,
        ),
        host=HostRef(
            name=HOST,
            context={
                "project": project.project_token,
                "customerIds": request.customer_ids,
                "properties": {**request.properties, **properties},
            },
        ),
        account=account_name(project),
        idempotency_key=idempotency_key(project.project_token, request.message_id)
        if request.message_id
        else None,
    )


def idempotency_key(token: str, key: str) -> str:
    """The engine's idempotency key for a scenario's own message id: the same request twice is one message
    (the engine's id of the first), in this project only."""
    return "br-" + hashlib.sha256(f"{token}\0{key}".encode()).hexdigest()[:32]


def _problems(problems: list[Problem]) -> list[dict[str, str]]:
    return [{"path": request_path(p.path), "message": p.message} for p in problems if p.severity == "error"]


def send_routes(services: HostServices, projects: Documents[Project]) -> list[Route]:
    async def send(request: Request) -> Response:
        token = request.path_params["project"]
        project = await projects.get(token)
        if project is None:
            return JSONResponse({"error": f"Bloomreach project {token} is not configured"}, status_code=404)
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, f"Bearer {project.webhook_token}".encode()):
            return JSONResponse(
                {"error": "send the project's webhook token as `Authorization: Bearer <token>`"},
                status_code=401,
            )
        try:
            body = msgspec.json.decode(await request.body(), type=SendRequest)
        except msgspec.ValidationError as exc:
            path = validation_path(exc)
            return refused(400, [{"path": path, "message": str(exc).split(" - at `")[0]}])
        except msgspec.DecodeError as exc:
            return refused(400, [{"path": "$", "message": f"the body is not valid JSON: {exc}"}])
        message = build_message(project, body)
        if isinstance(message, list):
            return refused(400, message)
        try:
            verdict = (await services.submit([message]))[0]
        except Exception as exc:  # the engine's own fault: Bloomreach's webhook may send it again
            log.error("storing a message for project %s failed: %s", token, type(exc).__name__)
            return JSONResponse({"error": "the engine could not store the message; send it again"}, 503)
        if not verdict.accepted:
            return refused(400, _problems(verdict.problems))
        country = without_delivery_reports(message.destination)
        answer: dict[str, Any] = {"messageId": verdict.id, "status": "accepted"}
        answer["deliveryReportExpected"] = country is None
        if country is not None:
            answer["comment"] = f"{country} sends no SMS delivery reports: none is expected"
        return JSONResponse(answer, status_code=202)

    return [Route("/{project}/messages", send, methods=["POST"])]
