"""The built-in simulator's part of Infobip's Conversations API: a bot conversation's message history.

    GET  /ccaas/1/conversations/{id}/messages?limit=&page=&orderBy=createdAt:asc|desc
         {"messages": [...], "pagination": {"totalItems", "page", "limit", "orderBy"}}; 404 for an unknown id
    POST /-/simulator/ccaas/conversations/{id}/messages
         seeds a conversation with messages as the history answers them (`id`, `channel`, `from`, `to`,
         `direction`, `conversationId`, `createdAt`, `contentType`, `content`): what a chatbot and its end
         user said before the handover

Imported only when a simulator is built.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

MAX_LIMIT = 999


def routes() -> list[Route]:
    conversations: dict[str, list[dict[str, Any]]] = {}

    async def history(request: Request) -> Response:
        found = conversations.get(request.path_params["conversation_id"])
        if found is None:
            return JSONResponse(
                {
                    "errorCode": "E404",
                    "description": "Conversation not found",
                    "action": None,
                    "violations": [],
                },
                404,
            )
        try:
            limit = min(int(request.query_params.get("limit", 10)), MAX_LIMIT)
            page = int(request.query_params.get("page", 0))
        except ValueError:
            return JSONResponse({"errorCode": "E400", "description": "limit and page must be numbers"}, 400)
        order = request.query_params.get("orderBy", "id:asc")
        field, _, direction = order.partition(":")
        ordered = sorted(found, key=lambda m: str(m.get(field, "")), reverse=direction.lower() == "desc")
        body = {
            "messages": ordered[page * limit : (page + 1) * limit],
            "pagination": {"totalItems": len(found), "page": page, "limit": limit, "orderBy": order},
        }
        return JSONResponse(body)

    async def seed(request: Request) -> Response:
        messages = await request.json()
        conversation_id = request.path_params["conversation_id"]
        stored = conversations.setdefault(conversation_id, [])
        stored += [m | {"conversationId": conversation_id} for m in messages]
        return JSONResponse({"messages": len(stored)})

    return [
        Route("/ccaas/1/conversations/{conversation_id}/messages", history, methods=["GET"]),
        Route("/-/simulator/ccaas/conversations/{conversation_id}/messages", seed, methods=["POST"]),
    ]
