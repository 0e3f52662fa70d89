"""`channel-engine`: the command line.

serve       run the engine (HTTP API, webhooks, dispatcher)
simulator   run the Infobip simulator on its own
plugins     list installed plugins
send        send one message through a running engine and follow it to its final status
demo        a realistic campaign on the embedded defaults, through the real HTTP path
accounts    add, list or remove Infobip accounts (API keys are stored encrypted)
keygen      print a new CHANNEL_ENGINE_SECRET_KEY

Installed plugins add their own commands (e.g. `channel-engine sfmc install-package`).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from .errors import ChannelEngineError


def _run(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:  # pragma: no cover - uvloop is a dependency except on Windows
        return asyncio.run(coro)


def cmd_serve(args: argparse.Namespace) -> int:
    from . import config, server
    from .engine import Engine, create_app

    sock = server.bind(args.host, args.port)
    overrides: dict[str, Any] = {"host": args.host, "port": sock.getsockname()[1]}
    if args.data_dir:
        overrides["data_dir"] = Path(args.data_dir)
    settings = config.from_env(**overrides)
    if args.workers < 1:
        raise ChannelEngineError("--workers must be 1 or more")
    if args.workers > 1:
        return _serve_workers(args, sock, settings)
    engine = Engine(settings)
    app = create_app(engine)
    print(f"channel-engine listening on {server.url_of(sock)} (data in {settings.data_dir})", file=sys.stderr)

    async def main() -> None:
        srv = server.make_server(app, log_level=args.log_level, access_log=args.access_log)
        await srv.serve(sockets=[sock])

    _run(main())
    return 0


def _serve_workers(args: argparse.Namespace, sock: Any, settings: Any) -> int:
    from . import server
    from .secret_box import SecretBox

    # Each worker reads its settings from the environment it inherits: put the command line's there.
    os.environ.update(
        CHANNEL_ENGINE_HOST=args.host,
        CHANNEL_ENGINE_PORT=str(settings.port),
        CHANNEL_ENGINE_DATA_DIR=str(settings.data_dir),
    )
    SecretBox.load(settings.data_dir)  # the key every worker shares, made once before they start
    store = (
        "SQLite in " + str(settings.data_dir)
        if not settings.store_url
        else settings.store_url.split("://")[0]
    )
    print(
        f"channel-engine listening on {server.url_of(sock)} with {args.workers} worker processes ({store})",
        file=sys.stderr,
        flush=True,
    )
    server.serve_workers(
        "channel_engine.engine:app_from_env",
        sock,
        args.workers,
        log_level=args.log_level,
        access_log=args.access_log,
    )
    return 0


def cmd_simulator(args: argparse.Namespace) -> int:
    from . import server
    from .plugins import get_plugin_manager
    from .simulator import simulator_from_plugins

    keys = set(args.api_key or []) or {os.environ.get("CHANNEL_ENGINE_SIMULATOR_API_KEY", "simulator")}
    sim = simulator_from_plugins(
        get_plugin_manager(), api_keys=keys, report_delay=args.report_delay, inbound_url=args.inbound_url
    )
    sock = server.bind(args.host, args.port)
    print(f"Infobip simulator on {server.url_of(sock)}; API keys: {len(keys)} configured", file=sys.stderr)

    async def main() -> None:
        await server.make_server(sim.app, log_level=args.log_level).serve(sockets=[sock])

    _run(main())
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    from .plugins import get_plugin_manager

    described = get_plugin_manager().describe()
    if args.json:
        print(json.dumps(described, indent=2))
        return 0
    print(f"{'name':<28} {'version':<9} {'kind':<14} {'provides':<20} hooks")
    for p in described:
        provides = ",".join([*p["channels"], *p["hosts"]])  # type: ignore[misc]
        hooks = ", ".join(p["hooks"])  # type: ignore[arg-type]
        print(f"{p['name']:<28} {p['version'] or '-':<9} {p['kind']:<14} {provides:<20} {hooks}")
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    from .sending import send_and_follow

    message: dict[str, Any] = {
        "channel": args.channel,
        "destination": args.to,
        "content": {"text": args.text},
    }
    if args.sender:
        message["sender"] = args.sender
    if args.title:
        message["content"]["title"] = args.title
    if args.track:
        message["options"] = {"urlOptions": {"shortenUrl": True, "trackClicks": True}}
    return _run(
        send_and_follow(
            args.engine, message, api_key=os.environ.get("CHANNEL_ENGINE_API_KEY"), wait=args.wait
        )
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    channels = [c.strip() for c in args.channels.split(",") if c.strip()] if args.channels else None
    return _run(run_demo(messages=args.messages, batch=args.batch, data_dir=args.data_dir, channels=channels))


def cmd_accounts(args: argparse.Namespace) -> int:
    from . import config
    from .engine import open_store
    from .provider import AccountRecord, load_accounts, make_account, save_account
    from .secret_box import SecretBox

    settings = config.from_env(**({"data_dir": Path(args.data_dir)} if args.data_dir else {}))
    box = SecretBox.load(settings.data_dir)
    store = open_store(settings)

    async def main() -> int:
        await store.open()
        try:
            if args.action == "add":
                key = os.environ.get(args.api_key_env) if args.api_key_env else None
                key = key or getpass.getpass(f"API key for {args.name} (not echoed): ")
                make_account(args.name, args.base_url, key, args.rate)  # validates before storing
                await save_account(store, box, AccountRecord(args.name, args.base_url, key, args.rate))
                print(f"account {args.name!r} saved ({args.base_url}); its API key is stored encrypted")
            elif args.action == "list":
                for record in await load_accounts(store, box):
                    print(f"{record.name:<20} {record.base_url:<45} {record.requests_per_second:g} req/s")
            elif args.action == "remove":
                if not await store.delete_account(args.name):
                    print(f"no account called {args.name!r}", file=sys.stderr)
                    return 1
                print(f"account {args.name!r} removed")
            return 0
        finally:
            await store.close()

    return _run(main())


def cmd_keygen(args: argparse.Namespace) -> int:
    from .secret_box import new_key

    print(new_key())
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="channel-engine", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the engine")
    s.add_argument("--host", default=os.environ.get("CHANNEL_ENGINE_HOST", "127.0.0.1"))
    s.add_argument("--port", type=int, default=int(os.environ.get("CHANNEL_ENGINE_PORT", "8080")))
    s.add_argument("--data-dir", help="where the SQLite store and secret key live (CHANNEL_ENGINE_DATA_DIR)")
    s.add_argument("--log-level", default="info")
    s.add_argument("--access-log", action="store_true")
    s.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("CHANNEL_ENGINE_WORKERS", "1")),
        help="engine processes sharing the port and the store (CHANNEL_ENGINE_WORKERS); "
        "use a Redis store for more than one machine",
    )
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("simulator", help="run the Infobip simulator on its own")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8090)
    s.add_argument("--api-key", action="append", help="an API key the simulator accepts (repeatable)")
    s.add_argument("--report-delay", type=float, default=0.05, help="seconds before reports are sent")
    s.add_argument("--inbound-url", help="where simulated inbound replies are POSTed")
    s.add_argument("--log-level", default="warning")
    s.set_defaults(func=cmd_simulator)

    s = sub.add_parser("plugins", help="list installed plugins")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_plugins)

    s = sub.add_parser("send", help="send one message through a running engine")
    s.add_argument("--engine", default=os.environ.get("CHANNEL_ENGINE_URL", "http://127.0.0.1:8080"))
    s.add_argument("--channel", default="sms")
    s.add_argument("--to", required=True, help="destination in international format, e.g. 41793026727")
    s.add_argument("--text", required=True)
    s.add_argument("--from", dest="sender")
    s.add_argument("--title", help="LMS title")
    s.add_argument("--track", action="store_true", help="shorten and track URLs")
    s.add_argument("--wait", type=float, default=30.0, help="seconds to wait for a final status")
    s.set_defaults(func=cmd_send)

    s = sub.add_parser(
        "demo", help="a 10,000-message campaign over every installed channel, on embedded defaults"
    )
    s.add_argument("--messages", type=int, default=10_000)
    s.add_argument("--batch", type=int, default=500, help="messages per POST /v1/messages")
    s.add_argument("--data-dir", help="keep the demo's store here (default: a temporary directory)")
    s.add_argument("--channels", help="comma-separated channels to mix (default: every installed channel)")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("accounts", help="manage Infobip accounts")
    s.add_argument("--data-dir")
    acc = s.add_subparsers(dest="action", required=True)
    a = acc.add_parser("add")
    a.add_argument("name")
    a.add_argument(
        "--base-url", required=True, help="your account's base URL, e.g. https://xxxxx.api.infobip.com"
    )
    a.add_argument(
        "--api-key-env", help="read the API key from this environment variable instead of a prompt"
    )
    a.add_argument("--rate", type=float, default=100.0, help="requests per second to this account")
    acc.add_parser("list")
    r = acc.add_parser("remove")
    r.add_argument("name")
    s.set_defaults(func=cmd_accounts)

    s = sub.add_parser("keygen", help="print a new secret key")
    s.set_defaults(func=cmd_keygen)
    _plugin_commands(sub)
    return p


def _plugin_commands(sub: Any) -> None:
    """Subcommands installed plugins add (`channel-engine sfmc ...`); a plugin that cannot load leaves
    the built-in commands working and says why when one of its own is asked for."""
    from .plugins import get_plugin_manager

    try:
        get_plugin_manager().hook.register_commands(add=sub.add_parser)
    except Exception as exc:  # a broken plugin must not take `serve` or `plugins` down with it
        logging.getLogger("channel_engine.cli").warning("plugin commands unavailable: %s", exc)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns everything else
    args = parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ChannelEngineError as exc:
        print(f"channel-engine: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
