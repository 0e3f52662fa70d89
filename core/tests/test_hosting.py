"""Host plugins: their HTTP endpoints under their own prefix, their lifecycle, the services they get, and
their command-line subcommands."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channel_engine import OutboundMessage, PluginError, hookimpl
from channel_engine.cli import main
from channel_engine.hosting import HostApp, HostServices, MsgspecResponse
from channel_engine.testing.harness import run_engine


class EchoHost:
    """A host that serves /echo: it submits the message it is given and answers what the engine said."""

    def __init__(self, prefix: str = "/echo") -> None:
        self.__name__ = f"echo-host{prefix.replace('/', '-')}-{id(self)}"
        self.prefix = prefix
        self.events: list[str] = []
        self.services: HostServices | None = None

    @hookimpl
    def register_host_apps(self, register: Any, services: HostServices) -> None:
        self.services = services

        async def send(request: Request) -> JSONResponse:
            message = OutboundMessage(channel="sms", destination=request.query_params.get("to"))
            message.content = {"text": "hello"}
            message.id = request.query_params.get("id")
            verdict = (await services.submit([message]))[0]
            await services.data("echo").put("last", (verdict.id or "refused").encode())
            return JSONResponse(
                {"id": verdict.id, "problems": [p.status or p.message for p in verdict.problems]}
            )

        async def start() -> None:
            self.events.append("start")

        async def stop() -> None:
            self.events.append("stop")

        register(HostApp(self.prefix, [Route("/send", send, methods=["POST"])], start, stop))


async def test_a_host_app_serves_its_routes_and_submits_through_intake(tmp_path: Path) -> None:
    host = EchoHost()
    async with run_engine(tmp_path, host) as harness:
        assert host.events == ["start"]
        ok = await harness.http.post("/echo/send", params={"to": "41793026727", "id": "echo-1"})
        assert ok.json() == {"id": "echo-1", "problems": []}
        again = await harness.http.post("/echo/send", params={"to": "41793026727", "id": "echo-1"})
        assert again.json()["id"] == "echo-1"  # the same id is stored once
        refused = await harness.http.post("/echo/send")
        assert refused.json() == {"id": None, "problems": ["Error: Missing phone number in request"]}

        assert host.services is not None
        assert await host.services.data("echo").get("last") == b"refused"
        assert (await host.services.message("echo-1")) is not None
        assert host.services.unseal(host.services.seal(b"secret")) == b"secret"
        assert host.services.api_key_accepts("Bearer x") is None  # no API key configured
        for _ in range(200):
            view = await harness.view("echo-1")
            if view["state"] != "QUEUED":
                break
            await asyncio.sleep(0.01)
        assert [e["event"] for e in view["timeline"]].count("ACCEPTED") == 1
    assert host.events == ["start", "stop"]


@pytest.mark.parametrize("prefix", ["/v1", "/echo"])
async def test_two_apps_on_one_prefix_stop_the_engine(tmp_path: Path, prefix: str) -> None:
    with pytest.raises(PluginError, match="give each host app its own prefix"):
        async with run_engine(tmp_path, EchoHost("/echo"), EchoHost(prefix)):
            pass


class CommandPlugin:
    __name__ = "command-plugin"

    @hookimpl
    def register_commands(self, add: Any) -> None:
        parser = add("hello", help="say hello")
        parser.add_argument("--name", default="world")
        parser.set_defaults(func=lambda args: print(f"hello {args.name}") or 3)


def test_plugins_add_subcommands(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from channel_engine import plugins as plugin_module

    real = plugin_module.get_plugin_manager
    monkeypatch.setattr(plugin_module, "get_plugin_manager", lambda: real([CommandPlugin()]))
    assert main(["hello", "--name", "SFMC"]) == 3
    assert capsys.readouterr().out == "hello SFMC\n"


@pytest.mark.parametrize("status", [200, 202, 400, 503, 204, 304, 101])
@pytest.mark.parametrize("headers", [None, {"Retry-After": "5"}])
def test_a_msgspec_answer_has_the_headers_starlette_would_give_it(
    status: int, headers: dict[str, str] | None
) -> None:
    class Starlettes(Response):
        media_type = "application/json"

    ours = MsgspecResponse({"messageStatus": "Success"}, status_code=status, headers=headers)
    assert ours.body == b'{"messageStatus":"Success"}'
    assert ours.raw_headers == Starlettes(ours.body, status_code=status, headers=headers).raw_headers
