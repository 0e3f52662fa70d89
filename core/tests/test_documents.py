"""Configuration documents (channel_engine.documents): sealed at rest, secrets masked in the API and kept
when the mask is sent back, errors that name the field, all behind the engine's API key."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import httpx
import msgspec
from msgspec import Meta, Struct, field

from channel_engine import HostApp, HostServices, hookimpl
from channel_engine.config import Secret
from channel_engine.documents import (
    MASK,
    SECRET,
    Documents,
    InfobipAccount,
    check_infobip_account,
    document_routes,
    duplicate_names,
    keeping_secrets,
    masked,
    secret_paths,
)
from channel_engine.testing.harness import run_engine

API_KEY = "docs-test-admin-key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


class Credentials(Struct, rename="camel", forbid_unknown_fields=True):
    client_id: str
    client_secret: Annotated[str, Meta(min_length=1), SECRET]
    signing_secret: Annotated[str, SECRET] | None = None


class Shop(Struct, rename="camel", forbid_unknown_fields=True):
    shop_id: Annotated[str, Meta(pattern=r"^[a-z0-9]{1,20}$")]
    credentials: Credentials
    infobip_accounts: list[InfobipAccount] = field(default_factory=list)
    greeting: str = "hello"


def shop(**changes: Any) -> Shop:
    base = Shop(
        "s1",
        Credentials("cid", "client-secret-1"),
        [
            InfobipAccount("main", "https://ib.example", "key-main"),
            InfobipAccount("eu", "https://e", "k-eu"),
        ],
    )
    return msgspec.structs.replace(base, **changes)


def test_secret_paths_find_nested_and_listed_secrets_but_not_unset_ones() -> None:
    assert secret_paths(shop()) == [
        ("credentials", "clientSecret"),
        ("infobipAccounts", 0, "apiKey"),
        ("infobipAccounts", 1, "apiKey"),
    ]
    shown = masked(shop())
    assert shown["credentials"] == {"clientId": "cid", "clientSecret": MASK, "signingSecret": None}
    assert [a["apiKey"] for a in shown["infobipAccounts"]] == [MASK, MASK]
    assert "client-secret-1" not in msgspec.json.encode(shown).decode()


def test_a_mask_sent_back_keeps_the_stored_secret_matched_by_name() -> None:
    back = msgspec.convert(masked(shop()), Shop)
    back.infobip_accounts.reverse()  # reordered: keys follow the names, not the positions
    kept, missing = keeping_secrets(back, shop())
    assert missing == []
    assert kept.credentials.client_secret == "client-secret-1"
    assert {a.name: a.api_key for a in kept.infobip_accounts} == {"eu": "k-eu", "main": "key-main"}


def test_a_mask_with_nothing_stored_to_keep_is_named() -> None:
    new = shop(infobip_accounts=[InfobipAccount("new", "https://n", MASK)])
    _, missing = keeping_secrets(new, shop())
    assert missing == ["$.infobipAccounts[0].apiKey"]
    _, missing = keeping_secrets(shop(), None)
    assert missing == []


class ShopHost:
    __name__ = "shop-host"

    def __init__(self) -> None:
        self.saved: list[str] = []
        self.docs: Documents[Shop] | None = None

    @hookimpl
    def register_host_apps(self, register: Any, services: HostServices) -> None:
        self.docs = docs = Documents(services, "shops", Shop, "shop_id", ttl=0.0)
        http = httpx.AsyncClient()

        async def validate(doc: Shop) -> list[dict[str, Any]]:
            return [await check_infobip_account(http, a) for a in doc.infobip_accounts]

        async def saved(doc: Shop) -> None:
            self.saved.append(doc.shop_id)

        routes = document_routes(
            services,
            docs,
            label="shop",
            check=lambda doc: duplicate_names(doc.infobip_accounts, "$.infobipAccounts"),
            validate=validate,
            saved=saved,
            list_key="shops",
        )
        register(HostApp("/shop", routes, stop=http.aclose))


async def test_the_document_api_round_trip(tmp_path: Path) -> None:
    host = ShopHost()
    async with run_engine(tmp_path, host, api_key=_secret(API_KEY)) as h:
        sim = f"{h.url}/simulator"
        key = h.engine.box.derive("simulator-api-key")
        body = masked(shop(infobip_accounts=[InfobipAccount("main", sim, key)]))
        body["credentials"]["clientSecret"] = "client-secret-1"
        body["infobipAccounts"][0]["apiKey"] = key
        del body["shopId"]  # the URL names it

        assert (await h.http.put("/shop/config/s1", json=body)).status_code == 401
        put = await h.http.put("/shop/config/s1", json=body, headers=AUTH)
        assert put.status_code == 200, put.text
        assert put.json()["infobipAccounts"][0]["apiKey"] == MASK
        assert host.saved == ["s1"]

        # Sealed at rest: the stored bytes do not contain the secret.
        raw = await h.engine.store.get_data("shops", "s1", 0.0)
        assert raw is not None and b"client-secret-1" not in raw

        # The masked document sent back keeps every secret.
        again = await h.http.put("/shop/config/s1", json=put.json(), headers=AUTH)
        assert again.status_code == 200
        assert host.docs is not None
        stored = await host.docs.get("s1")
        assert stored is not None and stored.credentials.client_secret == "client-secret-1"

        listed = await h.http.get("/shop/config", headers=AUTH)
        assert [s["shopId"] for s in listed.json()["shops"]] == ["s1"]
        valid = await h.http.post("/shop/config/s1/validate", headers=AUTH)
        assert valid.json() == {
            "valid": True,
            "checks": [{"service": "infobip", "account": "main", "ok": True}],
        }

        assert (await h.http.delete("/shop/config/s1", headers=AUTH)).status_code == 204
        gone = await h.http.get("/shop/config/s1", headers=AUTH)
        assert (gone.status_code, gone.json()["error"]) == (404, "shop s1 is not configured")


async def test_the_document_api_names_the_field_of_a_bad_document(tmp_path: Path) -> None:
    async with run_engine(tmp_path, ShopHost(), api_key=_secret(API_KEY)) as h:
        good = masked(shop())
        good["credentials"]["clientSecret"] = "s"
        for account in good["infobipAccounts"]:
            account["apiKey"] = "k"

        async def refused(body: Any, key: str = "s1") -> tuple[int, str, str]:
            r = await h.http.put(f"/shop/config/{key}", json=body, headers=AUTH)
            return r.status_code, r.json()["path"], r.json()["error"]

        status, path, _ = await refused({**good, "credentials": {**good["credentials"], "clientSecret": ""}})
        assert (status, path) == (400, "$.credentials.clientSecret")
        status, path, error = await refused({**good, "shopId": "s2"})
        assert (status, path, error) == (400, "$.shopId", "$.shopId is s2, but the URL names shop s1")
        twice = {**good, "infobipAccounts": [good["infobipAccounts"][0]] * 2}
        assert (await refused(twice))[:2] == (400, "$.infobipAccounts")
        masked_new = {**good, "credentials": {**good["credentials"], "clientSecret": MASK}}
        status, path, error = await refused(masked_new)
        assert (status, path) == (400, "$.credentials.clientSecret") and "no secret is stored" in error
        r = await h.http.put("/shop/config/s1", content=b"{nope", headers=AUTH)
        assert r.status_code == 400 and r.json()["error"].startswith("the body is not valid JSON")


async def test_without_an_engine_api_key_the_document_api_is_closed(tmp_path: Path) -> None:
    async with run_engine(tmp_path, ShopHost()) as h:
        r = await h.http.get("/shop/config", headers=AUTH)
        assert r.status_code == 403 and "CHANNEL_ENGINE_API_KEY" in r.json()["error"]


def _secret(value: str) -> Secret:
    return Secret(value)


async def test_documents_under_a_prefix_share_their_namespace_with_other_values(tmp_path: Path) -> None:
    host = ShopHost()
    async with run_engine(tmp_path, host) as h:
        docs = Documents(h.engine.services, "shops", Shop, "shop_id", prefix="shop:", ttl=0.0)
        await docs.put(shop())
        await h.engine.services.data("shops").put("lookup:x", b"not a shop")
        assert [d.shop_id for d in await docs.all()] == ["s1"]
        assert await h.engine.store.get_data("shops", "shop:s1", 0.0) is not None
        assert await docs.delete("s1") and await docs.get("s1") is None


class CountingDocuments(Documents[Shop]):
    """Counts the documents it unseals and decodes."""

    decoded = 0

    def decode(self, sealed: bytes) -> Shop:
        self.decoded += 1
        return super().decode(sealed)


async def test_requests_waiting_on_an_aged_out_document_share_one_read(tmp_path: Path) -> None:
    host = ShopHost()
    async with run_engine(tmp_path, host) as h:
        now = [0.0]
        docs = CountingDocuments(h.engine.services, "shops", Shop, "shop_id", ttl=5.0, clock=lambda: now[0])
        await docs.put(shop())
        first = await asyncio.gather(*(docs.get("s1") for _ in range(50)))
        assert docs.decoded == 1 and all(d == shop() for d in first)
        now[0] = 6.0  # aged out: the next burst reads it once more, not fifty times
        again = await asyncio.gather(*(docs.get("s1") for _ in range(50)))
        assert docs.decoded == 2 and all(d == shop() for d in again)
        # One waiter going away does not take the read from the others.
        now[0] = 12.0
        leaving = asyncio.ensure_future(docs.get("s1"))
        staying = asyncio.ensure_future(docs.get("s1"))
        await asyncio.sleep(0)
        leaving.cancel()
        assert await staying == shop() and docs.decoded == 3


async def test_a_read_begun_before_a_change_does_not_cache_the_old_document(tmp_path: Path) -> None:
    host = ShopHost()
    async with run_engine(tmp_path, host) as h:
        docs = Documents(h.engine.services, "shops", Shop, "shop_id", ttl=60.0)
        await docs.put(shop())
        reading = asyncio.ensure_future(docs.get("s1"))
        await asyncio.sleep(0)  # the read has started
        await docs.put(shop(greeting="changed"))
        await reading  # old or new: whichever the store answered first
        assert (await docs.get("s1")).greeting == "changed"
