"""What both activities share with Journey Builder: their config.json, and reading a verified call."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .bodies import Refused, read_body
from .config import BusinessUnit
from .in_arguments import ExecuteCall
from .units import Units

LIFECYCLE = ("save", "publish", "validate", "stop")


def activity_config(
    root: str,
    *,
    name: str,
    description: str,
    category: str,
    out_arguments: list[str],
    size: str,
    customer_key: str | None = None,
) -> dict[str, Any]:
    """A custom activity's config.json: every endpoint under `root`, JWT-signed, text outArguments. With a
    `customer_key` (a Key Management salt key's external key) Journey Builder signs every call with that
    salt key instead of the installed package's JWT signing secret."""
    signing = {"useJwt": True} | ({"customerKey": customer_key} if customer_key else {})
    execute = {"url": f"{root}/execute", "verb": "POST", "format": "json", **signing, "timeout": 10000}
    return {
        "workflowApiVersion": "1.1",
        "metaData": {"icon": "images/icon.svg", "category": category, "isConfigured": False},
        "type": "REST",
        "lang": {"en-US": {"name": name, "description": description}},
        "arguments": {
            "execute": {
                "inArguments": [],
                "outArguments": [],
                **execute,
                # 5xx and network errors only (an engine fault): contact data never gets a non-200.
                "retryCount": 3,
                "retryDelay": 1000,
                "concurrentRequests": 5,
            }
        },
        "configurationArguments": {
            call: {"url": f"{root}/{call}", "verb": "POST", **signing, "timeout": 10000} for call in LIFECYCLE
        },
        # Journey Builder loads the inspector page from `{root}/index.html` (served by inspector.py).
        "userInterfaces": {"configInspector": {"size": size}},
        "schema": {
            "arguments": {
                "execute": {
                    "inArguments": [],
                    "outArguments": [
                        {out: {"dataType": "Text", "direction": "out", "access": "visible"}}
                        for out in out_arguments
                    ],
                }
            }
        },
    }


async def customer_key(request: Request, units: Units) -> str | None:
    """The salt key's external key of the business unit in the URL, for its config.json (None for a unit
    without one, or not configured: its config.json is then the plain one, as before)."""
    unit = await units.get(request.path_params["mid"])
    return unit.sfmc.jwt_customer_key if unit is not None else None


def not_configured(mid: str) -> JSONResponse:
    return JSONResponse({"error": f"business unit {mid} is not configured"}, status_code=404)


async def verified_call(request: Request, units: Units) -> tuple[BusinessUnit, dict[str, Any]] | Response:
    """The business unit named in the URL and the body it signed, or the answer that refuses the call."""
    mid = request.path_params["mid"]
    unit = await units.get(mid)
    if unit is None:
        return not_configured(mid)
    try:
        return unit, await read_body(request, unit)
    except Refused as exc:
        return JSONResponse({"error": exc.message}, status_code=exc.status)


async def verified_execute(request: Request, units: Units) -> tuple[BusinessUnit, ExecuteCall] | Response:
    """The business unit and the execute call it signed, or the answer that refuses the call. Raises
    `DesignError` when `inArguments` is not an array of objects (the activity's configuration)."""
    read = await verified_call(request, units)
    if isinstance(read, Response):
        return read
    unit, body = read
    return unit, ExecuteCall.read(body)
