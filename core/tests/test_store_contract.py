"""The store contract, written once against `Store` and run against every implementation.

Add an implementation to `KINDS`: how to build it on the data kept under a test's `tmp_path` (a second
build on the same path must see the same data) and the Python source that builds it in a subprocess.
Redis runs on a real server the fixtures start; each test has keys of its own.
Times are passed in explicitly, so nothing here sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest

from channel_engine.models import (
    DataEntry,
    HostRef,
    MessageOptions,
    OutboundMessage,
    Report,
    SendOutcome,
    SpeedLimit,
)
from channel_engine.store import RETRY_WINDOW, Store
from channel_engine.store.redis import RedisStore
from channel_engine.store.sqlite import _EXISTING_KEYS, SQLiteStore
from channel_engine.store.sqlite_schema import SCHEMA
from channel_engine.store.sqlite_writer import StoreClosedError
from channel_engine.testing.fixtures import redis_prefix
from channel_engine.testing.redis_server import RedisServer

STATES = ("QUEUED", "SENDING", "SENT", "FAILED", "DELIVERED", "UNDELIVERABLE", "EXPIRED", "REJECTED")


@dataclass(frozen=True)
class StoreKind:
    name: str
    make: Callable[[Path], Store]  # a store on the data under this directory
    source: Callable[[Path], str]  # Python that binds `store` to the same, for a subprocess


def _sqlite_source(writer_process: bool) -> Callable[[Path], str]:
    return lambda directory: (
        "from channel_engine.store.sqlite import SQLiteStore\n"
        f"store = SQLiteStore({str(directory / 'store.db')!r}, writer_process={writer_process})"
    )


def _sqlite_kind(name: str, writer_process: bool) -> Callable[[pytest.FixtureRequest], StoreKind]:
    return lambda request: StoreKind(
        name,
        lambda directory: SQLiteStore(directory / "store.db", writer_process=writer_process),
        _sqlite_source(writer_process),
    )


def _redis_source(url: str) -> Callable[[Path], str]:
    return lambda directory: (
        "from channel_engine.store.redis import RedisStore\n"
        f"store = RedisStore({url!r}, prefix={redis_prefix(directory)!r})"
    )


def _redis_kind(request: pytest.FixtureRequest) -> StoreKind:
    url = request.getfixturevalue("redis_server").url
    return StoreKind(
        "redis", lambda directory: RedisStore(url, prefix=redis_prefix(directory)), _redis_source(url)
    )


KINDS = {
    "sqlite": _sqlite_kind("sqlite", writer_process=False),  # the writer a thread of the engine's
    "sqlite-process": _sqlite_kind("sqlite-process", writer_process=True),  # the database's writer process
    "redis": _redis_kind,
}


@pytest.fixture(params=list(KINDS))
def kind(request: pytest.FixtureRequest) -> StoreKind:
    return KINDS[request.param](request)


@pytest.fixture
async def store(kind: StoreKind, tmp_path: Path) -> AsyncIterator[Store]:
    opened = kind.make(tmp_path)
    await opened.open()
    yield opened
    await opened.close()


async def reopened(kind: StoreKind, tmp_path: Path) -> Store:
    again = kind.make(tmp_path)
    await again.open()
    return again


# -- builders ----------------------------------------------------------------------------------------------


def msg(
    mid: str,
    destination: str | None = "41790000001",
    *,
    host: HostRef | None = None,
    speed: SpeedLimit | None = None,
    bulk_id: str | None = None,
    channel: str = "sms",
) -> OutboundMessage:
    return OutboundMessage(
        channel=channel,
        destination=destination,
        sender="InfoSMS",
        content={"text": f"hello {mid}"},
        options=MessageOptions(speed_limit=speed, bulk_id=bulk_id, callback_data="cb-" + mid),
        host=host or HostRef(name="sfmc", context={"journey": "j-1", "activity": mid}),
        id=mid,
    )


def report(
    mid: str | None,
    group: str = "DELIVERED",
    name: str = "DELIVERED_TO_HANDSET",
    *,
    kind: str = "DELIVERY",
    channel: str = "sms",
    at: str = "2025-01-01T10:00:00.000+0000",
    status_id: int | None = None,
    **extra: object,
) -> Report:
    ids = {"DELIVERED_TO_HANDSET": 5, "DELIVERED_TO_OPERATOR": 2, "PENDING_ENROUTE": 7}
    if kind != "DELIVERY":
        fields: dict[str, object] = {"seen_at": at} if kind == "SEEN" else {"received_at": at}
        return Report(kind=kind, channel=channel, message_id=mid, **fields, **extra)  # type: ignore[arg-type]
    return Report(
        kind="DELIVERY",
        channel=channel,
        message_id=mid,
        status_group=group,
        status_name=name,
        status_id=status_id if status_id is not None else ids.get(name, 99),
        done_at=at,
        **extra,  # type: ignore[arg-type]
    )


def inbound(sender: str, ib_id: str = "ib-1", text: str = "STOP") -> Report:
    return Report(
        kind="INBOUND",
        channel="sms",
        message_id=ib_id,
        sender=sender,
        to="447860099299",
        text=text,
        received_at="2025-01-01T10:05:00.000+0000",
    )


async def sent(store: Store, *ids: str, now: float = 0.0) -> None:
    """Enqueue, claim and mark sent: the usual road to a report."""
    await store.enqueue([msg(mid) for mid in ids], now)
    claimed = await store.claim(now, len(ids), 30)
    assert sorted(q.message.id or "" for q in claimed) == sorted(ids)
    await store.mark_sent([SendOutcome(mid, True, "PENDING", "PENDING_ACCEPTED", 26) for mid in ids], now)


async def state_of(store: Store, mid: str) -> str:
    view = await store.get_message(mid)
    assert view is not None
    return view.state


# -- open, enqueue, get_message --------------------------------------------------------------------------


async def test_enqueued_message_is_queued_with_an_accepted_entry(store: Store) -> None:
    await store.enqueue([msg("m1")], 100.0)

    view = await store.get_message("m1")

    assert view is not None
    assert (view.id, view.channel, view.destination, view.state) == ("m1", "sms", "41790000001", "QUEUED")
    assert view.created_at == 100.0
    assert view.attempts == 0
    assert view.host == HostRef(name="sfmc", context={"journey": "j-1", "activity": "m1"})
    assert [(e.at, e.event) for e in view.timeline] == [(100.0, "ACCEPTED")]
    assert view.status_group is None and view.failure_reason is None


async def test_unknown_message_is_none(store: Store) -> None:
    assert await store.get_message("nope") is None


async def test_enqueue_ignores_ids_already_stored(store: Store) -> None:
    await store.enqueue([msg("m1")], 1.0)

    changed = msg("m1", destination="41790000002")
    await store.enqueue([changed, msg("m2"), msg("m2", destination="41790000003")], 5.0)

    first = await store.get_message("m1")
    second = await store.get_message("m2")
    assert first is not None and second is not None
    assert (first.created_at, first.destination, len(first.timeline)) == (1.0, "41790000001", 1)
    assert second.destination == "41790000001"  # the first of a batch's twins wins
    assert (await store.stats())["state_QUEUED"] == 2


def keyed(mid: str, key: str, **kwargs: Any) -> OutboundMessage:
    return msgspec.structs.replace(msg(mid, **kwargs), idempotency_key=key)


async def test_enqueue_answers_the_id_stored_under_each_idempotency_key(store: Store) -> None:
    first = await store.enqueue([keyed("m1", "k1"), msg("plain")], 1.0)

    again = await store.enqueue([keyed("m1-retry", "k1", destination="41790000002"), keyed("m2", "k2")], 5.0)

    assert first == {"k1": "m1"}
    assert again == {"k1": "m1", "k2": "m2"}  # the retry is the first request's message
    assert await store.get_message("m1-retry") is None
    stored = await store.get_message("m1")
    assert stored is not None and (stored.destination, stored.created_at) == ("41790000001", 1.0)
    assert (await store.stats())["state_QUEUED"] == 3


async def test_concurrent_requests_with_one_idempotency_key_store_one_message(store: Store) -> None:
    answers = await asyncio.gather(*(store.enqueue([keyed(f"m{i}", "same")], 1.0) for i in range(5)))

    winner = answers[0]["same"]
    assert all(answer == {"same": winner} for answer in answers)
    assert (await store.stats())["state_QUEUED"] == 1
    # Requests joined in one write each hear about their own keys only.
    apart = await asyncio.gather(*(store.enqueue([keyed(f"n{i}", f"key-{i}")], 1.0) for i in range(5)))
    assert apart == [{f"key-{i}": f"n{i}"} for i in range(5)]
    twins = await store.enqueue([keyed("a", "twin"), keyed("b", "twin")], 2.0)
    assert twins == {"twin": "a"}  # in one call the first wins, as with twin ids
    assert await store.get_message("b") is None


async def test_an_idempotency_key_holds_for_spaced_messages_and_keeps_their_spacing(store: Store) -> None:
    limit = SpeedLimit(amount=60, time_unit="MINUTE")
    await store.enqueue([keyed("m0", "k0", speed=limit), keyed("m1", "k1", speed=limit)], 0.0)

    retried = await store.enqueue([keyed("m1-retry", "k1", speed=limit)], 0.0)
    # A retry beside a new message in one call: the new one's speed-limit write is not a stored message.
    beside = await store.enqueue([keyed("m1-again", "k1", speed=limit), keyed("m2", "k2", speed=limit)], 0.0)

    assert retried == {"k1": "m1"}
    assert beside == {"k1": "m1", "k2": "m2"}
    # The retry moved nothing: the next new message is due right after m1.
    assert await due_times(store, ["m0", "m1", "m2"]) == {"m0": 0.0, "m1": 1.0, "m2": 2.0}


async def test_a_retried_requests_plugin_data_does_not_overwrite_the_first_ones(store: Store) -> None:
    now = time.time()
    await store.enqueue([keyed("m1", "k1")], now, [DataEntry("sfmc-sent", "activity|contact", b"m1")])

    await store.enqueue(
        [keyed("m1-retry", "k1")], now, [DataEntry("sfmc-sent", "activity|contact", b"m1-retry")]
    )
    await store.enqueue([keyed("m2", "k2")], now, [DataEntry("sfmc-sent", "activity|contact-2", b"m2")])

    assert await store.list_data("sfmc-sent", now) == {"activity|contact": b"m1", "activity|contact-2": b"m2"}


async def test_an_idempotency_key_given_to_an_id_stored_before_answers_that_id(store: Store) -> None:
    await store.enqueue([msg("m1")], 1.0)

    assert await store.enqueue([keyed("m1", "late-key")], 2.0) == {"late-key": "m1"}
    assert (await store.stats())["state_QUEUED"] == 1


async def test_idempotency_keys_survive_a_reopen(kind: StoreKind, tmp_path: Path) -> None:
    first = kind.make(tmp_path)
    await first.open()
    await first.enqueue([keyed("m1", "k1")], 1.0)
    await first.close()
    second = kind.make(tmp_path)
    await second.open()
    try:
        assert await second.enqueue([keyed("m1-retry", "k1")], 2.0) == {"k1": "m1"}
    finally:
        await second.close()


def retried(mid: str, key: str, **kwargs: Any) -> OutboundMessage:
    return msgspec.structs.replace(msg(mid, **kwargs), retry_key=key)


async def test_a_retry_key_answers_a_retry_in_its_window_with_the_first_messages_id(store: Store) -> None:
    now = time.time()
    first = await store.enqueue([retried("m1", "r1"), msg("plain")], now)

    again = await store.enqueue(
        [retried("m1-retry", "r1", destination="41790000002"), retried("m2", "r2")], now + RETRY_WINDOW - 1
    )

    assert first == {"r1": "m1"}
    assert again == {"r1": "m1", "r2": "m2"}
    assert await store.get_message("m1-retry") is None
    stored = await store.get_message("m1")
    assert stored is not None and stored.destination == "41790000001"
    assert (await store.stats())["state_QUEUED"] == 3


async def test_concurrent_requests_with_one_retry_key_store_one_message(store: Store) -> None:
    now = time.time()
    answers = await asyncio.gather(*(store.enqueue([retried(f"m{i}", "same")], now) for i in range(5)))

    winner = answers[0]["same"]
    assert all(answer == {"same": winner} for answer in answers)
    assert (await store.stats())["state_QUEUED"] == 1
    twins = await store.enqueue([retried("a", "twin"), retried("b", "twin")], now)
    assert twins == {"twin": "a"}  # in one call the first wins
    assert await store.get_message("b") is None


async def test_a_retry_key_is_forgotten_after_twice_its_window(store: Store) -> None:
    now = time.time()
    await store.enqueue([retried("old", "r")], now - 2 * RETRY_WINDOW - 1)

    assert await store.enqueue([retried("new", "r")], now) == {"r": "new"}
    assert await store.enqueue([retried("new-retry", "r")], now + 1) == {"r": "new"}
    assert (await store.stats())["state_QUEUED"] == 2


async def test_a_retry_key_holds_for_spaced_messages_and_keeps_their_spacing(store: Store) -> None:
    limit = SpeedLimit(amount=60, time_unit="MINUTE")
    now = float(int(time.time()))
    await store.enqueue([retried("m0", "r0", speed=limit), retried("m1", "r1", speed=limit)], now)

    retry = await store.enqueue(
        [retried("m1-retry", "r1", speed=limit), retried("m2", "r2", speed=limit)], now
    )

    assert retry == {"r1": "m1", "r2": "m2"}
    due = await due_times(store, ["m0", "m1", "m2"], horizon=now + 10)
    assert due == {"m0": now, "m1": now + 1, "m2": now + 2}


async def test_a_retried_requests_plugin_data_under_a_retry_key_is_not_stored(store: Store) -> None:
    now = time.time()
    await store.enqueue([retried("m1", "r1")], now, [DataEntry("host", "lookup", b"m1")])

    await store.enqueue([retried("m1-retry", "r1")], now + 1, [DataEntry("host", "lookup", b"m1-retry")])

    assert await store.list_data("host", now) == {"lookup": b"m1"}


async def test_retry_keys_survive_a_reopen_for_their_window(kind: StoreKind, tmp_path: Path) -> None:
    now = time.time()
    first = kind.make(tmp_path)
    await first.open()
    await first.enqueue([retried("old", "r-old")], now - 2 * RETRY_WINDOW - 1)
    await first.enqueue([retried("m1", "r1")], now)
    await first.close()
    second = kind.make(tmp_path)
    await second.open()
    try:
        assert await second.enqueue([retried("m1-retry", "r1"), retried("new", "r-old")], now + 1) == {
            "r1": "m1",
            "r-old": "new",
        }
    finally:
        await second.close()


async def test_enqueue_without_id_is_refused(store: Store) -> None:
    anonymous = OutboundMessage(channel="sms", destination="41790000001", content={"text": "x"})

    with pytest.raises(ValueError):
        await store.enqueue([anonymous], 0.0)
    assert (await store.stats())["queued"] == 0


async def test_enqueue_of_nothing_is_harmless(store: Store) -> None:
    await store.enqueue([], 0.0)
    assert (await store.stats())["queued"] == 0


# -- speed limits ------------------------------------------------------------------------------------------


async def due_times(store: Store, ids: list[str], horizon: float = 100_000.0) -> dict[str, float]:
    """Each message's due time, read through the contract: step `now` to `next_due` and claim."""
    due: dict[str, float] = {}
    while len(due) < len(ids):
        moment = await store.next_due()
        assert moment is not None and moment <= horizon
        claimed = await store.claim(moment, 1000, 10 * horizon)
        assert claimed, f"next_due said {moment} but nothing was due"
        for q in claimed:
            due[q.message.id or ""] = moment
    return due


