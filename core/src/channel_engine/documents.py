"""Host plugins' configuration documents: one JSON document per key (an SFMC business unit, a Bloomreach
project), sealed at rest with the engine's key, cached for a few seconds in each process, and served by a
small API behind the engine's API key that never shows a secret back.

A document is a msgspec Struct. Its secret fields are annotated with `SECRET`:

    api_secret: Annotated[str, Meta(min_length=1), SECRET]

The API shows each secret as `MASK`; a document sent back with the mask in a secret's place keeps the
stored secret (items of a list are matched by their `name`, so reordering accounts keeps their keys).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, Any, Generic, TypeVar

import httpx
import msgspec
import msgspec.inspect as mi
from msgspec import Meta
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .hosting import HostServices

log = logging.getLogger("channel_engine.documents")

SECRET = Meta(extra={"secret": True})
MASK = "********"
CACHE_SECONDS = 5.0

T = TypeVar("T", bound=msgspec.Struct)
Path = tuple[str | int, ...]


# -- secrets inside a document ------------------------------------------------------------------------


def _secret_paths(value: Any, info: mi.Type, path: Path) -> Iterator[Path]:
    if isinstance(info, mi.Metadata):
        if (info.extra or {}).get("secret"):
            yield path
            return
        info = info.type
    if isinstance(info, mi.UnionType):
        for option in info.types:
            if not isinstance(option, mi.NoneType) and value is not None:
                yield from _secret_paths(value, option, path)
        return
    if isinstance(info, mi.StructType) and isinstance(value, msgspec.Struct):
        for f in info.fields:
            yield from _secret_paths(getattr(value, f.name), f.type, (*path, f.encode_name))
    elif isinstance(info, mi.ListType) and isinstance(value, list):
        for i, item in enumerate(value):
            yield from _secret_paths(item, info.item_type, (*path, i))


def secret_paths(doc: msgspec.Struct) -> list[Path]:
    """Where the document's secrets are, as wire-name paths (e.g. `("infobipAccounts", 0, "apiKey")`)."""
    return list(_secret_paths(doc, mi.type_info(type(doc)), ()))


def json_path(path: Path) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _get(tree: Any, path: Path) -> Any:
    for step in path:
        tree = tree[step]
    return tree


def _set(tree: Any, path: Path, value: Any) -> None:
    _get(tree, path[:-1])[path[-1]] = value


def masked(doc: msgspec.Struct) -> dict[str, Any]:
    """The document as the API shows it: every secret that is set replaced by `MASK`."""
    shown = msgspec.to_builtins(doc)
    for path in secret_paths(doc):
        if _get(shown, path) is not None:
            _set(shown, path, MASK)
    return shown


def _counterpart(old: Any, new: Any, path: Path) -> Any:
    """The value at `path` in the old document, list items matched by `name` when they have one."""
    for i, step in enumerate(path):
        if isinstance(step, int):
            item = _get(new, path[: i + 1])
            name = item.get("name") if isinstance(item, dict) else None
            if name is not None:
                old = next((x for x in old if isinstance(x, dict) and x.get("name") == name), None)
            else:
                old = old[step] if step < len(old) else None
        else:
            old = old.get(step) if isinstance(old, dict) else None
        if old is None:
            return None
    return old


def keeping_secrets(new: T, old: T | None) -> tuple[T, list[str]]:
    """`new` with each masked secret replaced by the stored one; also the JSON paths of masks that had no
    stored secret to keep (a new account sent with the mask, say)."""
    paths = [p for p in secret_paths(new) if _get(msgspec.to_builtins(new), p) == MASK]
    if not paths:
        return new, []
    tree = msgspec.to_builtins(new)
    stored = msgspec.to_builtins(old) if old is not None else {}
    missing = []
    for path in paths:
        kept = _counterpart(stored, tree, path)
        if kept is None or kept == MASK:
            missing.append(json_path(path))
        else:
            _set(tree, path, kept)
    return msgspec.convert(tree, type(new)), missing


# -- Infobip accounts, which every host's configuration has ----------------------------------------

Url = Annotated[str, Meta(pattern=r"^https?://\S+$", max_length=2048)]


class InfobipAccount(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """One Infobip account in a host's configuration; the engine sends through it once it is in use
    (`HostServices.put_account`)."""

    name: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.-]{1,50}$")]
    base_url: Url
    api_key: Annotated[str, Meta(min_length=1, max_length=500), SECRET]


