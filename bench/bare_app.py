"""The baseline: a bare starlette endpoint that reads the request body and answers 202.

It runs on uvicorn's own httptools protocol, with the engine's other uvicorn settings: a bare starlette
app as anyone would serve it. `--protocol engine` serves it on the engine's protocol instead
(server.HttpProtocol, one send per response), to show what that protocol alone is worth."""

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

PROTOCOLS = {"uvicorn": "httptools", "engine": server.HttpProtocol}

if __name__ == "__main__":
    protocol = sys.argv[sys.argv.index("--protocol") + 1] if "--protocol" in sys.argv else "uvicorn"
    sock = server.bind("127.0.0.1", 0)
    print(f"bare starlette ({protocol} protocol) on {server.url_of(sock)}", file=sys.stderr, flush=True)
    import uvloop

    uvloop.run(server.make_server(app, http=PROTOCOLS[protocol]).serve(sockets=[sock]))