async def test_a_batch_is_spaced_by_the_speed_limit(store: Store) -> None:
    limit = SpeedLimit(amount=60, time_unit="MINUTE")
    await store.enqueue([msg(f"m{i}", speed=limit) for i in range(3)], 0.0)

    assert await store.claim(0.0, 10, 60) != []
    assert await store.claim(0.99, 10, 60) == []
    assert await store.next_due() == pytest.approx(1.0)
    assert [q.message.id for q in await store.claim(2.0, 10, 60)] == ["m1", "m2"]


async def test_speed_limit_per_hour_spaces_by_its_interval(store: Store) -> None:
    limit = SpeedLimit(amount=500, time_unit="HOUR")
    await store.enqueue([msg("a", speed=limit), msg("b", speed=limit)], 0.0)

    due = await due_times(store, ["a", "b"])

    assert due == {"a": 0.0, "b": pytest.approx(7.2)}


async def test_a_later_enqueue_continues_from_the_last_due_never_before_now(store: Store) -> None:
    limit = SpeedLimit(amount=60, time_unit="MINUTE")
    await store.enqueue([msg(f"m{i}", speed=limit) for i in range(3)], 0.0)  # 0, 1, 2
    await store.enqueue([msg("later", speed=limit)], 0.5)  # after 2, not at 0.5
    await store.enqueue([msg("much-later", speed=limit)], 100.0)  # the key was idle: now

    due = await due_times(store, ["m0", "m1", "m2", "later", "much-later"])

    assert due == {
        "m0": 0.0,
        "m1": pytest.approx(1.0),
        "m2": pytest.approx(2.0),
        "later": pytest.approx(3.0),
        "much-later": 100.0,
    }


async def test_speed_limit_keys(store: Store) -> None:
    per_minute = SpeedLimit(amount=60, time_unit="MINUTE")
    keyed = SpeedLimit(amount=60, time_unit="MINUTE", key="journey-7")
    faster = SpeedLimit(amount=120, time_unit="MINUTE", key="journey-7")
    await store.enqueue(
        [
            msg("key-1", speed=keyed, bulk_id="b1"),
            msg("key-2", speed=keyed, bulk_id="b2"),  # the key wins over the bulk id
            msg("fast-1", speed=faster),  # another amount: another key
            msg("bulk-1", speed=per_minute, bulk_id="b1"),
            msg("bulk-2", speed=per_minute, bulk_id="b1"),
            msg("other-bulk", speed=per_minute, bulk_id="b9"),
            msg("host-1", speed=per_minute),
            msg("host-2", speed=per_minute),
            msg("other-host", speed=per_minute, host=HostRef(name="bloomreach")),
            msg("free"),
        ],
        10.0,
    )

    due = await due_times(
        store,
        [
            "key-1",
            "key-2",
            "fast-1",
            "bulk-1",
            "bulk-2",
            "other-bulk",
            "host-1",
            "host-2",
            "other-host",
            "free",
        ],
    )

    assert due == {
        "key-1": 10.0,
        "key-2": pytest.approx(11.0),
        "fast-1": 10.0,
        "bulk-1": 10.0,
        "bulk-2": pytest.approx(11.0),
        "other-bulk": 10.0,
        "host-1": 10.0,
        "host-2": pytest.approx(11.0),
        "other-host": 10.0,
        "free": 10.0,
    }


async def test_an_ignored_duplicate_does_not_advance_its_key(store: Store) -> None:
    limit = SpeedLimit(amount=60, time_unit="MINUTE")
    await store.enqueue([msg("a", speed=limit)], 0.0)
    await store.enqueue([msg("a", speed=limit)], 0.0)
    await store.enqueue([msg("b", speed=limit)], 0.0)

    assert await due_times(store, ["a", "b"]) == {"a": 0.0, "b": pytest.approx(1.0)}


async def test_speed_limit_spacing_holds_across_restarts(
    store: Store, kind: StoreKind, tmp_path: Path
) -> None:
    limit = SpeedLimit(amount=500, time_unit="HOUR")
    await store.enqueue([msg("a", speed=limit)], 0.0)
    await store.close()

    again = await reopened(kind, tmp_path)
    try:
        await again.enqueue([msg("b", speed=limit)], 1.0)
        assert await due_times(again, ["a", "b"]) == {"a": 0.0, "b": pytest.approx(7.2)}
    finally:
        await again.close()
        await store.open()  # the fixture closes it


