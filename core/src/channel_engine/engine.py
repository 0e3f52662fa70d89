"""The engine assembled: settings, plugins, store, accounts, dispatcher, host delivery and the HTTP app.

With no Infobip account configured, the built-in simulator is mounted at `/simulator` and used as the
provider, so a fresh install works end to end with nothing else running.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount

from .api import api_routes
from .config import Settings
from .delivery import HostDelivery
from .dispatcher import Dispatcher, RetryPolicy
from .errors import ConfigError, PluginError
from .hosting import HostApp, HostServices
from .intake import Intake
from .metrics import Metrics
from .models import Report, WebhookUrls
from .plugins import Plugins, get_plugin_manager
from .provider import Accounts, ProviderClient, load_accounts, load_http_backend, make_account
from .routing import EngineApp, SegmentRouter
from .secret_box import SecretBox
from .store import Store
from .webhooks import WebhookAuth, webhook_routes

log = logging.getLogger("channel_engine")
SIMULATOR_ACCOUNT = "simulator"
YOUNG_COLLECTION_AFTER = 10_000  # allocations; see Engine.start


def open_store(settings: Settings) -> Store:
    """The store named by CHANNEL_ENGINE_STORE (`sqlite:///path` or `redis://host:port/db?prefix=ce`),
    else SQLite in the data directory."""
    from .store.sqlite import SQLiteStore

    url = settings.store_url
    writer_process = settings.sqlite_writer == "process"
    if not url:
        return SQLiteStore(settings.data_dir / "channel-engine.db", writer_process=writer_process)
    if url.startswith("sqlite:///"):
        return SQLiteStore(url[len("sqlite:///") :], writer_process=writer_process)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from .store.redis import RedisStore

        return RedisStore(url)
    raise ConfigError(
        "CHANNEL_ENGINE_STORE is neither a sqlite:///path/to/file.db nor a redis://host:6379/0 URL"
    )


class Engine:
    def __init__(
        self,
        settings: Settings,
        *,
        plugins: Plugins | None = None,
        store: Store | None = None,
        box: SecretBox | None = None,
    ) -> None:
        self.settings = settings
        self.plugins = plugins or get_plugin_manager()
        self.store = store or open_store(settings)
        self.box = box or SecretBox.load(settings.data_dir)
        self.metrics = Metrics()
        self.accounts = Accounts()
        self.provider = ProviderClient()
        self.simulator: Any = None
        self.auth = WebhookAuth(settings.webhook_auth, self.box.derive("webhook-token"))
        self.dispatcher = Dispatcher(
            self.store,
            self.plugins,
            self.provider,
            self.accounts,
            self.webhook_urls,
            self.metrics,
            batch=settings.dispatch_batch,
            linger=settings.dispatch_linger,
            lease=settings.lease_seconds,
            concurrency=settings.provider_concurrency,
            retry=RetryPolicy(max_attempts=settings.max_attempts),
            reload_accounts=self._load_stored_accounts,
        )
        self.delivery = HostDelivery(self.store, self.plugins, self.metrics)
        self.intake = Intake(
            self.store, self.plugins, self.metrics, self.dispatcher.wake, lambda: set(self.accounts.names())
        )
        self.services = HostServices(self)
        self.host_apps: dict[str, HostApp] = {}
        self.plugins.hook.register_host_apps(register=self._add_host_app, services=self.services)

    def _add_host_app(self, app: HostApp) -> None:
        prefix = "/" + app.prefix.strip("/")
        taken = {"/v1", "/webhooks", "/simulator", "/healthz", "/metrics", "/-"}
        if prefix in taken or prefix in self.host_apps:
            raise PluginError(f"two parts of the engine serve {prefix}: give each host app its own prefix")
        self.host_apps[prefix] = app

    # -- URLs we give Infobip ------------------------------------------------------------------------

    def webhook_url(self, channel: str, kind: str) -> str:
        return f"{self.settings.base_url}/webhooks/infobip/{channel}/{kind}?token={self.auth.token}"

    def webhook_urls(self, channel: str) -> WebhookUrls:
        return WebhookUrls(
            reports=self.webhook_url(channel, "reports"),
            clicks=self.webhook_url(channel, "clicks"),
            inbound=self.webhook_url(channel, "inbound"),
        )

    # -- reports -----------------------------------------------------------------------------------------

    def normalize(
        self, channel: str, kind: str, payload: dict[str, Any]
    ) -> tuple[list[Report], list[tuple[int, str]]]:
        """The reports in a webhook body, and the `results[]` entries that could not be read (index,
        reason). One bad entry does not cost the good ones of its bucket: when the whole body is refused,
        each entry is tried on its own. Raises ValueError when nothing in the body can be read."""
        hook = self.plugins.hook.normalize_report
        try:
            return hook(channel=channel, kind=kind, payload=payload) or [], []
        except (ValueError, KeyError, TypeError):
            results = payload.get("results")
            if not isinstance(results, list) or len(results) < 2:
                raise
        reports: list[Report] = []
        refused: list[tuple[int, str]] = []
        for i, entry in enumerate(results):
            try:
                reports += hook(channel=channel, kind=kind, payload={**payload, "results": [entry]}) or []
            except (ValueError, KeyError, TypeError) as exc:
                refused.append((i, str(exc)))
        if not reports:
            raise ValueError("; ".join(f"results[{i}]: {reason}" for i, reason in refused))
        return reports, refused

    async def record(self, reports: list[Report]) -> tuple[int, int]:
        new = await self.store.record_reports(reports, time.time())
        for report in new:
            self.metrics.reports[(report.kind, report.status_group or "-")] += 1
        self.metrics.duplicate_reports += len(reports) - len(new)
        if new:
            self.delivery.wake()
        return len(new), len(reports) - len(new)

    # -- lifecycle -----------------------------------------------------------------------------------

    async def _load_stored_accounts(self) -> None:
        for record in await load_accounts(self.store, self.box):
            if record.name not in self.accounts:
                self.accounts.add(
                    make_account(record.name, record.base_url, record.api_key, record.requests_per_second)
                )

    async def _load_accounts(self) -> None:
        await self._load_stored_accounts()
        base_url, api_key = (
            os.environ.get("CHANNEL_ENGINE_INFOBIP_BASE_URL"),
            os.environ.get("CHANNEL_ENGINE_INFOBIP_API_KEY"),
        )
        if base_url and api_key and "default" not in self.accounts:
            self.accounts.add(make_account("default", base_url, api_key, self.settings.account_rate))
        if not len(self.accounts):
            self._use_simulator()

    def _use_simulator(self) -> None:
        from .simulator import simulator_from_plugins

        key = self.box.derive("simulator-api-key")
        self.simulator = simulator_from_plugins(
            self.plugins, api_keys={key}, inbound_url=self.webhook_url("{channel}", "inbound")
        )
        self.accounts.add(
            make_account(
                SIMULATOR_ACCOUNT, f"{self.settings.base_url}/simulator", key, requests_per_second=1000
            )
        )
        log.info(
            "no Infobip account configured: the built-in simulator answers at %s/simulator",
            self.settings.base_url,
        )

    async def start(self) -> None:
        await self.store.open()
        await self._load_accounts()
        await load_http_backend()
        # Everything loaded so far lives as long as the process: move it out of the collector's sight, so
        # the collections that traffic triggers stay short (measured: about a fifth more intake).
        gc.collect()
        gc.freeze()
        # The objects of the requests in flight alone cross the default 700 allocations: 64 connections
        # set off a collection every 50 requests, 5 µs a request that found nothing to collect.
        gc.set_threshold(YOUNG_COLLECTION_AFTER, *gc.get_threshold()[1:])
        if self.simulator is not None:
            await self.simulator.start()
        for app in self.host_apps.values():
            if app.start is not None:
                await app.start()
        if "dispatch" in self.settings.roles:
            await self.dispatcher.start()
        if "delivery" in self.settings.roles:
            await self.delivery.start()

    async def stop(self) -> None:
        await self.dispatcher.stop()
        await self.delivery.stop()
        for app in self.host_apps.values():
            if app.stop is not None:
                await app.stop()
        if self.simulator is not None:
            await self.simulator.stop()
        await self.provider.aclose()
        await self.store.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Engine]:
        await self.start()
        try:
            yield self
        finally:
            await self.stop()


def app_from_env() -> Starlette:
    """The engine app with settings from the environment: what each `serve --workers` process runs."""
    from .config import from_env

    return create_app(Engine(from_env()))


def create_app(engine: Engine) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with engine.running():
            yield

    routes: list[Any] = [
        *api_routes(engine),
        *webhook_routes(engine.auth, lambda: set(engine.plugins.channels), engine.normalize, engine.record),
    ]
    routes += [Mount(prefix, routes=host.routes) for prefix, host in engine.host_apps.items()]
    app = EngineApp(lifespan=lifespan)
    app.router = SegmentRouter(routes, lifespan=lifespan)
    app.state.engine = engine

    # The simulator is mounted lazily: it exists only once accounts are loaded at start-up.
    async def simulator_app(scope: Any, receive: Any, send: Any) -> None:
        if engine.simulator is None:
            from starlette.responses import PlainTextResponse

            await PlainTextResponse("the simulator is off: an Infobip account is configured", 404)(
                scope, receive, send
            )
            return
        await engine.simulator.app(scope, receive, send)

    app.router.routes.append(Mount("/simulator", app=simulator_app))
    return app
