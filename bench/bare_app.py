"""The baseline: a bare starlette endpoint that reads the request body and answers 202, on the same
uvicorn settings as the engine."""

from __future__ import annotations

import sys

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channel_engine import server


async def messages(request: Request) -> Response:
    await request.body()
    return JSONResponse({"status": "ACCEPTED"}, status_code=202)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/v1/messages", messages, methods=["POST"]), Route("/healthz", healthz)])

if __name__ == "__main__":
    sock = server.bind("127.0.0.1", 0)
    print(f"bare starlette on {server.url_of(sock)}", file=sys.stderr, flush=True)
    import uvloop

    uvloop.run(server.make_server(app).serve(sockets=[sock]))