# -- claim, recover, next_due ------------------------------------------------------------------------------


async def test_claim_takes_due_messages_earliest_first_and_counts_the_attempt(store: Store) -> None:
    await store.enqueue([msg("late")], 5.0)
    await store.enqueue([msg("early")], 1.0)
    await store.enqueue([msg("future")], 50.0)

    claimed = await store.claim(10.0, 10, 30.0)

    assert [q.message.id for q in claimed] == ["early", "late"]
    assert [q.attempts for q in claimed] == [1, 1]
    assert claimed[0].message == msg("early")  # the whole message round-trips
    assert await state_of(store, "early") == "SENDING"
    assert await state_of(store, "future") == "QUEUED"
    view = await store.get_message("early")
    assert view is not None and view.attempts == 1


async def test_claim_respects_the_limit(store: Store) -> None:
    await store.enqueue([msg(f"m{i}") for i in range(5)], 0.0)

    first = await store.claim(1.0, 2, 30.0)
    rest = await store.claim(1.0, 10, 30.0)

    assert len(first) == 2 and len(rest) == 3
    assert {q.message.id for q in first} | {q.message.id for q in rest} == {f"m{i}" for i in range(5)}
    assert await store.claim(1.0, 0, 30.0) == []


async def test_a_claimed_message_is_hidden_until_its_lease_ends(store: Store) -> None:
    await store.enqueue([msg("m1")], 0.0)
    await store.claim(0.0, 10, 30.0)

    assert await store.claim(29.9, 10, 30.0) == []
    assert await store.next_due() == pytest.approx(30.0)
    again = await store.claim(30.0, 10, 30.0)

    assert [(q.message.id, q.attempts) for q in again] == [("m1", 2)]


async def test_an_ended_lease_is_claimed_in_due_order_with_queued_messages(store: Store) -> None:
    await store.enqueue([msg("leased")], 0.0)
    await store.claim(0.0, 1, 5.0)  # lease ends at 5
    await store.enqueue([msg("queued-at-3")], 3.0)
    await store.enqueue([msg("queued-at-7")], 7.0)

    claimed = await store.claim(10.0, 2, 30.0)

    assert [q.message.id for q in claimed] == ["queued-at-3", "leased"]


async def test_next_due(store: Store) -> None:
    assert await store.next_due() is None
    await store.enqueue([msg("m1")], 4.0)
    assert await store.next_due() == 4.0
    await store.claim(4.0, 10, 30.0)
    assert await store.next_due() == 34.0
    await store.mark_sent([SendOutcome("m1", True, "PENDING", "PENDING_ACCEPTED")], 5.0)
    assert await store.next_due() is None


async def test_recover_makes_sending_messages_due_now(store: Store) -> None:
    await store.enqueue([msg("a"), msg("b"), msg("c")], 0.0)
    await store.claim(0.0, 2, 3600.0)

    assert await store.recover(10.0) == 2

    assert (await store.stats())["state_SENDING"] == 0
    assert await store.next_due() == 0.0  # c, queued at 0
    claimed = await store.claim(10.0, 10, 30.0)
    assert sorted(q.message.id or "" for q in claimed) == ["a", "b", "c"]
    assert await store.recover(11.0) == 3
    assert await store.recover(12.0) == 0


async def test_recover_leaves_the_messages_of_another_open_store_alone(
    store: Store, kind: StoreKind, tmp_path: Path
) -> None:
    await store.enqueue([msg("a"), msg("b")], 0.0)
    await store.claim(0.0, 1, 3600.0)
    other = await reopened(kind, tmp_path)  # a second process on the same data
    try:
        assert await other.recover(10.0) == 0
        assert (await other.stats())["state_SENDING"] == 1
    finally:
        await other.close()

    assert await store.recover(10.0) == 1  # alone again: what is in flight was left by the dead


async def test_two_processes_claiming_together_never_take_one_message_twice(
    store: Store, kind: StoreKind, tmp_path: Path
) -> None:
    await store.enqueue([msg(f"m{i}") for i in range(400)], 0.0)
    other = await reopened(kind, tmp_path)
    try:
        taken: list[str] = []

        async def drain(s: Store) -> None:
            while claimed := await s.claim(1.0, 7, 30.0):
                taken.extend(q.message.id or "" for q in claimed)

        await asyncio.gather(drain(store), drain(other), drain(store), drain(other))
    finally:
        await other.close()

    assert sorted(taken) == sorted(f"m{i}" for i in range(400))


async def test_an_id_stored_by_one_process_is_ignored_by_another(
    store: Store, kind: StoreKind, tmp_path: Path
) -> None:
    await store.enqueue([msg("m1")], 0.0)
    other = await reopened(kind, tmp_path)
    try:
        await other.enqueue([msg("m1"), msg("m2")], 5.0)  # a retried POST that reached another process
    finally:
        await other.close()

    claimed = await store.claim(10.0, 10, 30.0)
    assert sorted(q.message.id or "" for q in claimed) == ["m1", "m2"]


async def test_two_processes_never_hand_one_outbox_item_over_twice(
    store: Store, kind: StoreKind, tmp_path: Path
) -> None:
    await sent(store, *(f"m{i}" for i in range(60)))
    await store.record_reports([report(f"m{i}") for i in range(60)], 1.0)
    other = await reopened(kind, tmp_path)
    try:
        taken: list[int] = []

        async def drain(s: Store) -> None:
            while items := await s.claim_outbox(2.0, 7, 30.0):
                taken.extend(item.id for item in items)

        await asyncio.gather(drain(store), drain(other), drain(store), drain(other))
    finally:
        await other.close()

    assert len(taken) == len(set(taken)) == 60


async def test_a_speed_limit_is_spaced_across_processes(
    store: Store, kind: StoreKind, tmp_path: Path
) -> None:
    limit = SpeedLimit(amount=60, time_unit="MINUTE", key="campaign")
    other = await reopened(kind, tmp_path)
    try:
        await asyncio.gather(
            *(
                s.enqueue([msg(f"{name}{i}", speed=limit) for i in range(5)], 100.0)
                for i_batch in range(4)
                for name, s in ((f"a{i_batch}-", store), (f"b{i_batch}-", other))
            )
        )
    finally:
        await other.close()

    ids = [f"{p}{b}-{i}" for p in "ab" for b in range(4) for i in range(5)]
    assert sorted((await due_times(store, ids)).values()) == [100.0 + i for i in range(40)]


# -- mark_sent, mark_failed, retry_later -------------------------------------------------------------------


async def test_mark_sent_keeps_the_provider_status(store: Store) -> None:
    await store.enqueue([msg("m1")], 0.0)
    await store.claim(1.0, 10, 30.0)

    await store.mark_sent([SendOutcome("m1", True, "PENDING", "PENDING_ACCEPTED", 26, "sent", 2)], 2.0)

    view = await store.get_message("m1")
    assert view is not None
    assert (view.state, view.status_group, view.status_name, view.message_count) == (
        "SENT",
        "PENDING",
        "PENDING_ACCEPTED",
        2,
    )
    last = view.timeline[-1]
    assert (last.at, last.event, last.status_group, last.status_name) == (
        2.0,
        "SENT",
        "PENDING",
        "PENDING_ACCEPTED",
    )
    assert last.detail == {"messageCount": 2}
    assert await store.claim(1000.0, 10, 30.0) == []


async def test_mark_failed_keeps_the_reason(store: Store) -> None:
    await store.enqueue([msg("m1"), msg("m2")], 0.0)
    await store.claim(1.0, 10, 30.0)

    await store.mark_failed([("m1", "invalid destination")], 2.0)

    view = await store.get_message("m1")
    assert view is not None
    assert (view.state, view.failure_reason) == ("FAILED", "invalid destination")
    assert (view.timeline[-1].event, view.timeline[-1].detail) == (
        "FAILED",
        {"reason": "invalid destination"},
    )
    assert await state_of(store, "m2") == "SENDING"


async def test_a_failed_message_is_not_claimed_again(store: Store) -> None:
    await store.enqueue([msg("m1")], 0.0)
    await store.claim(1.0, 10, 30.0)
    await store.mark_failed([("m1", "no route")], 2.0)

    assert await store.claim(1000.0, 10, 30.0) == []
    assert await store.next_due() is None


async def test_retry_later_queues_the_message_again_at_its_due_time(store: Store) -> None:
    await store.enqueue([msg("m1")], 0.0)
    await store.claim(0.0, 10, 30.0)

    await store.retry_later(["m1"], 60.0, "provider answered 503", 1.0)

    view = await store.get_message("m1")
    assert view is not None and view.state == "QUEUED"
    assert (view.timeline[-1].at, view.timeline[-1].event) == (1.0, "RETRY")
    assert view.timeline[-1].detail is not None
    assert view.timeline[-1].detail["reason"] == "provider answered 503"
    assert await store.next_due() == 60.0
    assert await store.claim(59.0, 10, 30.0) == []
    assert [(q.message.id, q.attempts) for q in await store.claim(60.0, 10, 30.0)] == [("m1", 2)]


# -- reports -----------------------------------------------------------------------------------------------


async def test_record_reports_returns_new_ones_and_ignores_replays(store: Store) -> None:
    await sent(store, "m1", "m2")
    first = [report("m1"), report("m2")]

    new = await store.record_reports(first, 10.0)
    replay = await store.record_reports([report("m1"), report("m2")], 11.0)

    assert new == first
    assert replay == []
    view = await store.get_message("m1")
    assert view is not None
    assert [e.event for e in view.timeline] == ["ACCEPTED", "SENT", "DELIVERY"]
    assert (await store.stats())["outbox"] == 2


