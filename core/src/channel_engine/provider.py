"""Talking to Infobip: accounts (each with its own base URL, API key and request-rate cap) and one
shared HTTP client.

An account's API key lives in memory as a `Secret` and in the store encrypted; it is only revealed when the
`Authorization: App <key>` header is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import msgspec
from aiolimiter import AsyncLimiter

from .errors import ConfigError, ProviderError
from .models import ProviderRequest
from .secret_box import Secret, SecretBox
from .store import Store

USER_AGENT = "channel-engine/0.1"
_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()


async def load_http_backend() -> None:
    """Load what httpx's connections run on before any request is taken. They run on anyio, which imports
    its event-loop backend (a few thousand lines) on first use: amid the first messages sent, that held the
    event loop about 100 ms, and every request waiting behind it (the first tenth of a second of a 1,000/s
    load answered in 110-145 ms)."""
    await anyio.sleep(0)


class AccountRecord(msgspec.Struct, rename="camel"):
    """An account as stored (sealed as a whole)."""

    name: str
    base_url: str
    api_key: str
    requests_per_second: float = 100.0


@dataclass
class Account:
    name: str
    base_url: str
    api_key: Secret
    limiter: AsyncLimiter = field(repr=False)

    def __repr__(self) -> str:
        return f"Account({self.name!r}, {self.base_url!r})"


def make_account(name: str, base_url: str, api_key: str, requests_per_second: float) -> Account:
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"account {name!r}: base URL {base_url!r} must start with https:// (or http://)")
    if not api_key:
        raise ConfigError(f"account {name!r}: the API key is empty")
    # aiolimiter: `rate` requests per second, with a burst of the same size.
    rate = max(1.0, requests_per_second)
    return Account(name, base_url.rstrip("/"), Secret(api_key), AsyncLimiter(rate, 1.0))


class Accounts:
    """The configured Infobip accounts; the first one added is the default."""

    def __init__(self) -> None:
        self._by_name: dict[str, Account] = {}

    def add(self, account: Account) -> None:
        self._by_name[account.name] = account

    def get(self, name: str | None) -> Account:
        if not self._by_name:
            raise ConfigError("no Infobip account is configured")
        if name is None:
            return next(iter(self._by_name.values()))
        try:
            return self._by_name[name]
        except KeyError:
            raise ConfigError(
                f"unknown Infobip account {name!r}; known: {', '.join(self._by_name)}"
            ) from None

    def names(self) -> list[str]:
        return list(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __len__(self) -> int:
        return len(self._by_name)


async def save_account(store: Store, box: SecretBox, record: AccountRecord) -> None:
    await store.put_account(record.name, box.seal(_encoder.encode(record)))


async def load_accounts(store: Store, box: SecretBox) -> list[AccountRecord]:
    sealed = await store.get_accounts()
    return [msgspec.json.decode(box.open(blob), type=AccountRecord) for blob in sealed.values()]


class ProviderClient:
    """Sends `ProviderRequest`s to an account; raises ProviderError for anything but a 2xx answer."""

    def __init__(self, *, timeout: float = 30.0, max_connections: int = 64) -> None:
        self._http = httpx.AsyncClient(
            timeout=timeout,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={
                "User-Agent": USER_AGENT,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )

    async def send(self, account: Account, request: ProviderRequest) -> dict[str, Any]:
        async with account.limiter:
            try:
                response = await self._http.post(
                    account.base_url + request.path,
                    content=_encoder.encode(request.body),
                    headers={"Authorization": f"App {account.api_key.reveal()}"},
                )
            except httpx.HTTPError as exc:
                # httpx's message names the URL, never the headers: the key stays out of errors.
                raise ProviderError(f"network error talking to {account.name}: {exc!r}", status=0) from None
        if response.status_code // 100 == 2:
            return _decoder.decode(response.content) if response.content else {}
        text, found = _error_details(response)
        raise ProviderError(
            text, status=response.status_code, retry_after=_retry_after(response), violations=found
        ) from None

    async def aclose(self) -> None:
        await self._http.aclose()


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _error_details(response: httpx.Response) -> tuple[str, list[tuple[str, str]]]:
    """Infobip's own reason, from either of its error shapes (ApiError or the older ApiException)."""
    try:
        body = _decoder.decode(response.content)
    except msgspec.DecodeError:
        return f"HTTP {response.status_code}: {response.text[:200]}", []
    if isinstance(body, dict):
        if "errorCode" in body:
            found = [
                (str(v.get("property", "")), str(v.get("violation", "")))
                for v in body.get("violations") or []
                if isinstance(v, dict)
            ]
            text = f"{body.get('errorCode')}: {body.get('description', '')}"
            if found:
                text += " (" + "; ".join(f"{p}: {v}" for p, v in found) + ")"
            return text, found
        exc = (body.get("requestError") or {}).get("serviceException") or {}
        if exc:
            return f"{exc.get('messageId')}: {exc.get('text')}", []
    return f"HTTP {response.status_code}", []