async def check_infobip_account(http: httpx.AsyncClient, account: InfobipAccount) -> dict[str, Any]:
    """Whether Infobip accepts the account's key (`GET /account/1/balance`), as one `validate` check."""
    check = {"service": "infobip", "account": account.name}
    try:
        response = await http.get(
            f"{account.base_url.rstrip('/')}/account/1/balance",
            headers={"Authorization": f"App {account.api_key}", "Accept": "application/json"},
        )
    except httpx.HTTPError as exc:
        return check | {"ok": False, "reason": f"{account.base_url} cannot be reached ({type(exc).__name__})"}
    return judged_check(
        check, response.status_code, "Infobip", "check the key and its account-management scope"
    )


def judged_check(check: dict[str, Any], status: int, service: str, refused_hint: str) -> dict[str, Any]:
    """A `validate` check from the HTTP status a service answered a credential test with: refused
    (401, 403, with `refused_hint` saying what to look at), another failure, or ok."""
    if status in (401, 403):
        return check | {
            "ok": False,
            "reason": f"{service} refused the API key (HTTP {status}); {refused_hint}",
        }
    if status >= 300:
        return check | {"ok": False, "reason": f"{service} answered HTTP {status}"}
    return check | {"ok": True}


def duplicate_names(items: list[Any], path: str, what: str = "items") -> tuple[str, str] | None:
    """A `check` answer when two items of a list (accounts, say) share a name."""
    names = [item.name for item in items]
    if len(set(names)) != len(names):
        return path, f"two {what} have the same name"
    return None


# -- storage -----------------------------------------------------------------------------------------


class Documents(Generic[T]):
    """Documents of one type in a plugin's data namespace, sealed, keyed by the field `key_field` (stored
    under `prefix` + key, so a namespace can hold other values beside them)."""

    def __init__(
        self,
        services: HostServices,
        namespace: str,
        type: type[T],
        key_field: str,
        *,
        prefix: str = "",
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.services = services
        self.prefix = prefix
        self.data = services.data(namespace)
        self.type = type
        self.key_field = key_field
        self.ttl = ttl
        self.clock = clock
        self._decoder = msgspec.json.Decoder(type)
        self._cache: dict[str, tuple[float, T | None]] = {}
        self._loading: dict[str, asyncio.Future[T | None]] = {}

    def key(self, doc: T) -> str:
        return str(getattr(doc, self.key_field))

    def decode(self, sealed: bytes) -> T:
        return self._decoder.decode(self.services.unseal(sealed))

    async def get(self, key: str) -> T | None:
        """The document, from a cache of a few seconds: a change made through another process is seen
        once the entry ages out. When it ages out under load, one read serves every request waiting for it
        (otherwise each request in flight read and unsealed the document again)."""
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        loading = self._loading.get(key)
        if loading is None:
            loading = self._loading[key] = asyncio.ensure_future(self._load(key))
        # Shielded: a request that goes away does not cancel the read the others wait for.
        return await asyncio.shield(loading)

    async def _load(self, key: str) -> T | None:
        me = asyncio.current_task()
        try:
            raw = await self.data.get(self.prefix + key)
            doc = self.decode(raw) if raw is not None else None
            if self._loading.get(key) is me:  # not replaced by a put or delete meanwhile
                self._cache[key] = (self.clock() + self.ttl, doc)
            return doc
        finally:
            if self._loading.get(key) is me:
                del self._loading[key]

    async def all(self) -> list[T]:
        stored = await self.data.list()
        return [self.decode(raw) for key, raw in sorted(stored.items()) if key.startswith(self.prefix)]

    async def put(self, doc: T) -> None:
        await self.data.put(self.prefix + self.key(doc), self.services.seal(msgspec.json.encode(doc)))
        self._forget(self.key(doc))

    async def delete(self, key: str) -> bool:
        self._forget(key)
        return await self.data.delete(self.prefix + key)

    def _forget(self, key: str) -> None:
        """Drop the cached document, and let a read begun before the change not cache what it read."""
        self._cache.pop(key, None)
        self._loading.pop(key, None)


# -- the API -----------------------------------------------------------------------------------------


def api_key_refusal(services: HostServices, request: Request) -> Response | None:
    """None when the request carries the engine's API key; otherwise the answer that refuses it."""
    accepted = services.api_key_accepts(request.headers.get("authorization"))
    if accepted is None:
        return JSONResponse(
            {
                "error": "the configuration API needs an API key: set CHANNEL_ENGINE_API_KEY and send it as "
                "`Authorization: Bearer <key>`"
            },
            status_code=403,
        )
    if not accepted:
        return JSONResponse({"error": "send the engine's API key as `Authorization: Bearer <key>`"}, 401)
    return None


def validation_path(exc: msgspec.ValidationError) -> str:
    """The JSON path msgspec names in a validation error (`$` when it names none)."""
    text = str(exc)
    return text.rpartition(" - at `")[2].rstrip("`") if " - at `" in text else "$"


def problem(message: str, path: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message, "path": path}, status_code=status)