async def test_the_same_report_twice_in_one_call_is_recorded_once(store: Store) -> None:
    await sent(store, "m1")

    new = await store.record_reports([report("m1"), report("m1")], 10.0)

    assert len(new) == 1
    assert (await store.stats())["outbox"] == 1


async def test_a_final_delivery_report_sets_state_and_status(store: Store) -> None:
    await sent(store, "m1")

    await store.record_reports([report("m1", error_name="NO_ERROR", message_count=3)], 10.0)

    view = await store.get_message("m1")
    assert view is not None
    assert (view.state, view.status_group, view.status_name, view.error_name, view.message_count) == (
        "DELIVERED",
        "DELIVERED",
        "DELIVERED_TO_HANDSET",
        "NO_ERROR",
        3,
    )
    entry = view.timeline[-1]
    assert (entry.at, entry.event, entry.status_group, entry.status_name) == (
        10.0,
        "DELIVERY",
        "DELIVERED",
        "DELIVERED_TO_HANDSET",
    )


@pytest.mark.parametrize(
    ("group", "name"),
    [
        ("UNDELIVERABLE", "UNDELIVERABLE_NOT_DELIVERED"),
        ("EXPIRED", "EXPIRED_EXPIRED"),
        ("REJECTED", "REJECTED_NETWORK"),
    ],
)
async def test_every_final_group_becomes_the_state(store: Store, group: str, name: str) -> None:
    await sent(store, "m1")

    await store.record_reports([report("m1", group, name, error_name="EC_ABSENT_SUBSCRIBER")], 10.0)

    view = await store.get_message("m1")
    assert view is not None
    assert (view.state, view.status_group, view.status_name, view.error_name) == (
        group,
        group,
        name,
        "EC_ABSENT_SUBSCRIBER",
    )


async def test_delivered_to_operator_is_not_final(store: Store) -> None:
    await sent(store, "m1")

    await store.record_reports([report("m1", "DELIVERED", "DELIVERED_TO_OPERATOR")], 10.0)

    view = await store.get_message("m1")
    assert view is not None
    assert (view.state, view.status_name) == ("SENT", "DELIVERED_TO_OPERATOR")
    await store.record_reports([report("m1", at="2025-01-01T10:00:09.000+0000")], 11.0)
    assert await state_of(store, "m1") == "DELIVERED"


async def test_a_final_status_never_regresses(store: Store) -> None:
    await sent(store, "m1")
    await store.record_reports([report("m1")], 10.0)

    late = [
        report("m1", "DELIVERED", "DELIVERED_TO_OPERATOR", at="2025-01-01T09:59:00.000+0000"),
        report("m1", "PENDING", "PENDING_ENROUTE", at="2025-01-01T09:58:00.000+0000"),
    ]
    new = await store.record_reports(late, 11.0)

    view = await store.get_message("m1")
    assert view is not None
    assert len(new) == 2  # recorded and in the timeline, but the status stays
    assert (view.state, view.status_group, view.status_name) == (
        "DELIVERED",
        "DELIVERED",
        "DELIVERED_TO_HANDSET",
    )
    assert [e.status_name for e in view.timeline[-3:]] == [
        "DELIVERED_TO_HANDSET",
        "DELIVERED_TO_OPERATOR",
        "PENDING_ENROUTE",
    ]


async def test_a_final_status_does_not_regress_within_one_call(store: Store) -> None:
    await sent(store, "m1")

    await store.record_reports(
        [report("m1"), report("m1", "DELIVERED", "DELIVERED_TO_OPERATOR", at="2025-01-01T09:00:00.000+0000")],
        10.0,
    )

    view = await store.get_message("m1")
    assert view is not None
    assert (view.state, view.status_name) == ("DELIVERED", "DELIVERED_TO_HANDSET")


async def test_a_report_that_beats_mark_sent_is_not_overwritten(store: Store) -> None:
    await store.enqueue([msg("m1")], 0.0)
    await store.claim(0.0, 10, 30.0)
    await store.record_reports([report("m1")], 1.0)  # the report arrived before the send's answer

    await store.mark_sent([SendOutcome("m1", True, "PENDING", "PENDING_ACCEPTED")], 2.0)

    view = await store.get_message("m1")
    assert view is not None
    assert (view.state, view.status_group, view.status_name) == (
        "DELIVERED",
        "DELIVERED",
        "DELIVERED_TO_HANDSET",
    )
    assert [e.event for e in view.timeline] == ["ACCEPTED", "DELIVERY", "SENT"]


async def test_mark_failed_does_not_undo_a_final_report(store: Store) -> None:
    await store.enqueue([msg("m1")], 0.0)
    await store.claim(0.0, 10, 30.0)
    await store.record_reports([report("m1")], 1.0)

    await store.mark_failed([("m1", "timed out waiting for the provider")], 2.0)

    view = await store.get_message("m1")
    assert view is not None
    assert (view.state, view.failure_reason) == ("DELIVERED", "timed out waiting for the provider")


async def test_mark_failed_owes_the_host_a_failed_report(store: Store) -> None:
    crm = HostRef(name="crm", context={"journey": "j1"})
    api = HostRef(name="api")  # our API without a notifyUrl: it wants no reports
    await store.enqueue([msg("m1", host=crm), msg("m2", host=api), msg("m3", host=crm)], 0.0)
    await store.claim(0.0, 10, 30.0)
    await store.record_reports([report("m3")], 1.0)  # already final: nothing more is owed

    await store.mark_failed([("m1", "E401: bad key"), ("m2", "E401: bad key"), ("m3", "late")], 2.0)
    await store.mark_failed([("m1", "E401: bad key")], 3.0)  # failing twice owes nothing more

    items = await store.claim_outbox(4.0, 10, 30.0)
    failed = [i for i in items if i.report.kind == "FAILED"]
    assert [(i.host, i.report.message_id) for i in failed] == [("crm", "m1")]  # m2: api host, no notifyUrl
    report_ = failed[0].report
    assert (report_.channel, report_.to, report_.error_description) == ("sms", "41790000001", "E401: bad key")
    assert failed[0].message is not None and failed[0].message.host == crm


async def test_mark_sent_owes_a_sent_report_only_to_the_hosts_that_asked(store: Store) -> None:
    crm = HostRef(name="crm", context={"campaign": "c1"})
    other = HostRef(name="other")
    api = HostRef(name="api")  # no notifyUrl: it wants no reports, even when named
    await store.enqueue([msg("m1", host=crm), msg("m2", host=other), msg("m3", host=api)], 0.0)
    await store.enqueue([msg("m4", host=crm)], 0.0)
    await store.claim(0.0, 10, 30.0)
    await store.record_reports([report("m4")], 1.0)  # final before the send answer: no SENT owed
    before = len(await store.claim_outbox(1.5, 10, 0.0))  # m4's delivery report, visible again at once

    outcome = SendOutcome("m1", True, "PENDING", "PENDING_ACCEPTED", 26, "Message sent to next instance", 2)
    others = [SendOutcome(mid, True, "PENDING", "PENDING_ACCEPTED") for mid in ("m2", "m3", "m4")]
    await store.mark_sent([outcome, *others], 2.0, frozenset({"crm", "api"}))

    items = await store.claim_outbox(3.0, 10, 30.0)
    sent_items = [i for i in items if i.report.kind == "SENT"]
    assert len(items) - len(sent_items) == before
    assert [(i.host, i.report.message_id) for i in sent_items] == [("crm", "m1")]
    got = sent_items[0].report
    assert (got.channel, got.to, got.status_group, got.status_name, got.status_id, got.message_count) == (
        "sms",
        "41790000001",
        "PENDING",
        "PENDING_ACCEPTED",
        26,
        2,
    )
    assert sent_items[0].message is not None and sent_items[0].message.host == crm
    assert await state_of(store, "m1") == "SENT"


async def test_mark_sent_without_report_hosts_owes_nothing(store: Store) -> None:
    await store.enqueue([msg("m1", host=HostRef(name="crm"))], 0.0)
    await store.claim(0.0, 10, 30.0)

    await store.mark_sent([SendOutcome("m1", True, "PENDING", "PENDING_ACCEPTED")], 2.0)

    assert await store.claim_outbox(3.0, 10, 30.0) == []
    assert await state_of(store, "m1") == "SENT"


async def test_retry_later_does_not_requeue_a_message_that_was_sent(store: Store) -> None:
    await sent(store, "m1")
    await store.record_reports([report("m1")], 1.0)

    await store.retry_later(["m1"], 5.0, "too late", 2.0)

    assert await state_of(store, "m1") == "DELIVERED"
    assert await store.claim(100.0, 10, 30.0) == []


@pytest.mark.parametrize("kind_", ["SEEN", "CLICK"])
@pytest.mark.parametrize("delivered_first", [False, True])
async def test_seen_and_click_reports_do_not_change_the_state(
    store: Store, kind_: str, delivered_first: bool
) -> None:
    await sent(store, "m1")
    if delivered_first:
        await store.record_reports([report("m1")], 10.0)
    before = await store.get_message("m1")
    extra = {"url": "https://example.com/x"} if kind_ == "CLICK" else {}

    new = await store.record_reports([report("m1", kind=kind_, **extra)], 20.0)

    view = await store.get_message("m1")
    assert before is not None and view is not None and len(new) == 1
    assert (view.state, view.status_group, view.status_name) == (
        before.state,
        before.status_group,
        before.status_name,
    )
    assert view.state == ("DELIVERED" if delivered_first else "SENT")
    assert (view.timeline[-1].at, view.timeline[-1].event) == (20.0, kind_)
    if kind_ == "CLICK":
        assert view.timeline[-1].detail == {"url": "https://example.com/x"}
    assert (await store.stats())["outbox"] == (2 if delivered_first else 1)


