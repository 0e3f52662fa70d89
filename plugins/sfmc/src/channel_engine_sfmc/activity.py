"""The Journey Builder message activity: `config.json`, the lifecycle calls and `execute`.

Every URL carries the business unit's MID, so the right signing secret verifies a body before it is read.
`execute` answers 200 with `messageStatus` for anything about the contact or the activity's settings: a
non-200 ejects the contact from the journey. Only an engine fault (the store down) answers 5xx, which
Journey Builder retries; the retry carries the same activity instance and contact, so it has the same
retry key, answers the first execute's message id and sends nothing twice.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channel_engine import SUCCESS_STATUS, HostServices, MsgspecResponse, OutboundMessage, Problem
from channel_engine.hosting import refuses

from .config import BusinessUnit
from .in_arguments import DesignError, ExecuteCall, build_message, unbound_placeholders
from .journey_builder import LIFECYCLE, activity_config, customer_key, verified_call, verified_execute
from .units import Units, account_name

log = logging.getLogger("channel_engine.sfmc")


def message_status(problems: list[Problem]) -> str:
    """The seeds' exact text for the first error, or `Error: <why>` where the seeds have none."""
    first = next(p for p in problems if p.severity == "error")
    return first.status or f"Error: {first.message}"


def answer(status: str, message_id: str | None = None) -> Response:
    """What execute returns to Journey Builder: 200 with the outArguments, whatever became of the contact."""
    return MsgspecResponse({"messageStatus": status, "messageId": message_id or ""})


def config_json(base: str, mid: str, customer_key: str | None = None) -> dict[str, Any]:
    return activity_config(
        f"{base}/sfmc/{mid}/message",
        name="Infobip Message",
        description="SMS, LMS, MMS, WhatsApp, Viber, Kakao and RCS through Channel Engine",
        category="message",
        out_arguments=["messageStatus", "messageId"],
        size="scm-lg",
        customer_key=customer_key,
    )


def design_problems(unit: BusinessUnit, body: dict[str, Any]) -> list[str]:
    """What is wrong with an activity's saved configuration, when the lifecycle call carries it."""
    raw = (((body.get("arguments") or {}).get("execute") or {}).get("inArguments")) or body.get("inArguments")
    if raw is None:
        return []
    try:
        call = ExecuteCall.read({"inArguments": raw})
        problems = [
            f"%%{name}%% has no contact field bound to it" for name in unbound_placeholders(call.arguments)
        ]
        account = call.arguments.get("account")
        if account and unit.account(account) is None:
            problems.append(f"account: business unit {unit.mid} has no Infobip account called {account!r}")
        domain = (call.arguments.get("urlOptions") or {}).get("customDomain")
        if domain and domain not in unit.custom_domains:
            problems.append(
                f"urlOptions.customDomain: {domain!r} is not one of the configured custom domains"
            )
        build_message(call, unit.mid, None)
    except DesignError as exc:
        problems = [str(exc)]
    return problems


async def message_for(request: Request, units: Units) -> tuple[str, OutboundMessage] | Response:
    """An execute call's business unit (its MID) and the engine message for its contact, or the answer
    that refuses the call (an unverified body) or the activity's configuration (200, `messageStatus`)."""
    try:
        read = await verified_execute(request, units)
        if isinstance(read, Response):
            return read
        unit, call = read
        account = call.arguments.get("account")
        chosen = unit.account(account) if account else unit.account(None)
        if account and chosen is None:
            raise DesignError(
                "account", f"business unit {unit.mid} has no Infobip account called {account!r}"
            )
        message = build_message(call, unit.mid, account_name(unit.mid, chosen.name) if chosen else None)
    except DesignError as exc:
        return answer(f"Error: {exc}")
    if chosen is not None:
        await units.use_account(unit.mid, chosen)
    return unit.mid, message


def activity_routes(services: HostServices, units: Units) -> list[Route]:
    async def config(request: Request) -> Response:
        mid = request.path_params["mid"]
        return JSONResponse(config_json(services.base_url, mid, await customer_key(request, units)))

    async def lifecycle(request: Request) -> Response:
        read = await verified_call(request, units)
        if isinstance(read, Response):
            return read
        unit, body = read
        problems = design_problems(unit, body)
        if problems:
            return JSONResponse(
                {"error": "the activity's configuration is not valid", "problems": problems}, 400
            )
        return JSONResponse({"success": True})

    async def execute(request: Request) -> Response:
        # Only the message outlives this step: the body, its claims and the call are freed before the
        # store's round trip, so the memory of the requests waiting on it is reused while still in cache.
        prepared = await message_for(request, units)
        if isinstance(prepared, Response):
            return prepared
        mid, message = prepared
        problems = services.check(message)
        if refuses(problems):  # judged before anything is written: a refused contact costs no write
            return answer(message_status(problems))
        try:  # the message is not validated a second time
            (verdict,) = await services.submit([message], checked=[problems])
        except Exception as exc:  # the engine's own fault: 5xx, which Journey Builder retries
            log.error("execute for business unit %s failed: %s: %s", mid, type(exc).__name__, exc)
            return JSONResponse({"error": "the engine could not store the message; it will be retried"}, 503)
        if not verdict.accepted:
            return answer(message_status(verdict.problems))
        return answer(SUCCESS_STATUS, verdict.id)

    return [
        Route("/{mid}/message/config.json", config, methods=["GET"]),
        Route("/{mid}/message/execute", execute, methods=["POST"]),
        *(Route(f"/{{mid}}/message/{name}", lifecycle, methods=["POST"]) for name in LIFECYCLE),
    ]
