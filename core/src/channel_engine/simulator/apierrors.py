"""Infobip's error answers (`ApiError`), word for word from the specs' `components.responses`."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import Response

_ERRORS: dict[int, dict[str, Any]] = {
    400: {
        "errorCode": "E400",
        "description": "Request cannot be processed.",
        "action": "Check the syntax, violations and adjust the request.",
        "resources": [],
    },
    401: {
        "errorCode": "E401",
        "description": "The request lacks valid authentication credentials for the requested resource.",
        "action": "Check the resources and adjust authentication credentials.",
        "resources": [
            {
                "name": "API Authentication",
                "url": "https://www.infobip.com/docs/essentials/api-authentication",
            }
        ],
    },
    429: {
        "errorCode": "E429",
        "description": "Too many requests sent.",
        "action": "Check request rate limit specified in the API endpoint documentation resource.",
        "resources": [
            {
                "name": "Throttling handling errors",
                "url": "https://www.infobip.com/docs/essentials/integration-best-practices#throttling-handling-errors",
            }
        ],
    },
    500: {
        "errorCode": "E500",
        "description": "Something went wrong.",
        "action": "Contact the support.",
        "resources": [],
    },
}


def api_error_body(status: int, violations: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """Infobip's ApiError for an HTTP status (400, 401, 429 or 500)."""
    base = _ERRORS[status]
    return {
        "errorCode": base["errorCode"],
        "description": base["description"],
        "action": base["action"],
        "violations": [{"property": p, "violation": v} for p, v in violations or []],
        "resources": base["resources"],
    }


def api_error(status: int, violations: list[tuple[str, str]] | None = None) -> Response:
    headers = {"Retry-After": "1"} if status == 429 else None
    return Response(
        msgspec.json.encode(api_error_body(status, violations)),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )
