"""Our own HTTP API.

POST /v1/messages        one message object, or {"messages": [...]} (at most 10,000)
GET  /v1/messages/{id}   current state, Infobip status and the timeline of events
GET  /healthz            liveness and store reachability
GET  /metrics            Prometheus text
GET  /-/plugins          installed plugins (name, version, kind, hooks)
"""

from __future__ import annotations

import hmac
import logging
import os
from typing import TYPE_CHECKING, Any

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .hosting import MsgspecResponse
from .intake import MAX_BATCH, Verdict, refuses

if TYPE_CHECKING:
    from .engine import Engine


class Envelope(msgspec.Struct):
    """`{"messages": [...]}`; any other JSON object is taken to be one message."""

    messages: list[msgspec.Raw] | None = None


log = logging.getLogger("channel_engine.api")
_envelope_decoder = msgspec.json.Decoder(Envelope)


def error(status: int, detail: str, problems: list[Any] | None = None) -> MsgspecResponse:
    body: dict[str, Any] = {"error": detail}
    if problems:
        body["problems"] = problems
    return MsgspecResponse(body, status_code=status)


def store_failed(outcome: str, exc: Exception) -> MsgspecResponse:
    """503 for a store that did not take a write (Redis unreachable, disk full): nothing is acknowledged,
    so the caller sends it again. The cause goes to the log, not to the caller."""
    log.error("store write failed (%s): %s: %s", outcome, type(exc).__name__, exc)
    return error(503, f"the store is unavailable, so {outcome}; send it again shortly")


def _accepted(verdict: Verdict) -> dict[str, Any]:
    out: dict[str, Any] = {"id": verdict.id, "status": "ACCEPTED"}
    if verdict.problems:
        out["warnings"] = verdict.problems
    return out


def api_routes(engine: Engine) -> list[Route]:
    api_key = engine.settings.api_key

    def unauthorized(request: Request) -> Response | None:
        if api_key is None:
            return None
        given = request.headers.get("authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {api_key.reveal()}".encode()):
            return None
        return error(401, "send the engine's API key as `Authorization: Bearer <key>`")

    async def read_messages(request: Request) -> tuple[list[Any], str | None] | Response:
        """The body's messages (one message, or `{"messages": [...]}`) and the path their problems get."""
        raw = await request.body()
        try:
            # Only the envelope is read here; each message is decoded once, straight into its model.
            envelope = _envelope_decoder.decode(raw)
        except msgspec.DecodeError as exc:
            if isinstance(exc, msgspec.ValidationError):
                return error(400, "send a message object, or an object with a `messages` list")
            return error(400, f"the body is not valid JSON: {exc}")
        if envelope.messages is None:
            return [raw], None
        if not envelope.messages:
            return error(400, "`messages` is empty")
        if len(envelope.messages) > MAX_BATCH:
            return error(413, f"{len(envelope.messages)} messages in one request; send at most {MAX_BATCH}")
        return envelope.messages, "$.messages"

    async def post_messages(request: Request) -> Response:
        if denied := unauthorized(request):
            return denied
        read = await read_messages(request)
        if isinstance(read, Response):
            return read
        raws, path = read
        try:
            verdicts = await engine.intake.submit(raws, path)
        except Exception as exc:
            return store_failed("nothing was accepted", exc)
        if path is None:
            v = verdicts[0]
            if not v.accepted:
                return error(400, "the message was refused", v.problems)
            return MsgspecResponse(_accepted(v), status_code=202)
        entries = [
            {"index": v.index, **_accepted(v)}
            if v.accepted
            else {"index": v.index, "status": "REFUSED", "problems": v.problems}
            for v in verdicts
        ]
        accepted = sum(1 for v in verdicts if v.accepted)
        return MsgspecResponse(
            {"accepted": accepted, "refused": len(verdicts) - accepted, "messages": entries},
            status_code=202 if accepted else 400,
        )

    async def check_messages(request: Request) -> Response:
        if denied := unauthorized(request):
            return denied
        read = await read_messages(request)
        if isinstance(read, Response):
            return read
        verdicts = await engine.intake.inspect(*read)
        entries = [
            {"index": v.index, "valid": not refuses(v.problems), "problems": v.problems} for v in verdicts
        ]
        return MsgspecResponse({"messages": entries})

    async def get_message(request: Request) -> Response:
        if denied := unauthorized(request):
            return denied
        view = await engine.store.get_message(request.path_params["id"])
        if view is None:
            return error(404, f"no message with id {request.path_params['id']!r}")
        return MsgspecResponse(view)

    async def healthz(request: Request) -> Response:
        try:
            stats = await engine.store.stats()
        except Exception as exc:  # the store is the one dependency worth reporting
            return JSONResponse({"status": "unhealthy", "store": str(exc)}, status_code=503)
        return JSONResponse(
            {
                "status": "ok",
                "queued": stats.get("queued", 0),
                "outbox": stats.get("outbox", 0),
                "process": os.getpid(),  # which worker answered, when several share the port
            }
        )

    async def metrics(request: Request) -> Response:
        text = engine.metrics.render(await engine.store.stats())
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    async def plugins(request: Request) -> Response:
        return JSONResponse(engine.plugins.describe())

    return [
        Route("/v1/messages", post_messages, methods=["POST"]),
        Route("/v1/messages/check", check_messages, methods=["POST"]),
        Route("/v1/messages/{id}", get_message, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/-/plugins", plugins, methods=["GET"]),
    ]