async def test_the_report_channel_is_corrected_to_the_message_channel(store: Store) -> None:
    await store.enqueue([msg("m1", channel="lms")], 0.0)

    new = await store.record_reports([report("m1", channel="sms")], 10.0)
    replay = await store.record_reports([report("m1", channel="lms")], 11.0)

    assert [r.channel for r in new] == ["lms"]
    assert replay == []  # the same event, whichever route it came by
    items = await store.claim_outbox(10.0, 10, 30.0)
    assert [i.report.channel for i in items] == ["lms"]


async def test_reports_for_unknown_messages_are_kept_without_an_outbox_item(store: Store) -> None:
    new = await store.record_reports([report("ghost")], 10.0)
    replay = await store.record_reports([report("ghost")], 11.0)

    assert new == [report("ghost")]
    assert replay == []
    assert await store.get_message("ghost") is None
    assert (await store.stats())["outbox"] == 0


async def test_an_inbound_message_is_paired_with_the_latest_message_to_its_sender(store: Store) -> None:
    other_host = HostRef(name="bloomreach", context={"campaign": "c-9"})
    await store.enqueue([msg("old", "+41790000001")], 1.0)
    await store.enqueue([msg("latest", "41790000001", host=other_host)], 2.0)
    await store.enqueue([msg("someone-else", "41790000002")], 3.0)

    new = await store.record_reports([inbound("+41790000001")], 10.0)

    assert [r.paired_message_id for r in new] == ["latest"]
    items = await store.claim_outbox(10.0, 10, 30.0)
    assert [(i.host, i.report.paired_message_id) for i in items] == [("bloomreach", "latest")]
    assert items[0].message == msg("latest", "41790000001", host=other_host)
    view = await store.get_message("latest")
    assert view is not None
    assert (view.timeline[-1].event, view.state) == ("INBOUND", "QUEUED")


async def test_an_inbound_sender_with_a_plus_finds_a_destination_without_one(store: Store) -> None:
    await store.enqueue([msg("m1", "+41790000001")], 1.0)

    new = await store.record_reports([inbound("41790000001")], 10.0)

    assert [r.paired_message_id for r in new] == ["m1"]


async def test_an_unpaired_inbound_message_is_stored_for_no_host(store: Store) -> None:
    await store.enqueue([msg("m1", "41790000009")], 1.0)

    new = await store.record_reports([inbound("41790000001")], 10.0)
    replay = await store.record_reports([inbound("41790000001")], 11.0)

    assert len(new) == 1 and new[0].paired_message_id is None
    assert replay == []
    assert (await store.stats())["outbox"] == 0


@pytest.mark.parametrize(
    ("host", "wanted"),
    [
        (HostRef(name="api"), False),
        (HostRef(name="api", context={"notifyUrl": "https://example.com/hook"}), True),
        (HostRef(name="sfmc"), True),
    ],
)
async def test_outbox_items_only_for_messages_that_want_reports(
    store: Store, host: HostRef, wanted: bool
) -> None:
    await store.enqueue([msg("m1", host=host)], 0.0)

    new = await store.record_reports([report("m1")], 10.0)

    items = await store.claim_outbox(10.0, 10, 30.0)
    assert len(new) == 1
    assert [(i.host, i.report.message_id) for i in items] == ([(host.name, "m1")] if wanted else [])


async def test_the_timeline_tells_the_whole_story_in_order(store: Store) -> None:
    await store.enqueue([msg("m1")], 1.0)
    await store.claim(2.0, 1, 30.0)
    await store.retry_later(["m1"], 5.0, "timeout", 3.0)
    await store.claim(5.0, 1, 30.0)
    await store.mark_sent([SendOutcome("m1", True, "PENDING", "PENDING_ACCEPTED")], 6.0)
    await store.record_reports([report("m1", "DELIVERED", "DELIVERED_TO_OPERATOR")], 7.0)
    await store.record_reports([report("m1", at="2025-01-01T10:00:01.000+0000")], 8.0)
    await store.record_reports(
        [report("m1", kind="SEEN"), report("m1", kind="CLICK", url="https://x.y")], 9.0
    )
    await store.enqueue([msg("m1")], 10.0)  # ignored: no second ACCEPTED

    view = await store.get_message("m1")

    assert view is not None
    assert [(e.at, e.event, e.status_name) for e in view.timeline] == [
        (1.0, "ACCEPTED", None),
        (3.0, "RETRY", None),
        (6.0, "SENT", "PENDING_ACCEPTED"),
        (7.0, "DELIVERY", "DELIVERED_TO_OPERATOR"),
        (8.0, "DELIVERY", "DELIVERED_TO_HANDSET"),
        (9.0, "SEEN", None),
        (9.0, "CLICK", None),
    ]
    assert (view.state, view.attempts) == ("DELIVERED", 2)


# -- the outbox -------------------------------------------------------------------------------------------


async def test_claim_outbox_hands_out_items_with_their_report_and_message(store: Store) -> None:
    await sent(store, "m1", "m2")
    new = await store.record_reports([report("m1"), report("m2")], 10.0)

    items = await store.claim_outbox(10.0, 10, 30.0)

    assert [i.report for i in items] == new
    assert [i.message for i in items] == [msg("m1"), msg("m2")]
    assert [(i.host, i.attempts) for i in items] == [("sfmc", 0), ("sfmc", 0)]
    assert len({i.id for i in items}) == 2


async def test_claimed_outbox_items_are_hidden_until_the_lease_ends(store: Store) -> None:
    await sent(store, "m1", "m2", "m3")
    await store.record_reports([report("m1"), report("m2"), report("m3")], 10.0)

    first = await store.claim_outbox(10.0, 2, 30.0)
    second = await store.claim_outbox(10.0, 10, 30.0)
    during = await store.claim_outbox(39.0, 10, 30.0)
    after = await store.claim_outbox(40.0, 10, 30.0)

    assert [i.report.message_id for i in first] == ["m1", "m2"]
    assert [i.report.message_id for i in second] == ["m3"]
    assert during == []
    assert [i.report.message_id for i in after] == ["m1", "m2", "m3"]
    assert await store.claim_outbox(40.0, 0, 30.0) == []


async def test_ack_outbox_deletes_items(store: Store) -> None:
    await sent(store, "m1", "m2")
    await store.record_reports([report("m1"), report("m2")], 10.0)
    items = await store.claim_outbox(10.0, 10, 30.0)

    await store.ack_outbox([items[0].id, 999_999])
    await store.ack_outbox([])

    assert (await store.stats())["outbox"] == 1
    assert [i.id for i in await store.claim_outbox(100.0, 10, 30.0)] == [items[1].id]


async def test_retry_outbox_counts_the_attempt_and_waits(store: Store) -> None:
    await sent(store, "m1")
    await store.record_reports([report("m1")], 10.0)
    (item,) = await store.claim_outbox(10.0, 10, 30.0)

    await store.retry_outbox(item.id, 20.0, "host answered 500")

    assert await store.claim_outbox(19.0, 10, 30.0) == []
    (again,) = await store.claim_outbox(20.0, 10, 30.0)
    assert (again.id, again.attempts) == (item.id, 1)


async def test_outbox_ids_are_never_reused(store: Store) -> None:
    await sent(store, "m1", "m2")
    await store.record_reports([report("m1")], 10.0)
    (first,) = await store.claim_outbox(10.0, 10, 30.0)
    await store.ack_outbox([first.id])

    await store.record_reports([report("m2")], 11.0)
    (second,) = await store.claim_outbox(11.0, 10, 30.0)

    assert second.id != first.id
    await store.ack_outbox([first.id])  # a late ack of the old item leaves the new one alone
    assert (await store.stats())["outbox"] == 1


# -- accounts ------------------------------------------------------------------------------------------


async def test_accounts_are_opaque_bytes_by_name(store: Store) -> None:
    assert await store.get_accounts() == {}
    await store.put_account("main", b"\x00sealed-1\xff")
    await store.put_account("backup", b"sealed-2")
    await store.put_account("main", b"sealed-3")

    assert await store.get_accounts() == {"main": b"sealed-3", "backup": b"sealed-2"}
    assert await store.delete_account("backup") is True
    assert await store.delete_account("backup") is False
    assert await store.get_accounts() == {"main": b"sealed-3"}


# -- plugins' own data ------------------------------------------------------------------------------------


async def test_plugin_data_is_opaque_bytes_by_namespace_and_key(store: Store) -> None:
    now = time.time()
    assert await store.get_data("sfmc", "config:1", now) is None
    assert await store.list_data("sfmc", now) == {}
    await store.put_data("sfmc", "config:1", b"\x00one\xff", now)
    await store.put_data("sfmc", "config:2", b"two", now)
    await store.put_data("other", "config:1", b"not sfmc's", now)
    await store.put_data("sfmc", "config:1", b"one, replaced", now)

    assert await store.get_data("sfmc", "config:1", now) == b"one, replaced"
    assert await store.list_data("sfmc", now) == {"config:1": b"one, replaced", "config:2": b"two"}
    assert await store.delete_data("sfmc", "config:2") is True
    assert await store.delete_data("sfmc", "config:2") is False
    assert await store.list_data("sfmc", now) == {"config:1": b"one, replaced"}
    assert await store.get_data("other", "config:1", now) == b"not sfmc's"


async def test_plugin_data_puts_at_once_keep_every_byte_and_the_last_value(store: Store) -> None:
    now = time.time()
    values = {f"k{i}": bytes([i, 0, 255 - i]) + 'é"[]'.encode() for i in range(40)}

    # Concurrent puts share writes (one statement on SQLite): binary values, one key put twice.
    await asyncio.gather(
        *(store.put_data("ns", key, value, now) for key, value in values.items()),
        store.put_data("ns", "k7", b"\x00first", now),
    )
    await store.put_data("ns", "k7", b"\xfflast", now)

    assert await store.list_data("ns", now) == values | {"k7": b"\xfflast"}


