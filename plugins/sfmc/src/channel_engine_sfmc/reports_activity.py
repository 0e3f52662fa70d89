"""The "Get Reports" activity: for the message a chosen message activity sent to this contact, what the
chosen report extension holds, as Journey Data for a decision split.

inArguments: `messageActivityId` (the message activity's id in this journey version) and `dataExtension`
(the key of the report extension to read; a click extension answers click fields). Nothing yet answers
NOT_AVAILABLE (delivery) or NOT_CLICKED (clicks), as the seeds describe; `seenAt` is SEEN or NOT_SEEN.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channel_engine import HostServices

from .activity import SENT_NAMESPACE, sent_key
from .bodies import Refused, read_body
from .data_extensions import UNIFIED_URL_TRACKING, VIBER_URL_TRACKING
from .in_arguments import DesignError, ExecuteCall
from .sink import ROWS_NAMESPACE, row_key
from .units import Units

DELIVERY_FIELDS = ("statusName", "statusGroupName", "errorName", "doneAt", "sentAt", "seenAt")
CLICK_FIELDS = ("notificationType", "url")
NOT_AVAILABLE = "NOT_AVAILABLE"
NOT_CLICKED = "NOT_CLICKED"


def config_json(base: str, mid: str) -> dict[str, Any]:
    root = f"{base}/sfmc/{mid}/reports"
    out_arguments = [
        {name: {"dataType": "Text", "direction": "out", "access": "visible"}}
        for name in (*DELIVERY_FIELDS, *CLICK_FIELDS, "messageId")
    ]
    return {
        "workflowApiVersion": "1.1",
        "metaData": {"icon": "images/icon.svg", "category": "custom", "isConfigured": False},
        "type": "REST",
        "lang": {
            "en-US": {
                "name": "Infobip Reports",
                "description": "Delivery, seen and click reports "
                "of an Infobip message activity, for decision splits",
            }
        },
        "arguments": {
            "execute": {
                "inArguments": [],
                "outArguments": [],
                "url": f"{root}/execute",
                "verb": "POST",
                "format": "json",
                "useJwt": True,
                "timeout": 10000,
                "retryCount": 3,
                "retryDelay": 1000,
            }
        },
        "configurationArguments": {
            name: {"url": f"{root}/{name}", "verb": "POST", "useJwt": True}
            for name in ("save", "publish", "validate", "stop")
        },
        "userInterfaces": {"configInspector": {"size": "scm-md", "emptyIframe": True}},
        "schema": {"arguments": {"execute": {"inArguments": [], "outArguments": out_arguments}}},
    }


def is_click_extension(key: str, click_key: str) -> bool:
    return key in {click_key, UNIFIED_URL_TRACKING.key, VIBER_URL_TRACKING.key}


def delivery_answer(row: dict[str, Any] | None) -> dict[str, str]:
    if not row or not row.get("statusName"):
        return {
            f: NOT_AVAILABLE if f in ("statusName", "statusGroupName") else "" for f in DELIVERY_FIELDS
        } | {"seenAt": "NOT_SEEN"}
    answer = {f: str(row.get(f) or "") for f in DELIVERY_FIELDS}
    answer["seenAt"] = "SEEN" if row.get("seenAt") else "NOT_SEEN"
    return answer


def click_answer(row: dict[str, Any] | None) -> dict[str, str]:
    if not row:
        return {"notificationType": NOT_CLICKED, "url": NOT_CLICKED}
    return {
        "notificationType": str(row.get("notificationType") or "CLICKED"),
        "url": str(row.get("url") or ""),
    }


def reports_routes(services: HostServices, units: Units) -> list[Route]:
    sent = services.data(SENT_NAMESPACE)
    rows = services.data(ROWS_NAMESPACE)

    async def config(request: Request) -> Response:
        return JSONResponse(config_json(services.base_url, request.path_params["mid"]))

    async def verified(request: Request) -> tuple[Any, dict[str, Any]] | Response:
        mid = request.path_params["mid"]
        unit = await units.get(mid)
        if unit is None:
            return JSONResponse({"error": f"business unit {mid} is not configured"}, status_code=404)
        try:
            return unit, await read_body(request, unit)
        except Refused as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)

    async def lifecycle(request: Request) -> Response:
        read = await verified(request)
        return read if isinstance(read, Response) else JSONResponse({"success": True})

    async def execute(request: Request) -> Response:
        read = await verified(request)
        if isinstance(read, Response):
            return read
        unit, body = read
        try:
            call = ExecuteCall.read(body)
        except DesignError as exc:
            return JSONResponse({"statusName": f"Error: {exc}"})
        activity = str(call.arguments.get("messageActivityId") or "")
        extension = str(
            call.arguments.get("dataExtension") or unit.report_storage.native.sms_delivery_reports
        )
        message_id = (await sent.get(sent_key(activity, call.contact_key)) or b"").decode()
        row = await rows.get_json(row_key(extension, message_id)) if message_id else None
        if is_click_extension(extension, unit.report_storage.native.url_click_reports):
            answer = click_answer(row) | dict.fromkeys(DELIVERY_FIELDS, "")
        else:
            answer = delivery_answer(row) | dict.fromkeys(CLICK_FIELDS, "")
        return JSONResponse(answer | {"messageId": message_id})

    return [
        Route("/{mid}/reports/config.json", config, methods=["GET"]),
        Route("/{mid}/reports/execute", execute, methods=["POST"]),
        *(
            Route(f"/{{mid}}/reports/{name}", lifecycle, methods=["POST"])
            for name in ("save", "publish", "validate", "stop")
        ),
    ]