Check = Callable[[Any], tuple[str, str] | None]
Validate = Callable[[Any], Awaitable[list[dict[str, Any]]]]
Saved = Callable[[Any], Awaitable[None]]


def document_routes(
    services: HostServices,
    docs: Documents[Any],
    *,
    label: str,
    check: Check | None = None,
    validate: Validate | None = None,
    saved: Saved | None = None,
    path: str = "/config",
    list_key: str = "items",
) -> list[Route]:
    """GET {path} (all), GET/PUT/DELETE {path}/{key}, POST {path}/{key}/validate, behind the API key.

    `label` names a document in errors ("business unit"); `check` returns (JSON path, error) for a
    document that decodes but is inconsistent; `validate` checks its credentials against the live services
    and returns one `{"service", "ok", "reason"?}` per check; `saved` runs after a document is stored."""
    key_wire = next(f.encode_name for f in mi.type_info(docs.type).fields if f.name == docs.key_field)

    def not_found(key: str) -> JSONResponse:
        return JSONResponse({"error": f"{label} {key} is not configured"}, status_code=404)

    async def list_all(request: Request) -> Response:
        if refused := api_key_refusal(services, request):
            return refused
        return JSONResponse({list_key: [masked(doc) for doc in await docs.all()]})

    async def get_one(request: Request) -> Response:
        if refused := api_key_refusal(services, request):
            return refused
        key = request.path_params["key"]
        doc = await docs.get(key)
        return not_found(key) if doc is None else JSONResponse(masked(doc))

    async def put_one(request: Request) -> Response:
        if refused := api_key_refusal(services, request):
            return refused
        key = request.path_params["key"]
        try:
            body = msgspec.json.decode(await request.body())
            if isinstance(body, dict):
                body.setdefault(key_wire, key)
            doc = msgspec.convert(body, docs.type)
        except msgspec.ValidationError as exc:
            return problem(str(exc), validation_path(exc))
        except msgspec.DecodeError as exc:
            return problem(f"the body is not valid JSON: {exc}", "$")
        if docs.key(doc) != key:
            at = f"$.{key_wire}"
            return problem(f"{at} is {docs.key(doc)}, but the URL names {label} {key}", at)
        doc, missing = keeping_secrets(doc, await docs.get(key))
        if missing:
            at = missing[0]
            return problem(f"{at} is the mask, but no secret is stored to keep: send the secret itself", at)
        if check is not None and (found := check(doc)) is not None:
            return problem(found[1], found[0])
        try:
            await docs.put(doc)
            if saved is not None:
                await saved(doc)
        except Exception as exc:
            log.error("storing %s %s failed: %s", label, key, type(exc).__name__)
            return JSONResponse({"error": "the store is unavailable; send it again shortly"}, status_code=503)
        return JSONResponse(masked(doc))

    async def delete_one(request: Request) -> Response:
        if refused := api_key_refusal(services, request):
            return refused
        key = request.path_params["key"]
        return Response(status_code=204) if await docs.delete(key) else not_found(key)

    async def validate_one(request: Request) -> Response:
        if refused := api_key_refusal(services, request):
            return refused
        key = request.path_params["key"]
        doc = await docs.get(key)
        if doc is None:
            return not_found(key)
        checks = await validate(doc) if validate is not None else []
        ok = all(c["ok"] for c in checks)
        return JSONResponse({"valid": ok, "checks": checks}, status_code=200 if ok else 422)

    return [
        Route(path, list_all, methods=["GET"]),
        Route(f"{path}/{{key}}", get_one, methods=["GET"]),
        Route(f"{path}/{{key}}", put_one, methods=["PUT"]),
        Route(f"{path}/{{key}}", delete_one, methods=["DELETE"]),
        Route(f"{path}/{{key}}/validate", validate_one, methods=["POST"]),
    ]