async def test_plugin_data_reads_at_once_each_get_their_own_value(store: Store) -> None:
    # Reads asked in one event-loop turn are one read on SQLite: each must still get its own answer.
    now = time.time()
    values = {f"k{i}": bytes([i, 0, 255 - i]) + b'"\\' for i in range(30)}
    await asyncio.gather(*(store.put_data("ns", key, value, now) for key, value in values.items()))
    await store.put_data("ns", "gone", b"expired", now - 100, ttl=10)
    await store.put_data("other", "k1", b"not ns", now)

    asked = [*values, "missing", "gone", "k3", "k1"]
    found = await asyncio.gather(*(store.get_data("ns", key, now) for key in asked))

    assert found == [*values.values(), None, None, values["k3"], values["k1"]]


async def test_plugin_data_with_a_ttl_is_gone_once_it_expires(store: Store) -> None:
    # Redis expires by its own clock, so the times here are the wall clock's: one value set long ago
    # with a short life, one set now with a long one.
    now = time.time()
    await store.put_data("sfmc", "old", b"expired", now - 100, ttl=10)
    await store.put_data("sfmc", "fresh", b"live", now, ttl=3600)
    await store.put_data("sfmc", "forever", b"kept", now)

    assert await store.get_data("sfmc", "old", now) is None
    assert await store.get_data("sfmc", "fresh", now) == b"live"
    assert await store.list_data("sfmc", now) == {"fresh": b"live", "forever": b"kept"}
    await store.put_data("sfmc", "old", b"set again", now, ttl=3600)
    assert await store.get_data("sfmc", "old", now) == b"set again"


async def test_adding_plugin_data_stores_only_where_no_live_value_is(store: Store) -> None:
    now = time.time()
    assert await store.add_data("sc", "seen:abc", b"first", now, ttl=3600) is True
    assert await store.add_data("sc", "seen:abc", b"second", now, ttl=3600) is False
    assert await store.get_data("sc", "seen:abc", now) == b"first"
    await store.put_data("sc", "lease", b"old owner", now - 100, ttl=10)  # expired long ago
    assert await store.add_data("sc", "lease", b"new owner", now, ttl=30) is True
    assert await store.get_data("sc", "lease", now) == b"new owner"
    await store.put_data("sc", "config", b"kept", now)  # a put of this turn is there before the add
    assert await store.add_data("sc", "config", b"lost", now) is False
    stored = await store.list_data("sc", now)
    assert stored == {"seen:abc": b"first", "lease": b"new owner", "config": b"kept"}


async def test_of_many_concurrent_adds_exactly_one_wins(store: Store) -> None:
    now = time.time()
    won = await asyncio.gather(*(store.add_data("sc", "claim", str(i).encode(), now, 60) for i in range(20)))
    assert won.count(True) == 1
    assert await store.get_data("sc", "claim", now) == str(won.index(True)).encode()


async def test_plugin_data_enqueued_with_messages_is_stored_with_them(store: Store) -> None:
    now = time.time()
    lookups = [
        DataEntry("sfmc-sent", "activity|contact-1", b"m1", ttl=3600),
        DataEntry("sfmc-sent", "k", b"m2"),
    ]
    await asyncio.gather(
        store.enqueue([msg("m1")], now, lookups[:1]),
        store.enqueue([msg("m2")], now, lookups[1:]),
        store.enqueue([msg("m3")], now),  # joined with the others, with no data of its own
    )

    assert [await state_of(store, m) for m in ("m1", "m2", "m3")] == ["QUEUED"] * 3
    assert await store.list_data("sfmc-sent", now) == {"activity|contact-1": b"m1", "k": b"m2"}
    # The entry's ttl counts from the enqueue's time, as put_data's does.
    await store.enqueue([msg("m4")], now - 100, [DataEntry("sfmc-sent", "old", b"m4", ttl=10)])
    assert await store.get_data("sfmc-sent", "old", now) is None
    # No message, no data: the data belongs to the messages it came with.
    await store.enqueue([], now, [DataEntry("sfmc-sent", "alone", b"x")])
    assert await store.get_data("sfmc-sent", "alone", now) is None


async def test_plugin_data_enqueued_with_a_message_is_one_commit_with_it(store: Store) -> None:
    commits_before = store.commits  # type: ignore[attr-defined]

    await store.enqueue([msg("m1")], time.time(), [DataEntry("sfmc-sent", "activity|contact-1", b"m1")])

    assert store.commits - commits_before == 1  # type: ignore[attr-defined]


async def test_plugin_data_survives_a_reopen(kind: StoreKind, tmp_path: Path) -> None:
    first = kind.make(tmp_path)
    await first.open()
    await first.put_data("sfmc", "config:1", b"sealed", time.time())
    await first.close()
    second = kind.make(tmp_path)
    await second.open()
    try:
        assert await second.get_data("sfmc", "config:1", time.time()) == b"sealed"
    finally:
        await second.close()


# -- stats ------------------------------------------------------------------------------------------------


async def test_stats_of_an_empty_store_name_every_state(store: Store) -> None:
    stats = await store.stats()

    assert stats == {"queued": 0, "outbox": 0, **{f"state_{s}": 0 for s in STATES}}


async def test_stats_count_messages_by_state(store: Store) -> None:
    await store.enqueue([msg(f"m{i}") for i in range(6)], 0.0)
    await store.claim(0.0, 5, 30.0)  # m5 stays QUEUED
    await store.mark_sent(
        [SendOutcome(m, True, "PENDING", "PENDING_ACCEPTED") for m in ("m0", "m1", "m2")], 1.0
    )
    await store.mark_failed([("m3", "no")], 1.0)
    await store.record_reports([report("m0"), report("m1", "EXPIRED", "EXPIRED_EXPIRED")], 2.0)

    stats = await store.stats()

    assert stats["queued"] == 2  # m4 SENDING, m5 QUEUED
    assert stats["outbox"] == 3  # two reports, and the FAILED report owed for m3
    assert {s: stats[f"state_{s}"] for s in STATES} == {
        "QUEUED": 1,
        "SENDING": 1,
        "SENT": 1,
        "FAILED": 1,
        "DELIVERED": 1,
        "UNDELIVERABLE": 0,
        "EXPIRED": 1,
        "REJECTED": 0,
    }


# -- durability and concurrency ----------------------------------------------------------------------------


async def test_everything_survives_close_and_reopen(store: Store, kind: StoreKind, tmp_path: Path) -> None:
    await sent(store, "m1")
    await store.enqueue([msg("m2")], 1.0)
    await store.record_reports([report("m1")], 2.0)
    await store.put_account("main", b"sealed")
    await store.close()

    again = await reopened(kind, tmp_path)
    try:
        view = await again.get_message("m1")
        assert view is not None and view.state == "DELIVERED"
        assert [e.event for e in view.timeline] == ["ACCEPTED", "SENT", "DELIVERY"]
        assert await again.record_reports([report("m1")], 3.0) == []
        assert [q.message.id for q in await again.claim(5.0, 10, 30.0)] == ["m2"]
        assert [i.report.message_id for i in await again.claim_outbox(5.0, 10, 30.0)] == ["m1"]
        assert await again.get_accounts() == {"main": b"sealed"}
    finally:
        await again.close()
        await store.open()


async def test_accepted_messages_survive_a_process_that_dies_without_closing(
    store: Store, kind: StoreKind, tmp_path: Path
) -> None:
    await store.close()
    script = textwrap.dedent(
        """
        import asyncio, os
        from channel_engine.models import OutboundMessage
        {source}

        async def main():
            await store.open()
            batches = [
                [OutboundMessage(channel="sms", destination="4179", id=f"m{{b}}-{{i}}") for i in range(50)]
                for b in range(8)
            ]
            await asyncio.gather(*(store.enqueue(batch, 1.0) for batch in batches))
            await store.put_account("main", b"sealed")
            print("accepted", flush=True)
            os._exit(0)  # no close, no flush, no atexit: as if the power went

        asyncio.run(main())
        """
    ).format(source=kind.source(tmp_path))

    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)

    assert done.stdout.strip() == "accepted", done.stderr
    again = await reopened(kind, tmp_path)
    try:
        stats = await again.stats()
        assert stats["state_QUEUED"] == 400
        assert await again.get_message("m7-49") is not None
        assert await again.get_accounts() == {"main": b"sealed"}
    finally:
        await again.close()
        await store.open()


async def test_concurrent_writes_are_all_stored_and_share_commits(store: Store) -> None:
    commits_before = store.commits  # type: ignore[attr-defined]
    calls = 300

    await asyncio.gather(*(store.enqueue([msg(f"m{i}", f"4179{i}")], float(i)) for i in range(calls)))

    assert (await store.stats())["state_QUEUED"] == calls
    assert store.commits - commits_before < calls  # type: ignore[attr-defined]
    claimed = await store.claim(float(calls), 1000, 30.0)
    assert len(claimed) == calls


async def test_concurrent_mixed_operations_each_get_their_own_answer(store: Store) -> None:
    await sent(store, "m1", "m2")

    results = await asyncio.gather(
        store.record_reports([report("m1")], 10.0),
        store.record_reports([report("m1")], 10.0),
        store.enqueue([msg("m3")], 10.0),
        store.put_account("main", b"sealed"),
        store.delete_account("none"),
        store.record_reports([report("m2")], 10.0),
    )

    assert sorted(len(r) for r in (results[0], results[1])) == [0, 1]  # one of the two twins is new
    assert results[4] is False
    assert len(results[5]) == 1
    assert (await store.stats())["outbox"] == 2


async def test_close_flushes_pending_writes(store: Store, kind: StoreKind, tmp_path: Path) -> None:
    tasks = [asyncio.ensure_future(store.enqueue([msg(f"m{i}")], 0.0)) for i in range(50)]
    await asyncio.sleep(0)  # let every task hand over its write

    await store.close()

    await asyncio.gather(*tasks)  # every write succeeded
    again = await reopened(kind, tmp_path)
    try:
        assert (await again.stats())["state_QUEUED"] == 50
    finally:
        await again.close()
        await store.open()


# -- SQLite specifics ------------------------------------------------------------------------------------


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "deep" / "er" / "store.db")
    await opened.open()
    yield opened
    await opened.close()


