"""The store for many engine processes: one Redis shared by all of them (`CHANNEL_ENGINE_STORE=redis://`).

Every write that takes several steps is one Lua script (`redis_scripts`), so processes never see each
other's half-done work: two claimers never take the same message, a speed-limit key is advanced by one
process at a time, a report is recorded once. A write is durable when Redis answers if Redis runs with
`appendonly yes` and `appendfsync always`; `open()` warns when it does not.

URL: `redis://[user:password@]host:port/db?prefix=ce` (also `rediss://` and `unix://`); `prefix` names
this engine's keys, so several engines can share one Redis.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from itertools import chain
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import RedisError, ResponseError

from ..models import (
    FINAL_GROUPS,
    DataEntry,
    MessageView,
    OutboundMessage,
    OutboxItem,
    QueuedMessage,
    Report,
    SendOutcome,
    TimelineEntry,
    message_decoder,
    report_decoder,
)
from . import redis_scripts as lua
from .base import RETRY_WINDOW, Store, wants_reports
from .records import (
    StoreClosedError,
    TurnBatch,
    encode,
    failed_line,
    failed_report,
    message_keys,
    report_line,
    retry_line,
    sent_line,
    sent_report,
    speed_key,
    stats_by_state,
    timeline_line,
)

log = logging.getLogger("channel_engine.store")
_line_decoder = msgspec.json.Decoder(TimelineEntry)
CLIENT_NAME = "channel-engine"


def split_url(url: str) -> tuple[str, str]:
    """The Redis URL without our `prefix` parameter, and the prefix (default `ce`)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((value for key, value in query if key == "prefix"), "ce") or "ce"
    rest = urlencode([(key, value) for key, value in query if key != "prefix"])
    return urlunsplit(parts._replace(query=rest)), prefix


