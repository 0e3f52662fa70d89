"""Engine settings, read once from the environment (every name starts with CHANNEL_ENGINE_)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import ConfigError
from .secret_box import Secret

HMAC_ALGORITHMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
# What one engine process does: take requests and webhooks (intake), send to Infobip (dispatch), hand
# reports to hosts (delivery). One process does all three; on a shared store they can be split up.
ROLES = ("intake", "dispatch", "delivery")
SQLITE_WRITERS = ("process", "thread")


@dataclass(frozen=True)
class WebhookAuthSettings:
    """How Infobip's calls to our webhooks prove who they are. The token check is always on (the token is
    part of the URLs we give Infobip); Basic auth and HMAC are added when configured."""

    token: Secret | None = None
    basic_user: str | None = None
    basic_password: Secret | None = None
    hmac_secret: Secret | None = None
    hmac_headers: tuple[str, ...] = ("X-Hub-Signature", "X-Infobip-Signature")
    hmac_algorithm: str = "sha256"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("channel-engine-data")
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None  # what Infobip calls back; defaults to http://host:port
    api_key: Secret | None = None  # required on /v1 when set
    store_url: str | None = None  # default: SQLite file in data_dir
    # Where SQLite's writes run: the database's writer "process" (what `from_env`, so `serve`, gives), or a
    # "thread" of this process (an engine built in code, as the tests' are: no process to start).
    sqlite_writer: str = "thread"
    webhook_auth: WebhookAuthSettings = field(default_factory=WebhookAuthSettings)
    dispatch_batch: int = 2000
    dispatch_linger: float = 0.02  # seconds between claims that find less than a batch (see Dispatcher)
    lease_seconds: float = 30.0
    max_attempts: int = 12
    provider_concurrency: int = 8
    account_rate: float = 100.0  # requests per second per Infobip account (aiolimiter)
    roles: frozenset[str] = frozenset(ROLES)

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


def _secret(name: str) -> Secret | None:
    value = os.environ.get(name)
    return Secret(value) if value else None


def _number(name: str, default: float, kind: type = float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return kind(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a number") from exc


def from_env(**overrides: object) -> Settings:
    env = os.environ.get
    algorithm = (env("CHANNEL_ENGINE_WEBHOOK_HMAC_ALGORITHM") or "sha256").lower().replace("hmac_", "")
    algorithm = algorithm.replace("_", "")
    if algorithm not in HMAC_ALGORITHMS:
        raise ConfigError(
            f"CHANNEL_ENGINE_WEBHOOK_HMAC_ALGORITHM={algorithm!r} is not one of {', '.join(HMAC_ALGORITHMS)}"
        )
    headers = env("CHANNEL_ENGINE_WEBHOOK_HMAC_HEADER")
    auth = WebhookAuthSettings(
        token=_secret("CHANNEL_ENGINE_WEBHOOK_TOKEN"),
        basic_user=env("CHANNEL_ENGINE_WEBHOOK_USER"),
        basic_password=_secret("CHANNEL_ENGINE_WEBHOOK_PASSWORD"),
        hmac_secret=_secret("CHANNEL_ENGINE_WEBHOOK_HMAC_SECRET"),
        hmac_headers=tuple(h.strip() for h in headers.split(","))
        if headers
        else WebhookAuthSettings.hmac_headers,
        hmac_algorithm=algorithm,
    )
    if bool(auth.basic_user) != bool(auth.basic_password):
        raise ConfigError(
            "set both CHANNEL_ENGINE_WEBHOOK_USER and CHANNEL_ENGINE_WEBHOOK_PASSWORD, or neither"
        )
    roles = frozenset(
        r.strip() for r in (env("CHANNEL_ENGINE_ROLES") or ",".join(ROLES)).split(",") if r.strip()
    )
    if not roles or not roles <= set(ROLES):
        raise ConfigError(f"CHANNEL_ENGINE_ROLES must name some of {', '.join(ROLES)}")
    sqlite_writer = env("CHANNEL_ENGINE_SQLITE_WRITER") or "process"
    if sqlite_writer not in SQLITE_WRITERS:
        raise ConfigError(
            f"CHANNEL_ENGINE_SQLITE_WRITER must be {' or '.join(SQLITE_WRITERS)}, not {sqlite_writer!r}"
        )
    settings = Settings(
        data_dir=Path(env("CHANNEL_ENGINE_DATA_DIR") or "channel-engine-data"),
        host=env("CHANNEL_ENGINE_HOST") or "127.0.0.1",
        port=int(_number("CHANNEL_ENGINE_PORT", 8080, int)),
        public_url=env("CHANNEL_ENGINE_PUBLIC_URL"),
        api_key=_secret("CHANNEL_ENGINE_API_KEY"),
        store_url=env("CHANNEL_ENGINE_STORE"),
        sqlite_writer=sqlite_writer,
        webhook_auth=auth,
        account_rate=_number("CHANNEL_ENGINE_ACCOUNT_RATE", 100.0),
        lease_seconds=_number("CHANNEL_ENGINE_LEASE_SECONDS", 30.0),
        roles=roles,
    )
    return replace(settings, **overrides)  # type: ignore[arg-type]
