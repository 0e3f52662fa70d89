"""The "Get Reports" activity: for the message a chosen message activity sent to this contact, what the
chosen report extension holds, as Journey Data for a decision split.

inArguments: `messageActivityId` (the message activity's id in this journey version), `dataExtension`
(the key of the report extension to read; a click extension answers click fields) and `messageId`, bound by
the inspector to the message activity's outArgument (`{{Interaction.<its key>.messageId}}`), so Journey
Builder hands over the very message this contact's journey sent: a contact that entered again, or whose
execute answered an error, is not mistaken for another run's message. Nothing yet answers NOT_AVAILABLE
(delivery) or NOT_CLICKED (clicks), as the seeds describe; `seenAt` is SEEN or NOT_SEEN.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channel_engine import HostServices

from .data_extensions import UNIFIED_URL_TRACKING, VIBER_URL_TRACKING
from .in_arguments import HOST, DesignError, ExecuteCall
from .journey_builder import LIFECYCLE, activity_config, customer_key, verified_call, verified_execute
from .sink import ROWS_NAMESPACE, row_key, stored_delivery_row
from .units import Units

DELIVERY_FIELDS = ("statusName", "statusGroupName", "errorName", "doneAt", "sentAt", "seenAt")
CLICK_FIELDS = ("notificationType", "url")
NOT_AVAILABLE = "NOT_AVAILABLE"
NOT_CLICKED = "NOT_CLICKED"
BOUND_MESSAGE_ID = "messageId"


async def bound_message_id(services: HostServices, call: ExecuteCall, mid: str) -> str:
    """The message id Journey Builder resolved from the message activity's outArgument, when it names a
    message this business unit sent this contact; "" when the contact has none (the binding did not resolve
    because the contact took another path, or its execute answered an error and no id)."""
    if BOUND_MESSAGE_ID not in call.arguments:
        raise DesignError(
            BOUND_MESSAGE_ID,
            "not bound to the message activity's messageId: open this activity in Journey Builder, "
            "choose its message activity and save it again",
        )
    bound = str(call.arguments.get(BOUND_MESSAGE_ID) or "")
    if not bound or "{{" in bound:
        return ""
    view = await services.message(bound)
    host = view.host if view is not None else None
    context = host.context if host is not None and host.name == HOST else {}
    sent_here = context.get("mid") == mid and context.get("contactKey") == call.contact_key
    return bound if sent_here else ""


def config_json(base: str, mid: str, customer_key: str | None = None) -> dict[str, Any]:
    return activity_config(
        f"{base}/sfmc/{mid}/reports",
        name="Infobip Reports",
        description="Delivery, seen and click reports of an Infobip message activity, for decision splits",
        category="custom",
        out_arguments=[*DELIVERY_FIELDS, *CLICK_FIELDS, "messageId"],
        size="scm-md",
        customer_key=customer_key,
    )


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
    rows = services.data(ROWS_NAMESPACE)

    async def config(request: Request) -> Response:
        mid = request.path_params["mid"]
        return JSONResponse(config_json(services.base_url, mid, await customer_key(request, units)))

    async def lifecycle(request: Request) -> Response:
        read = await verified_call(request, units)
        return read if isinstance(read, Response) else JSONResponse({"success": True})

    async def execute(request: Request) -> Response:
        try:
            read = await verified_execute(request, units)
            if isinstance(read, Response):
                return read
            unit, call = read
            message_id = await bound_message_id(services, call, unit.mid)
        except DesignError as exc:
            return JSONResponse({"statusName": f"Error: {exc}"})
        extension = str(
            call.arguments.get("dataExtension") or unit.report_storage.native.sms_delivery_reports
        )
        if is_click_extension(extension, unit.report_storage.native.url_click_reports):
            row = await rows.get_json(row_key(extension, message_id)) if message_id else None
            answer = click_answer(row) | dict.fromkeys(DELIVERY_FIELDS, "")
        else:
            # The seen time is kept beside the delivery row (see sink.py), so both are read.
            row = await stored_delivery_row(rows, extension, message_id) if message_id else None
            answer = delivery_answer(row) | dict.fromkeys(CLICK_FIELDS, "")
        return JSONResponse(answer | {"messageId": message_id})

    return [
        Route("/{mid}/reports/config.json", config, methods=["GET"]),
        Route("/{mid}/reports/execute", execute, methods=["POST"]),
        *(Route(f"/{{mid}}/reports/{name}", lifecycle, methods=["POST"]) for name in LIFECYCLE),
    ]