async def test_sqlite_open_creates_the_file_and_its_directories(sqlite: SQLiteStore) -> None:
    assert sqlite.path.is_file()


async def test_sqlite_is_durable_at_every_commit(sqlite: SQLiteStore) -> None:
    pragmas = await sqlite.writer.submit(
        lambda conn: (
            conn.execute("PRAGMA journal_mode").fetchone()[0],
            conn.execute("PRAGMA synchronous").fetchone()[0],
        )
    )

    assert pragmas == ("wal", 2)  # 2 is FULL: the log is synced at every commit


async def test_sqlite_a_database_from_before_idempotency_keys_gets_their_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old_schema = SCHEMA.replace(",\n    idempotency_key TEXT,\n    retry_key TEXT", "")
    assert old_schema != SCHEMA
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.executescript(old_schema)
    old = SQLiteStore(path)
    await old.open()
    try:
        await old.enqueue([keyed("m1", "k1")], 1.0)
        assert await old.enqueue([keyed("m1-retry", "k1")], 2.0) == {"k1": "m1"}
        await old.enqueue([retried("m2", "r2")], 3.0)
        assert await old.enqueue([retried("m2-retry", "r2")], 4.0) == {"r2": "m2"}
        plan = await old.writer.submit(
            lambda conn: " ".join(
                row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {_EXISTING_KEYS}", ("[]",))
            )
        )
    finally:
        await old.close()
    assert "messages_by_idempotency_key" in plan  # the partial index serves the lookup of keys


async def test_sqlite_a_retry_reaching_another_writer_on_the_file_is_recognised(tmp_path: Path) -> None:
    # Two stores with writer threads on one file, as two engine processes with CHANNEL_ENGINE_SQLITE_WRITER
    # =thread: each writer reads the rows the other added before it answers.
    one, other = SQLiteStore(tmp_path / "s.db"), SQLiteStore(tmp_path / "s.db")
    await one.open()
    await other.open()
    try:
        now = time.time()
        await one.enqueue([retried("m1", "r1")], now)
        await other.enqueue([msg("plain")], now)
        assert await other.enqueue([retried("m1-retry", "r1")], now + 1) == {"r1": "m1"}
        await other.enqueue([retried("m2", "r2")], now + 1)
        assert await one.enqueue([retried("m2-retry", "r2")], now + 2) == {"r2": "m2"}
    finally:
        await one.close()
        await other.close()


async def test_sqlite_a_retry_key_is_found_behind_many_messages_without_one(sqlite: SQLiteStore) -> None:
    now = time.time()
    await sqlite.enqueue([msg(f"old-{i}") for i in range(50)], now - 3 * RETRY_WINDOW)
    await sqlite.enqueue([retried("m1", "r1")], now)
    await sqlite.enqueue([msg(f"plain-{i}") for i in range(50)], now + 1)

    assert await sqlite.enqueue([retried("m1-retry", "r1")], now + 2) == {"r1": "m1"}
    # A writer that starts reads back the window (not the older messages) and finds it too.
    await sqlite.close()
    again = SQLiteStore(sqlite.path)
    await again.open()
    try:
        assert await again.enqueue([retried("m1-again", "r1")], now + 3) == {"r1": "m1"}
    finally:
        await again.close()


async def test_sqlite_retry_keys_stay_right_when_their_batch_rolls_back(sqlite: SQLiteStore) -> None:
    def fail(conn: object) -> None:
        raise RuntimeError("this write breaks")

    now = time.time()
    with sqlite.writer.hold():  # one batch: the failure rolls it back, and it runs again caller by caller
        writes = [
            asyncio.ensure_future(sqlite.enqueue([retried("m1", "r1")], now)),
            asyncio.ensure_future(sqlite.writer.submit(fail)),
            asyncio.ensure_future(sqlite.enqueue([msg("plain-1"), msg("plain-2")], now)),
            asyncio.ensure_future(sqlite.enqueue([retried("m2", "r2")], now)),
        ]
        while sqlite.writer.backlog < 3:  # the thread may hold the first already
            await asyncio.sleep(0)
    results = await asyncio.gather(*writes, return_exceptions=True)

    assert isinstance(results[1], RuntimeError)
    assert await sqlite.enqueue([retried("again-1", "r1"), retried("again-2", "r2")], now + 1) == {
        "r1": "m1",
        "r2": "m2",
    }
    assert (await sqlite.stats())["state_QUEUED"] == 4


async def test_sqlite_a_failing_write_in_a_group_loses_only_itself(sqlite: SQLiteStore) -> None:
    def half_then_fail(conn: object) -> None:
        conn.execute("INSERT INTO accounts (name, sealed) VALUES ('half', x'00')")  # type: ignore[attr-defined]
        raise RuntimeError("this write breaks")

    commits_before = sqlite.commits
    with sqlite.writer.hold():  # the writer waits, so every write below lands in one transaction
        tasks = [asyncio.ensure_future(sqlite.enqueue([msg(f"m{i}")], 0.0)) for i in range(10)]
        tasks.insert(5, asyncio.ensure_future(sqlite.writer.submit(half_then_fail)))
        tasks.append(asyncio.ensure_future(sqlite.put_account("whole", b"\x01")))
        # Twelve writes reach the writer and wait: the enqueues on each side of the failing write are
        # joined into one insert each, the failing one and the account run alone.
        while sqlite.writer.backlog < 11:  # the thread may hold the first already
            await asyncio.sleep(0)
    results = await asyncio.gather(*tasks, return_exceptions=True)

    assert sqlite.commits - commits_before == 1
    assert [type(r).__name__ for r in results].count("RuntimeError") == 1
    assert isinstance(results[5], RuntimeError)
    assert (await sqlite.stats())["state_QUEUED"] == 10
    assert await sqlite.get_accounts() == {"whole": b"\x01"}


async def test_sqlite_joined_row_writes_that_break_are_run_again_one_by_one(sqlite: SQLiteStore) -> None:
    calls: list[list[str]] = []

    def put_names(conn: sqlite3.Connection, names: list[str]) -> None:
        calls.append(list(names))
        for name in names:
            if name == "bad":
                raise ValueError("no account may be called bad")
            conn.execute("INSERT INTO accounts (name, sealed) VALUES (?, x'00')", (name,))

    commits_before = sqlite.commits
    with sqlite.writer.hold():
        writes = [sqlite.writer.submit_rows(put_names, [name]) for name in ("a", "b", "bad", "c")]
    results = await asyncio.gather(*writes, return_exceptions=True)

    assert calls[0] == ["a", "b", "bad", "c"]  # one call for all four, then each again on its own
    assert calls[1:] == [["a"], ["b"], ["bad"], ["c"]]
    assert [type(r).__name__ for r in results] == ["NoneType", "NoneType", "ValueError", "NoneType"]
    assert sorted(await sqlite.get_accounts()) == ["a", "b", "c"]
    assert sqlite.commits - commits_before == 1


def recording(
    calls: list[tuple[str, list[str]]], name: str, fails_on: str | None = None
) -> Callable[[sqlite3.Connection, list[str]], None]:
    """A row function that records each call's rows under `name` (and raises for a row `fails_on`)."""

    def row_function(conn: sqlite3.Connection, rows: list[str]) -> None:
        calls.append((name, list(rows)))
        if fails_on in rows:
            raise ValueError(fails_on)

    return row_function


async def test_sqlite_row_writes_join_across_other_row_functions_but_not_across_other_writes(
    sqlite: SQLiteStore,
) -> None:
    calls: list[tuple[str, list[str]]] = []
    first, second = recording(calls, "first"), recording(calls, "second")

    with sqlite.writer.hold():
        writes = [
            sqlite.writer.submit_rows(first, ["a"]),
            sqlite.writer.submit_rows(second, ["b"]),
            sqlite.writer.submit_rows(first, ["c"]),
            sqlite.writer.submit(lambda conn: calls.append(("plain", []))),
            sqlite.writer.submit_rows(first, ["d"]),
        ]
    await asyncio.gather(*writes)

    assert calls == [("first", ["a", "c"]), ("second", ["b"]), ("plain", []), ("first", ["d"])]


async def test_sqlite_parts_written_together_join_their_functions_runs_in_one_commit(
    sqlite: SQLiteStore,
) -> None:
    calls: list[tuple[str, list[str]]] = []
    first, second = recording(calls, "first"), recording(calls, "second", fails_on="bad")

    commits_before = sqlite.commits
    with sqlite.writer.hold():
        writes = [
            sqlite.writer.submit_rows(first, ["a"]),
            sqlite.writer.submit_together([(first, ["b"]), (second, ["b2"])]),
            sqlite.writer.submit_rows(second, ["c2"]),
        ]
    assert await asyncio.gather(*writes) == [None, None, None]
    assert calls == [("first", ["a", "b"]), ("second", ["b2", "c2"])]
    assert sqlite.commits - commits_before == 1

    # One part failing fails its caller, though the other part's function went through.
    calls.clear()
    with pytest.raises(ValueError):
        await sqlite.writer.submit_together([(first, ["d"]), (second, ["bad"])])
    assert ("first", ["d"]) in calls


def put_names(conn: sqlite3.Connection, names: list[str]) -> None:
    """A row function writing accounts; it raises on the name "bad"."""
    for name in names:
        if name == "bad":
            raise ValueError("no account may be called bad")
        conn.execute("INSERT INTO accounts (name, sealed) VALUES (?, x'00')", (name,))


def put_keys(conn: sqlite3.Connection, keys: list[str]) -> None:
    """A row function writing plugin data in namespace "t"."""
    conn.executemany(
        "INSERT INTO plugin_data (namespace, key, value) VALUES ('t', ?, x'01')", [(k,) for k in keys]
    )


