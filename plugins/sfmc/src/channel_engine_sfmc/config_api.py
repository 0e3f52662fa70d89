"""The configuration API: one JSON document per business unit, behind the engine's API key.

GET    /sfmc/config                  every configured business unit (secrets masked)
GET    /sfmc/config/{mid}            one
PUT    /sfmc/config/{mid}            create or replace; a masked secret sent back keeps the stored one
DELETE /sfmc/config/{mid}
POST   /sfmc/config/{mid}/validate   check the SFMC and every Infobip credential against the live services
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channel_engine import HostServices
from channel_engine.documents import api_key_refusal, check_infobip_account, keeping_secrets, validation_path

from .config import BusinessUnit
from .journey_builder import not_configured
from .sfmc_api import SfmcApi
from .units import Units

log = logging.getLogger("channel_engine.sfmc")


def config_routes(services: HostServices, units: Units, api: SfmcApi, http: httpx.AsyncClient) -> list[Route]:
    def denied(request: Request) -> Response | None:
        return api_key_refusal(services, request)

    async def list_units(request: Request) -> Response:
        if refused := denied(request):
            return refused
        return JSONResponse({"businessUnits": [unit.masked() for unit in await units.all()]})

    async def get_unit(request: Request) -> Response:
        if refused := denied(request):
            return refused
        unit = await units.get(request.path_params["mid"])
        if unit is None:
            return not_configured(request.path_params["mid"])
        return JSONResponse(unit.masked())

    async def put_unit(request: Request) -> Response:
        if refused := denied(request):
            return refused
        mid = request.path_params["mid"]
        raw = await request.body()
        try:
            body = msgspec.json.decode(raw)
            if isinstance(body, dict):
                body.setdefault("mid", mid)
            unit = msgspec.convert(body, BusinessUnit)
        except msgspec.ValidationError as exc:
            return JSONResponse({"error": str(exc), "path": validation_path(exc)}, status_code=400)
        except msgspec.DecodeError as exc:
            return JSONResponse({"error": f"the body is not valid JSON: {exc}"}, status_code=400)
        if unit.mid != mid:
            return JSONResponse(
                {"error": f"$.mid is {unit.mid}, but the URL names business unit {mid}", "path": "$.mid"},
                status_code=400,
            )
        names = [a.name for a in unit.infobip_accounts]
        if len(set(names)) != len(names):
            return JSONResponse(
                {"error": "two Infobip accounts have the same name", "path": "$.infobipAccounts"}, 400
            )
        unit, masked = keeping_secrets(unit, await units.get(mid))
        if masked:
            return JSONResponse(
                {
                    "error": f"{masked[0]} is the mask, but no secret is stored to keep: send the "
                    "secret itself",
                    "path": masked[0],
                },
                status_code=400,
            )
        try:
            await units.put(unit)
        except Exception as exc:
            log.error("storing business unit %s failed: %s", mid, type(exc).__name__)
            return JSONResponse({"error": "the store is unavailable; send it again shortly"}, status_code=503)
        return JSONResponse(unit.masked())

    async def delete_unit(request: Request) -> Response:
        if refused := denied(request):
            return refused
        if not await units.delete(request.path_params["mid"]):
            return not_configured(request.path_params["mid"])
        return Response(status_code=204)

    async def validate(request: Request) -> Response:
        if refused := denied(request):
            return refused
        unit = await units.get(request.path_params["mid"])
        if unit is None:
            return not_configured(request.path_params["mid"])
        checks = [await _check_sfmc(api, unit)]
        checks += [await check_infobip_account(http, account) for account in unit.infobip_accounts]
        ok = all(c["ok"] for c in checks)
        return JSONResponse({"valid": ok, "checks": checks}, status_code=200 if ok else 422)

    return [
        Route("/config", list_units, methods=["GET"]),
        Route("/config/{mid}", get_unit, methods=["GET"]),
        Route("/config/{mid}", put_unit, methods=["PUT"]),
        Route("/config/{mid}", delete_unit, methods=["DELETE"]),
        Route("/config/{mid}/validate", validate, methods=["POST"]),
    ]


async def _check_sfmc(api: SfmcApi, unit: BusinessUnit) -> dict[str, Any]:
    try:
        await api.check(unit.mid, unit.sfmc)
    except Exception as exc:
        return {"service": "sfmc", "ok": False, "reason": getattr(exc, "message", None) or str(exc)}
    return {"service": "sfmc", "ok": True}