def _text(value: str | bytes | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class _Put(NamedTuple):
    """A plugin value enqueued with messages, written by the same ENQUEUE: `ids` (JSON) are the messages
    it came with when they have idempotency keys, of which one must be stored for it to be."""

    entry: DataEntry
    now: float
    ids: str = ""


class RedisStore(Store):
    """`Store` on Redis. Each open store names its connections `channel-engine:<prefix>:<instance>`, which
    is how `recover` sees whether another process is using the same keys."""

    def __init__(self, url: str, *, prefix: str | None = None) -> None:
        self.url, url_prefix = split_url(url)
        self.prefix = prefix or url_prefix
        self.instance = os.urandom(6).hex()
        self._client: aioredis.Redis | None = None
        self._scripts: dict[str, Any] = {}
        self._enqueues: TurnBatch[tuple[Any, ...] | _Put] = TurnBatch(self._write_enqueues)
        self.commits = 0  # writes sent to Redis (each one atomic and, with AOF always, durable)

    @property
    def client(self) -> aioredis.Redis:
        if self._client is None:
            raise StoreClosedError("the store is not open")
        return self._client

    async def open(self) -> None:
        if self._client is not None:
            return
        # A blocking pool: when every connection is busy (more than 100 commands at once, e.g. a burst of
        # API calls), a command waits for one; redis-py's default pool fails it with "Too many connections".
        pool = aioredis.BlockingConnectionPool.from_url(
            self.url,
            max_connections=100,  # a `max_connections` in the URL wins
            client_name=f"{CLIENT_NAME}:{self.prefix}:{self.instance}",
            decode_responses=False,
            # from_url, unlike Redis(), gives connections no retry: after a Redis restart every pooled
            # connection then fails its next command once. A retry reconnects. (A script whose answer was
            # lost may run twice: none loses or doubles a message; at worst a claim waits out its lease
            # or a timeline line is written twice.)
            retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.5), retries=3),
        )
        client = aioredis.Redis.from_pool(pool)
        try:
            await client.ping()
        except RedisError as exc:
            await client.aclose()
            raise ConnectionError(f"cannot reach Redis at {_safe(self.url)}: {exc}") from None
        self._client = client
        self._scripts = {
            name: client.register_script(lua.PRELUDE + getattr(lua, name))
            for name in (
                "ENQUEUE", "CLAIM", "RECOVER", "MARK_SENT", "MARK_FAILED", "RETRY_LATER",
                "RECORD_REPORTS", "CLAIM_OUTBOX", "RETRY_OUTBOX", "ACK_OUTBOX",
            )
        }  # fmt: skip
        await self._warn_unless_durable()

    async def _warn_unless_durable(self) -> None:
        try:
            config = await self.client.config_get("append*")
        except ResponseError:  # CONFIG is often disabled on managed Redis: nothing to check with
            return
        config = {_text(k): _text(v) for k, v in config.items()}
        if config.get("appendonly") != "yes" or config.get("appendfsync") != "always":
            log.warning(
                "Redis at %s runs with appendonly=%s appendfsync=%s: an acknowledged message can be lost "
                "if Redis stops; set appendonly yes and appendfsync always for durability",
                _safe(self.url),
                config.get("appendonly"),
                config.get("appendfsync"),
            )

    async def close(self) -> None:
        pending = self._enqueues.flush_now()
        if pending is not None:
            await asyncio.wait([pending])
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def _run(self, script: str, *args: Any) -> Any:
        self.commits += 1
        return await self._scripts[script](keys=[], args=[self.prefix, *args], client=self.client)

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    # -- the queue -------------------------------------------------------------------------------------

    async def enqueue(
        self, messages: list[OutboundMessage], now: float, data: Sequence[DataEntry] = ()
    ) -> dict[str, str]:
        rows: list[tuple[Any, ...] | _Put] = []
        line = timeline_line(now, "ACCEPTED")
        for message in messages:
            if message.id is None:
                raise ValueError("a message is stored with its id: set `id` before enqueue")
            key, interval = speed_key(message)
            rows.append(
                (
                    message.id,
                    encode(message),
                    message.channel,
                    message.destination or "",
                    message.host.name,
                    int(wants_reports(message)),
                    key or "",
                    interval,
                    line,
                    now,
                    message.idempotency_key or "",
                    message.retry_key or "",
                    _expiry_ms(now, RETRY_WINDOW),
                )  # the order ENQUEUE reads them in
            )
        if not rows:
            return {}
        if self._client is None:
            raise StoreClosedError("the store is not open")
        keys = [key for m in messages for key in message_keys(m)]
        ids = encode([m.id for m in messages]).decode() if keys else ""
        stored = await self._enqueues.add(rows + [_Put(entry, now, ids) for entry in data])
        # The answer is for every request this ENQUEUE joined: keep this one's keys.
        return {key: stored[key] for key in keys}

    async def _write_enqueues(self, items: list[tuple[Any, ...] | _Put]) -> dict[str, str]:
        rows = [item for item in items if not isinstance(item, _Put)]
        puts = [
            (p.entry.namespace, p.entry.key, bytes(p.entry.value), _expiry_ms(p.now, p.entry.ttl), p.ids)
            for p in items
            if isinstance(p, _Put)
        ]
        flat = await self._run("ENQUEUE", len(rows), *(arg for row in rows for arg in row), *chain(*puts))
        return {bytes(flat[i]).decode(): bytes(flat[i + 1]).decode() for i in range(0, len(flat), 2)}

    async def claim(self, now: float, limit: int, lease: float) -> list[QueuedMessage]:
        if limit <= 0:
            return []
        flat = await self._run("CLAIM", now, limit, now + lease)
        return [
            QueuedMessage(message_decoder.decode(flat[i]), int(flat[i + 1])) for i in range(0, len(flat), 2)
        ]

    async def recover(self, now: float) -> int:
        if await self._others_connected():
            return 0  # their messages in flight are theirs; an ended lease brings them back anyway
        return int(await self._run("RECOVER", now))

    async def _others_connected(self) -> bool:
        """Whether another open store on these keys is connected (a killed process's connections close
        with it). When Redis will not say (CLIENT LIST not allowed), assume so: the safe answer."""
        try:
            clients = await self.client.client_list()
        except ResponseError:
            return True
        ours = f"{CLIENT_NAME}:{self.prefix}:"
        return any(c.get("name", "").startswith(ours) and c["name"] != ours + self.instance for c in clients)

    async def mark_sent(
        self, outcomes: list[SendOutcome], now: float, report_hosts: frozenset[str] = frozenset()
    ) -> None:
        if not outcomes:
            return
        owed: list[bytes | str] = [""] * len(outcomes)
        if report_hosts:  # channel, destination and host never change after enqueue: read them first
            async with self.client.pipeline(transaction=False) as pipe:
                for o in outcomes:
                    pipe.hmget(self._key("m", o.message_id), "ch", "dst", "host", "w")
                fields = await pipe.execute()
            for i, (o, (channel, destination, host, wants)) in enumerate(zip(outcomes, fields, strict=True)):
                if _text(host) in report_hosts and _text(wants) == "1":
                    owed[i] = sent_report(o, _text(channel) or "", _text(destination) or None, now)
        args: list[Any] = [now]
        for o, report in zip(outcomes, owed, strict=True):
            count = "" if o.message_count is None else o.message_count
            args += [o.message_id, o.status_group or "", o.status_name or "", count, sent_line(o, now)]
            args.append(report)
        await self._run("MARK_SENT", *args)

    async def mark_failed(self, failures: list[tuple[str, str]], now: float) -> None:
        if not failures:
            return
        # What the owed report says (channel, destination) never changes after enqueue: read it first.
        async with self.client.pipeline(transaction=False) as pipe:
            for mid, _ in failures:
                pipe.hmget(self._key("m", mid), "ch", "dst")
            fields = await pipe.execute()
        args: list[Any] = [now]
        for (mid, reason), (channel, destination) in zip(failures, fields, strict=True):
            owed = failed_report(mid, _text(channel) or "", _text(destination) or None, reason, now)
            args += [mid, reason, failed_line(reason, now), owed]
        await self._run("MARK_FAILED", *args)

    async def retry_later(self, ids: list[str], due_at: float, reason: str, now: float) -> None:
        if ids:
            await self._run("RETRY_LATER", due_at, retry_line(reason, due_at, now), *ids)

    async def next_due(self) -> float | None:
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.zrange(self._key("q"), 0, 0, withscores=True)
            pipe.zrange(self._key("l"), 0, 0, withscores=True)
            queued, leased = await pipe.execute()
        times = [score for _, score in queued + leased]
        return min(times) if times else None

    # -- reports -----------------------------------------------------------------------------------------

    async def record_reports(self, reports: list[Report], now: float) -> list[Report]:
        if not reports:
            return []
        targets = await self._targets(reports)
        args: list[Any] = [now]
        prepared: list[Report] = []
        for report in reports:
            target = None
            if report.kind == "INBOUND":
                target = targets.get("+" + (report.sender or "").lstrip("+"))
                if target is not None:
                    report = msgspec.structs.replace(report, paired_message_id=target[0])
            elif report.message_id:
                target = targets.get(report.message_id)
                if target is not None and report.channel != target[1]:
                    report = msgspec.structs.replace(report, channel=target[1])
            prepared.append(report)
            final = report.kind == "DELIVERY" and report.is_final
            group = (report.status_group or "").upper()
            args += [
                report.dedupe_key(),
                encode(report),
                target[0] if target else "",
                report_line(report, now),
                int(report.kind == "DELIVERY"),
                int(final),
                group if final and group in FINAL_GROUPS else "",
                report.status_group or "",
                report.status_name or "",
                report.error_name or "",
                "" if report.message_count is None else report.message_count,
                target[2] if target and target[3] else "",
            ]
        new = await self._run("RECORD_REPORTS", *args)
        return [prepared[int(i) - 1] for i in new]

    async def _targets(self, reports: list[Report]) -> dict[str, tuple[str, str, str, bool]]:
        """The stored messages the reports belong to: (id, channel, host, wants reports) by message id,
        and for inbound messages by '+' and the sender's number. These fields never change once stored."""
        ids = {r.message_id for r in reports if r.kind != "INBOUND" and r.message_id}
        senders = sorted({(r.sender or "").lstrip("+") for r in reports if r.kind == "INBOUND" and r.sender})
        paired: dict[str, str] = {}
        if senders:
            latest = await self.client.hmget(self._key("dest"), senders)
            paired = {"+" + number: mid.decode() for number, mid in zip(senders, latest, strict=True) if mid}
        wanted = sorted(ids | set(paired.values()))
        if not wanted:
            return {}
        async with self.client.pipeline(transaction=False) as pipe:
            for mid in wanted:
                pipe.hmget(self._key("m", mid), "ch", "host", "w")
            rows = await pipe.execute()
        found = {
            mid: (mid, channel.decode(), host.decode(), wants == b"1")
            for mid, (channel, host, wants) in zip(wanted, rows, strict=True)
            if channel is not None
        }
        found.update({sender: found[mid] for sender, mid in paired.items() if mid in found})
        return found

    async def get_message(self, message_id: str) -> MessageView | None:
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._key("m", message_id))
            pipe.get(self._key("b", message_id))
            pipe.get(self._key("t", message_id))
            fields, body, timeline = await pipe.execute()
        if body is None:
            return None
        message = message_decoder.decode(body)
        get = fields.get
        count = get(b"mc")
        return MessageView(
            id=message_id,
            channel=message.channel,
            destination=message.destination,
            state=get(b"st", b"QUEUED").decode(),  # type: ignore[arg-type]
            created_at=float(get(b"at", 0)),
            attempts=int(get(b"att", 0)),
            status_group=_text(get(b"sg")) or None,
            status_name=_text(get(b"sn")) or None,
            error_name=_text(get(b"en")) or None,
            failure_reason=_text(get(b"fr")),
            message_count=int(count) if count is not None else None,
            host=message.host,
            timeline=_line_decoder.decode_lines(timeline or b""),
        )

    # -- the outbox -------------------------------------------------------------------------------------

    async def claim_outbox(self, now: float, limit: int, lease: float) -> list[OutboxItem]:
        if limit <= 0:
            return []
        flat = await self._run("CLAIM_OUTBOX", now, limit, now + lease)
        return [
            OutboxItem(
                id=int(flat[i]),
                host=flat[i + 1].decode(),
                report=report_decoder.decode(flat[i + 2]),
                attempts=int(flat[i + 3]),
                message=message_decoder.decode(flat[i + 4]) if flat[i + 4] is not None else None,
            )
            for i in range(0, len(flat), 5)
        ]

    async def ack_outbox(self, ids: list[int]) -> None:
        if ids:
            await self._run("ACK_OUTBOX", *ids)

    async def retry_outbox(self, item_id: int, due_at: float, error: str) -> None:
        await self._run("RETRY_OUTBOX", due_at, error, item_id)

    # -- accounts ------------------------------------------------------------------------------------

    async def put_account(self, name: str, sealed: bytes) -> None:
        await self.client.hset(self._key("acct"), name, bytes(sealed))

    async def get_accounts(self) -> dict[str, bytes]:
        stored = await self.client.hgetall(self._key("acct"))
        return {name.decode(): bytes(sealed) for name, sealed in stored.items()}

    async def delete_account(self, name: str) -> bool:
        return bool(await self.client.hdel(self._key("acct"), name))

    # -- plugins' own data ---------------------------------------------------------------------------
    # One string key per value (Redis expires keys, not hash fields, before 7.4) and a set per namespace
    # naming its keys, for listing; members whose value expired are dropped when the namespace is listed.

    async def put_data(
        self, namespace: str, key: str, value: bytes, now: float, ttl: float | None = None
    ) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            self._queue_put(pipe, namespace, key, value, now, ttl)
            await pipe.execute()

    def _queue_put(
        self,
        pipe: Any,
        namespace: str,
        key: str,
        value: bytes,
        now: float,
        ttl: float | None,
        *,
        only_new: bool = False,
    ) -> None:
        """Queue a value's SET (NX with `only_new`: only where no live value is) and its key's SADD."""
        expiry = {} if ttl is None else {"pxat": _expiry_ms(now, ttl)}
        pipe.set(self._key("d", namespace, key), bytes(value), nx=only_new, **expiry)
        pipe.sadd(self._key("dn", namespace), key)

    async def add_data(
        self, namespace: str, key: str, value: bytes, now: float, ttl: float | None = None
    ) -> bool:
        async with self.client.pipeline(transaction=True) as pipe:
            self._queue_put(pipe, namespace, key, value, now, ttl, only_new=True)
            stored, _ = await pipe.execute()
        return bool(stored)

    async def get_data(self, namespace: str, key: str, now: float) -> bytes | None:
        value = await self.client.get(self._key("d", namespace, key))
        return bytes(value) if value is not None else None

    async def list_data(self, namespace: str, now: float) -> dict[str, bytes]:
        keys = sorted(k.decode() for k in await self.client.smembers(self._key("dn", namespace)))
        if not keys:
            return {}
        values = await self.client.mget([self._key("d", namespace, k) for k in keys])
        gone = [k for k, v in zip(keys, values, strict=True) if v is None]
        if gone:
            await self.client.srem(self._key("dn", namespace), *gone)
        return {k: bytes(v) for k, v in zip(keys, values, strict=True) if v is not None}

    async def delete_data(self, namespace: str, key: str) -> bool:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(self._key("d", namespace, key))
            pipe.srem(self._key("dn", namespace), key)
            deleted, _ = await pipe.execute()
        return bool(deleted)

    # -- numbers for /metrics --------------------------------------------------------------------------

    async def stats(self) -> dict[str, int]:
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.hgetall(self._key("c"))
            pipe.zcard(self._key("o"))
            counts, outbox = await pipe.execute()
        return stats_by_state({state.decode(): int(n) for state, n in counts.items()}, int(outbox))


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _expiry_ms(now: float, ttl: float | None) -> int | str:
    """When a value expires, as Redis's PXAT takes it; '' (ENQUEUE's "never") without a ttl."""
    return "" if ttl is None else int((now + ttl) * 1000)