async def test_sqlite_a_caller_whose_part_fails_keeps_none_of_its_parts(sqlite: SQLiteStore) -> None:
    with sqlite.writer.hold():  # one batch: the failure rolls it back, and it runs again caller by caller
        writes = [
            sqlite.writer.submit_together([(put_keys, ["lost"]), (put_names, ["bad"])]),
            sqlite.writer.submit_together([(put_keys, ["kept"]), (put_names, ["good"])]),
            sqlite.writer.submit(lambda conn: conn.execute("SELECT count(*) FROM accounts").fetchone()[0]),
        ]
    results = await asyncio.gather(*writes, return_exceptions=True)

    assert isinstance(results[0], ValueError) and results[1:] == [None, 1]
    assert await sqlite.list_data("t", 0.0) == {"kept": b"\x01"}
    assert await sqlite.get_accounts() == {"good": b"\x00"}


async def test_sqlite_a_batch_that_raises_nothing_runs_without_savepoints(sqlite: SQLiteStore) -> None:
    statements: list[str] = []
    await sqlite.writer.submit(lambda conn: conn.set_trace_callback(statements.append))
    statements.clear()  # the COMMIT of the write that set the callback
    try:
        with sqlite.writer.hold():  # enqueues, plugin data and plain writes in one transaction
            writes = [
                asyncio.ensure_future(sqlite.enqueue([msg("m1")], 0.0, [DataEntry("t", "k1", b"1")])),
                asyncio.ensure_future(sqlite.put_account("main", b"sealed")),
                asyncio.ensure_future(sqlite.enqueue([msg("m2")], 0.0)),
                asyncio.ensure_future(sqlite.claim(1.0, 10, 30.0)),
            ]
            while sqlite.writer.backlog < 3:  # the thread may hold the first already
                await asyncio.sleep(0)
        results = await asyncio.gather(*writes)
        seen = list(statements)
    finally:
        await sqlite.writer.submit(lambda conn: conn.set_trace_callback(None))

    assert len(results[3]) == 2  # the claim saw both messages: one transaction, in the order handed over
    assert seen[0] == "BEGIN IMMEDIATE" and seen[-1] == "COMMIT" and seen.count("COMMIT") == 1
    assert not [s for s in seen if s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))], seen


async def test_sqlite_a_write_waits_for_another_processs_write_lock(sqlite: SQLiteStore) -> None:
    other = sqlite3.connect(sqlite.path, isolation_level=None)  # another process's connection, in effect
    try:
        other.execute("BEGIN IMMEDIATE")  # holds the write lock
        pending = asyncio.ensure_future(sqlite.enqueue([msg("m1")], 0.0))
        await asyncio.sleep(0)  # the task hands its write over
        while sqlite.writer.backlog:  # until the thread has taken it and is trying to begin
            await asyncio.sleep(0)
        assert not pending.done()  # waiting for the lock, not refused
        other.execute("COMMIT")
        await asyncio.wait_for(pending, 10)
    finally:
        other.close()
    assert await sqlite.get_message("m1") is not None


async def test_sqlite_writes_that_cannot_begin_all_fail_after_one_wait(
    sqlite: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from channel_engine.store import sqlite_writer

    waits: list[str] = []
    real_wait = sqlite_writer.execute_when_unlocked

    def counted(conn: sqlite3.Connection, statement: str, *args: object) -> None:
        waits.append(statement)
        real_wait(conn, statement, *args)

    monkeypatch.setattr(sqlite_writer, "BUSY_WAIT", 0.05)
    monkeypatch.setattr(sqlite_writer, "execute_when_unlocked", counted)
    other = sqlite3.connect(sqlite.path, isolation_level=None)  # another process's connection, in effect
    try:
        other.execute("BEGIN IMMEDIATE")  # holds the write lock past the writer's wait
        with sqlite.writer.hold():  # plain writes and an enqueue with data in one batch
            writes = [
                asyncio.ensure_future(sqlite.put_account("main", b"sealed")),
                asyncio.ensure_future(sqlite.enqueue([msg("m1")], 0.0, [DataEntry("t", "k1", b"1")])),
                asyncio.ensure_future(sqlite.claim(1.0, 10, 30.0)),
            ]
            while sqlite.writer.backlog < 2:  # the thread may hold the first already
                await asyncio.sleep(0)
        results = await asyncio.gather(*writes, return_exceptions=True)
    finally:
        other.close()

    assert [type(r) for r in results] == [sqlite3.OperationalError] * 3
    assert waits == ["BEGIN IMMEDIATE"]  # not again, caller by caller


def test_sqlite_begin_gives_up_after_its_wait(tmp_path: Path) -> None:
    from channel_engine.store.sqlite_schema import execute_when_unlocked

    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    waiter = sqlite3.connect(path, isolation_level=None)
    try:
        waiter.execute("PRAGMA busy_timeout = 0")
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            execute_when_unlocked(waiter, "BEGIN IMMEDIATE", wait=0.01)
        holder.execute("COMMIT")
        execute_when_unlocked(waiter, "BEGIN IMMEDIATE", wait=0.01)  # free again: taken at once
        assert waiter.in_transaction
    finally:
        holder.close()
        waiter.close()


async def test_sqlite_writes_after_close_are_refused(sqlite: SQLiteStore) -> None:
    await sqlite.close()

    with pytest.raises(StoreClosedError):
        await sqlite.enqueue([msg("m1")], 0.0)
    with pytest.raises(StoreClosedError):
        await sqlite.stats()
    with pytest.raises(StoreClosedError):  # joined reads hear it too, each of them
        await asyncio.gather(sqlite.get_data("ns", "a", 0.0), sqlite.get_data("ns", "b", 0.0))
    await sqlite.open()


async def test_sqlite_a_read_runs_beside_a_held_writer(sqlite: SQLiteStore) -> None:
    await sqlite.enqueue([msg("m1")], 0.0)

    with sqlite.writer.hold():
        pending = asyncio.ensure_future(sqlite.enqueue([msg("m2")], 0.0))
        view = await sqlite.get_message("m1")  # WAL: the reader does not wait for the writer
        assert view is not None and not pending.done()
    await pending
    assert await sqlite.get_message("m2") is not None


async def test_sqlite_the_plugin_fixture_gives_an_open_store(sqlite_store: SQLiteStore) -> None:
    await sqlite_store.enqueue([msg("m1")], 0.0)

    assert await sqlite_store.get_message("m1") is not None


# -- Redis specifics -------------------------------------------------------------------------------------


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis server of this test's own, to kill."""
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


async def test_redis_loses_nothing_acknowledged_when_redis_is_killed(own_redis: RedisServer) -> None:
    store = RedisStore(own_redis.url)
    await store.open()
    await sent(store, "s1")
    await store.enqueue([msg(f"m{i}") for i in range(100)], 0.0)
    await store.record_reports([report("s1")], 5.0)
    await store.put_account("main", b"sealed")
    await store.close()

    own_redis.restart()  # SIGKILL, then start on the same append-only file

    again = RedisStore(own_redis.url)
    await again.open()
    try:
        stats = await again.stats()
        assert stats["state_QUEUED"] == 100 and stats["state_DELIVERED"] == 1 and stats["outbox"] == 1
        assert await again.get_accounts() == {"main": b"sealed"}
        assert await again.record_reports([report("s1")], 6.0) == []  # still known: a replay
    finally:
        await again.close()


async def test_redis_an_enqueue_and_its_plugin_data_are_one_script(own_redis: RedisServer) -> None:
    store = RedisStore(own_redis.url)
    await store.open()

    async def commands_run_by(write: Awaitable[None]) -> Counter[str]:
        await store.client.config_resetstat()
        await write
        stats = await store.client.info("commandstats")
        return Counter({name.removeprefix("cmdstat_"): stat["calls"] for name, stat in stats.items()})

    try:
        await store.enqueue([msg("m0")], time.time())  # loads the script
        alone = await commands_run_by(store.enqueue([msg("m1")], time.time()))
        lookup = DataEntry("sfmc-sent", "activity|contact-2", b"m2")
        with_data = await commands_run_by(store.enqueue([msg("m2")], time.time(), [lookup]))
    finally:
        await store.close()

    # The same script stores the message and the lookup (its SET and SADD), which Redis runs as a whole
    # or, when the connection dies before it arrives, not at all: no MULTI ... EXEC around it.
    assert with_data - alone == Counter(set=1, sadd=1)
    assert alone - with_data == Counter()


async def test_redis_warns_when_it_could_lose_acknowledged_writes(
    own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = RedisStore(own_redis.url)
    await store.open()
    await store.client.config_set("appendfsync", "everysec")
    await store.close()

    await store.open()
    await store.close()

    assert "appendfsync=everysec" in caplog.text and "appendfsync always" in caplog.text


async def test_redis_url_names_the_key_prefix_and_hides_the_password() -> None:
    store = RedisStore("redis://:s3cret@127.0.0.1:1/2?prefix=shop&socket_timeout=1")

    assert (store.prefix, store.url) == ("shop", "redis://:s3cret@127.0.0.1:1/2?socket_timeout=1")
    assert RedisStore("redis://127.0.0.1:1").prefix == "ce"
    with pytest.raises(ConnectionError) as refused:
        await store.open()
    assert "s3cret" not in str(refused.value) and ":***@127.0.0.1:1" in str(refused.value)


async def test_sqlite_each_joined_row_write_gets_its_own_outcome_when_row_functions_interleave(
    sqlite: SQLiteStore,
) -> None:
    with sqlite.writer.hold():  # joined as [a, bad] and [x, y]: the outcomes must still reach their callers
        writes = [
            sqlite.writer.submit_rows(put_names, ["a"]),
            sqlite.writer.submit_rows(put_keys, ["x"]),
            sqlite.writer.submit_rows(put_names, ["bad"]),
            sqlite.writer.submit_rows(put_keys, ["y"]),
        ]
    results = await asyncio.gather(*writes, return_exceptions=True)

    assert [type(r).__name__ for r in results] == ["NoneType", "NoneType", "ValueError", "NoneType"]
    assert sorted(await sqlite.get_accounts()) == ["a"]
    assert sorted(await sqlite.list_data("t", 0.0)) == ["x", "y"]
