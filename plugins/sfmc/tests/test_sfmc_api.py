"""The SFMC client against the loopback fake, over real HTTP: tokens, rows, events, creating data
extensions, and errors that never show a secret."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import msgspec
import pytest

from channel_engine_sfmc.data_extensions import ALL, BY_KEY, INBOUND_MESSAGES, SMS_DELIVERY_REPORTS
from channel_engine_sfmc.sfmc_api import CHUNK_BYTES, CHUNK_ROWS, SfmcApi, SfmcError
from channel_engine_sfmc.testing import FakeSfmc

MID = "100000001"
SMS_KEY = SMS_DELIVERY_REPORTS.key
ROWS_PATH = f"/data/v1/async/dataextensions/key:{SMS_KEY}/rows"


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def fake() -> AsyncIterator[FakeSfmc]:
    async with FakeSfmc(mid=MID).running() as running:
        yield running


@pytest.fixture
async def api() -> AsyncIterator[SfmcApi]:
    client = SfmcApi()
    yield client
    await client.aclose()


def sms_report(message_id: str, **changes: object) -> dict[str, object]:
    """A row of SMS Delivery Reports with every required column."""
    row: dict[str, object] = {
        "messageId": message_id,
        "to": "41793026727",
        "statusGroupId": 3,
        "statusGroupName": "DELIVERED",
        "statusId": 5,
        "statusName": "DELIVERED_TO_HANDSET",
        "statusDescription": "Message delivered to handset",
        "sentAt": "2026-11-21T09:00:00.000+0000",
        "doneAt": "2026-11-21T09:00:02.000+0000",
    }
    return row | changes


def assert_no_secret(error: SfmcError, fake: FakeSfmc, api_tokens: list[str]) -> None:
    text = f"{error} {error.message!r} {error!r}"
    assert fake.client_secret not in text
    for token in api_tokens:
        assert token not in text


# -- tokens ---------------------------------------------------------------------------------------------


async def test_a_token_is_reused_until_shortly_before_it_expires(fake: FakeSfmc) -> None:
    clock = Clock()
    api = SfmcApi(clock=clock, renew_before=120.0)
    try:
        first = await api.token(MID, fake.credentials())
        assert fake.tokens_issued == 1
        assert first.expires_at == clock.now + 1079  # SFMC's 20 minutes, less its own margin
        assert first.rest_url == fake.url and first.soap_url == fake.url  # from the token answer
        assert first.access_token.reveal() not in repr(first)

        clock.now += 1079 - 121  # still more than renew_before left
        assert await api.token(MID, fake.credentials()) is first
        assert fake.tokens_issued == 1

        clock.now += 2  # within renew_before of the end: renewed before SFMC would refuse it
        second = await api.token(MID, fake.credentials())
        assert fake.tokens_issued == 2
        assert second.access_token != first.access_token
        assert fake.requests.count(("POST", "/v2/token")) == 2
    finally:
        await api.aclose()


async def test_concurrent_callers_share_one_token_request(fake: FakeSfmc, api: SfmcApi) -> None:
    tokens = await asyncio.gather(*(api.token(MID, fake.credentials()) for _ in range(20)))
    assert fake.tokens_issued == 1
    assert {t.access_token.reveal() for t in tokens} == {tokens[0].access_token.reveal()}


async def test_tokens_are_kept_per_business_unit_and_forgotten_on_request(api: SfmcApi) -> None:
    one, other = FakeSfmc(mid="111"), FakeSfmc(mid="222", client_id="other-client")
    async with one.running(), other.running():
        await api.token("111", one.credentials())
        await api.token("222", other.credentials())
        await api.token("111", one.credentials())
        assert (one.tokens_issued, other.tokens_issued) == (1, 1)
        api.forget_token("111", one.credentials())
        await api.token("111", one.credentials())
        assert (one.tokens_issued, other.tokens_issued) == (2, 1)


async def test_a_configured_rest_base_uri_wins_over_the_token_answer(fake: FakeSfmc, api: SfmcApi) -> None:
    creds = msgspec.structs.replace(fake.credentials(), rest_base_uri="https://mc123.rest.example.com/")
    token = await api.token(MID, creds)
    assert token.rest_url == "https://mc123.rest.example.com"
    assert token.soap_url == fake.url


async def test_wrong_credentials_are_a_401_that_shows_no_secret(fake: FakeSfmc, api: SfmcApi) -> None:
    creds = msgspec.structs.replace(fake.credentials(), client_secret="the-wrong-secret-value")
    with pytest.raises(SfmcError) as caught:
        await api.check(MID, creds)
    assert caught.value.status == 401
    assert "invalid_client" in caught.value.message and MID in caught.value.message
    assert "the-wrong-secret-value" not in f"{caught.value} {caught.value!r}"
    assert fake.tokens_issued == 0


async def test_check_asks_for_a_new_token_even_with_one_cached(fake: FakeSfmc, api: SfmcApi) -> None:
    await api.token(MID, fake.credentials())
    await api.check(MID, fake.credentials())
    assert fake.tokens_issued == 2


# -- rows -----------------------------------------------------------------------------------------------


async def test_upserted_rows_replace_rows_with_the_same_primary_key(fake: FakeSfmc, api: SfmcApi) -> None:
    creds = fake.credentials()
    await api.upsert_rows(MID, creds, SMS_KEY, [sms_report("m1"), sms_report("m2")])
    await api.upsert_rows(MID, creds, SMS_KEY, [sms_report("m1", statusName="EXPIRED")])
    rows = await fake.wait_for_rows(SMS_KEY, 2)
    assert [(r["messageId"], r["statusName"]) for r in rows] == [
        ("m1", "EXPIRED"),
        ("m2", "DELIVERED_TO_HANDSET"),
    ]
    assert fake.requests.count(("PUT", ROWS_PATH)) == 2
    assert fake.tokens_issued == 1


async def test_rows_go_in_chunks_and_calling_again_is_harmless(fake: FakeSfmc, api: SfmcApi) -> None:
    rows = [sms_report(f"m{i}") for i in range(2 * CHUNK_ROWS + 1)]
    await api.upsert_rows(MID, fake.credentials(), SMS_KEY, rows)
    assert fake.requests.count(("PUT", ROWS_PATH)) == 3
    assert len(fake.rows(SMS_KEY)) == len(rows)
    await api.upsert_rows(MID, fake.credentials(), SMS_KEY, rows)  # a caller's retry
    assert fake.requests.count(("PUT", ROWS_PATH)) == 6
    assert len(fake.rows(SMS_KEY)) == len(rows)


async def test_large_rows_are_chunked_by_size_too(fake: FakeSfmc, api: SfmcApi) -> None:
    """400 inbound replies of 4,000 Korean characters are 4.8 MB: under the row count, over the payload."""
    reply = "안" * 4000
    rows = [
        {"messageId": f"in-{i}", "from": "821012345678", "channel": "KAKAO", "text": reply,
         "receivedAt": "2026-11-21T09:00:00.000+0000"}
        for i in range(400)
    ]  # fmt: skip
    assert len(rows) < CHUNK_ROWS and len(msgspec.json.encode(rows)) > CHUNK_BYTES
    await api.insert_rows(MID, fake.credentials(), INBOUND_MESSAGES.key, rows)
    assert (
        fake.requests.count(("POST", f"/data/v1/async/dataextensions/key:{INBOUND_MESSAGES.key}/rows")) == 2
    )
    assert [r["messageId"] for r in fake.rows(INBOUND_MESSAGES.key)] == [r["messageId"] for r in rows]


async def test_a_refused_token_is_renewed_and_the_call_retried_once(fake: FakeSfmc, api: SfmcApi) -> None:
    await api.token(MID, fake.credentials())
    fake.revoke_tokens()  # e.g. the package's secret was rotated: SFMC refuses the cached token early
    await api.upsert_rows(MID, fake.credentials(), SMS_KEY, [sms_report("m1")])
    assert fake.tokens_issued == 2
    assert fake.requests.count(("PUT", ROWS_PATH)) == 2
    assert len(fake.rows(SMS_KEY)) == 1


async def test_a_second_401_is_an_error_not_a_loop() -> None:
    fake = FakeSfmc(mid=MID, token_lifetime=0)  # every token is expired when it arrives
    api = SfmcApi()
    try:
        async with fake.running():
            with pytest.raises(SfmcError) as caught:
                await api.upsert_rows(MID, fake.credentials(), SMS_KEY, [sms_report("m1")])
        assert caught.value.status == 401
        assert fake.requests.count(("PUT", ROWS_PATH)) == 2
        assert fake.tokens_issued == 2
    finally:
        await api.aclose()


async def test_sfmc_down_is_an_error_naming_the_extension_and_status(fake: FakeSfmc, api: SfmcApi) -> None:
    token = await api.token(MID, fake.credentials())
    fake.down = True
    with pytest.raises(SfmcError) as caught:
        await api.upsert_rows(MID, fake.credentials(), SMS_KEY, [sms_report("m1")])
    assert caught.value.status == 503
    assert SMS_KEY in caught.value.message and "503" in caught.value.message
    assert_no_secret(caught.value, fake, [token.access_token.reveal()])
    fake.down = False
    await api.upsert_rows(MID, fake.credentials(), SMS_KEY, [sms_report("m1")])  # the caller's retry
    assert len(fake.rows(SMS_KEY)) == 1


async def test_a_network_error_is_an_sfmc_error_without_secrets(api: SfmcApi) -> None:
    fake = FakeSfmc(mid=MID)
    async with fake.running():
        token = await api.token(MID, fake.credentials())
    # The fake has stopped: its port refuses connections.
    with pytest.raises(SfmcError) as caught:
        await api.insert_rows(MID, fake.credentials(), SMS_KEY, [sms_report("m1")])
    assert caught.value.status is None
    assert SMS_KEY in caught.value.message and "127.0.0.1" in caught.value.message
    assert_no_secret(caught.value, fake, [token.access_token.reveal()])


async def test_an_unknown_column_is_refused_and_earlier_chunks_are_counted(
    fake: FakeSfmc, api: SfmcApi
) -> None:
    rows = [sms_report(f"m{i}") for i in range(CHUNK_ROWS)] + [sms_report("bad", colour="blue")]
    with pytest.raises(SfmcError) as caught:
        await api.insert_rows(MID, fake.credentials(), SMS_KEY, rows)
    assert caught.value.status == 400
    assert "[colour]" in caught.value.message and SMS_KEY in caught.value.message
    assert caught.value.accepted_rows == CHUNK_ROWS  # resend rows[500:] only
    assert len(fake.rows(SMS_KEY)) == CHUNK_ROWS


async def test_no_rows_make_no_call(fake: FakeSfmc, api: SfmcApi) -> None:
    await api.upsert_rows(MID, fake.credentials(), SMS_KEY, [])
    assert fake.requests == []


# -- events ---------------------------------------------------------------------------------------------


async def test_fire_event_posts_the_journey_api_body(fake: FakeSfmc, api: SfmcApi) -> None:
    data = {"messageId": "m1", "text": "Yes, Paris ✓"}
    await api.fire_event(MID, fake.credentials(), "APIEvent-reply", "contact-7", data)
    assert await fake.wait_for_events(1) == [
        {"ContactKey": "contact-7", "EventDefinitionKey": "APIEvent-reply", "Data": data}
    ]


async def test_a_refused_event_names_its_definition(fake: FakeSfmc, api: SfmcApi) -> None:
    fake.down = True
    with pytest.raises(SfmcError, match="APIEvent-reply") as caught:
        await api.fire_event(MID, fake.credentials(), "APIEvent-reply", "contact-7", {})
    assert caught.value.status == 503


# -- creating data extensions ---------------------------------------------------------------------------


async def test_the_five_report_extensions_are_created_column_for_column(fake: FakeSfmc, api: SfmcApi) -> None:
    outcomes = await api.create_data_extensions(MID, fake.credentials(), list(ALL))
    assert outcomes == [(de.key, "created") for de in ALL]
    assert fake.requests.count(("POST", "/Service.asmx")) == 1
    assert set(fake.created) == set(BY_KEY)
    for de in ALL:
        created = fake.created[de.key]
        assert (created["name"], created["description"]) == (de.name, de.description)
        got = [
            (f["name"], f["type"], f["length"], f["required"], f["primaryKey"], f["default"])
            for f in created["fields"]
        ]
        expected = [
            (c.name, c.type, c.length if c.type == "Text" else None, not c.nullable, c.primary_key, c.default)
            for c in de.columns
        ]
        assert got == expected
    price = next(f for f in fake.created[SMS_KEY]["fields"] if f["name"] == "pricePerMessage")
    assert (price["precision"], price["scale"]) == (18, 8)


async def test_creating_again_finds_them_there(fake: FakeSfmc, api: SfmcApi) -> None:
    await api.create_data_extensions(MID, fake.credentials(), [SMS_DELIVERY_REPORTS])
    outcomes = await api.create_data_extensions(MID, fake.credentials(), list(ALL))
    assert outcomes == [(de.key, "exists" if de is SMS_DELIVERY_REPORTS else "created") for de in ALL]


async def test_rows_of_a_created_extension_are_checked_against_its_fields(
    fake: FakeSfmc, api: SfmcApi
) -> None:
    await api.create_data_extensions(MID, fake.credentials(), [SMS_DELIVERY_REPORTS])
    with pytest.raises(SfmcError, match=r"\[statusName\]"):
        await api.upsert_rows(MID, fake.credentials(), SMS_KEY, [sms_report("m1", statusName=None)])


async def test_a_refused_soap_token_is_renewed_once(fake: FakeSfmc, api: SfmcApi) -> None:
    await api.token(MID, fake.credentials())
    fake.revoke_tokens()
    outcomes = await api.create_data_extensions(MID, fake.credentials(), [INBOUND_MESSAGES])
    assert outcomes == [(INBOUND_MESSAGES.key, "created")]
    assert fake.tokens_issued == 2
    assert fake.requests.count(("POST", "/Service.asmx")) == 2


async def test_soap_down_is_an_sfmc_error(fake: FakeSfmc, api: SfmcApi) -> None:
    await api.token(MID, fake.credentials())
    fake.down = True
    with pytest.raises(SfmcError) as caught:
        await api.create_data_extensions(MID, fake.credentials(), list(ALL))
    assert caught.value.status == 503
    assert fake.created == {}
