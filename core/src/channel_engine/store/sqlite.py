"""The store for one machine: a SQLite file in WAL mode, durable at every returned write.

Writes go through one thread that commits everyone's pending writes together (`sqlite_writer`): many
concurrent callers share one transaction and one fsync, which is what makes synchronous=FULL fast. Reads
use their own connection on their own thread; WAL lets them run beside the writer and see every commit
that has returned. The schema and why it looks as it does: `sqlite_schema`.

Work that needs no database (encoding, decoding) is done on the caller's side of the thread hop, so the
writer holds the GIL as little as possible.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from ..models import (
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
from .base import Store, wants_reports
from .records import (
    StoreClosedError,
    TurnLookups,
    failed_line,
    failed_report,
    message_keys,
    retry_line,
    sent_line,
    sent_report,
    speed_key,
    stats_by_state,
    timeline_line,
)
from .sqlite_bulk import as_json_text, cells, named, pack
from .sqlite_process import ProcessWriter
from .sqlite_reports import insert_outbox, json_list, record_reports
from .sqlite_retry import WriterConnection, recent_retry_keys
from .sqlite_schema import READER_PRAGMAS, WRITER_PRAGMAS, connect, create_schema
from .sqlite_writer import GroupCommitWriter, OneStatement
from .users_lock import UsersLock

T = TypeVar("T")

SWITCH_INTERVAL = 0.0002  # seconds; see _hand_the_gil_over_sooner

_encode = msgspec.json.encode
_line_decoder = msgspec.json.Decoder(TimelineEntry)

_EXISTING_IDS = "SELECT id FROM messages WHERE id IN (SELECT value FROM json_each(?))"
_EXISTING_KEYS = (
    "SELECT idempotency_key, id FROM messages WHERE idempotency_key IN (SELECT value FROM json_each(?))"
)
_LAST_DUE = "SELECT key, last_due FROM speed_limits WHERE key IN (SELECT value FROM json_each(?))"
_MESSAGE_COLUMNS = (
    "id, body, channel, destination, host, wants_reports, due_at, created_at, timeline, idempotency_key, "
    "retry_key, state"
)
_SAVE_LAST_DUE = (
    "INSERT INTO speed_limits (key, last_due) VALUES (?, ?) "
    "ON CONFLICT (key) DO UPDATE SET last_due = excluded.last_due"
)
# One state's due messages, oldest first, as one JSON text: [[rowid, due_at, attempts, body], ...].
_DUE = (
    f"SELECT json_group_array(json_array(rowid, due_at, attempts, {as_json_text('body')})) FROM ("
    "SELECT rowid, due_at, attempts, body FROM messages WHERE state = ? AND due_at <= ? "
    "ORDER BY due_at LIMIT ?)"
)
_TAKE = (
    "UPDATE messages SET state = 'SENDING', due_at = ?2, attempts = attempts + 1 "
    "WHERE rowid IN (SELECT value FROM json_each(?1))"
)
# A message a final report reached first keeps its state and status; SENT only replaces QUEUED or SENDING.
_SENT = f"""
UPDATE messages SET
    state = CASE WHEN state IN ('QUEUED', 'SENDING') THEN 'SENT' ELSE state END,
    status_group = CASE WHEN final THEN status_group ELSE sent_group END,
    status_name = CASE WHEN final THEN status_name ELSE sent_name END,
    message_count = coalesce(sent_count, message_count),
    timeline = timeline || line
FROM ({named("sent_group", "sent_name", "sent_count", "line", "sent_id")})
WHERE id = sent_id
"""
_FAILED = (
    "UPDATE messages SET state = CASE WHEN final THEN state ELSE 'FAILED' END, failure_reason = ?, "
    "timeline = timeline || ? WHERE id = ?"
)
# Messages about to fail that owe their host a FAILED report: they want reports and are not final yet.
_OWED_SENT_REPORTS = (
    "SELECT id, channel, destination, host FROM messages WHERE id IN (SELECT value FROM json_each(?)) "
    "AND host IN (SELECT value FROM json_each(?)) AND wants_reports AND NOT final"
)
_OWED_FAILURE_REPORTS = (
    "SELECT id, channel, destination, host FROM messages "
    "WHERE id IN (SELECT value FROM json_each(?)) AND wants_reports AND NOT final AND state != 'FAILED'"
)
_RETRY = (
    "UPDATE messages SET state = 'QUEUED', due_at = ?, timeline = timeline || ? "
    "WHERE id = ? AND state IN ('QUEUED', 'SENDING')"
)
_VIEW = (
    "SELECT body, state, attempts, created_at, status_group, status_name, error_name, failure_reason, "
    "message_count, timeline FROM messages WHERE id = ?"
)
_PUT_ACCOUNT = (
    "INSERT INTO accounts (name, sealed) VALUES (?, ?) "
    "ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed"
)
_LIVE = "(expires_at IS NULL OR expires_at > ?)"
# Rows in the order given, so the last put of a key wins; `WHERE true` tells SQLite's parser that ON CONFLICT
# belongs to the INSERT, not to a join.
_PUT_DATA = (
    f"INSERT INTO plugin_data (namespace, key, value, expires_at) SELECT {cells(4, blobs={2})} "
    "FROM json_each(?1) WHERE true "
    "ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at"
)
# Many keys' live values in one step, as [[index in ?1, hex of the value], ...]; ?1 is [[ns, key, now], ...].
_GET_MANY_DATA = (
    "SELECT json_group_array(json_array(j.key, hex(d.value))) FROM json_each(?1) AS j "
    "JOIN plugin_data AS d ON d.namespace = json_extract(j.value, '$[0]') "
    "AND d.key = json_extract(j.value, '$[1]') "
    "WHERE d.expires_at IS NULL OR d.expires_at > json_extract(j.value, '$[2]')"
)
_LIST_DATA = f"SELECT key, value FROM plugin_data WHERE namespace = ? AND {_LIVE}"
_OUTBOX_DUE = (
    "SELECT json_group_array(json_array(o.id, o.host, o.attempts, "
    f"{as_json_text('o.report')}, {as_json_text('m.body')}, o.due_at)) FROM ("
    "SELECT id, host, attempts, report, message_id, due_at FROM outbox WHERE due_at <= ? "
    "ORDER BY due_at, id LIMIT ?) AS o LEFT JOIN messages AS m ON m.id = o.message_id"
)
_OUTBOX_TAKE = "UPDATE outbox SET due_at = ?2 WHERE id IN (SELECT value FROM json_each(?1))"
_row_decoder = msgspec.json.Decoder(list[tuple[int, float, int, msgspec.Raw]])
_outbox_decoder = msgspec.json.Decoder(list[tuple[int, str, int, msgspec.Raw, msgspec.Raw, float]])


class SQLiteStore(Store):
    """`Store` on a SQLite file. `commits` counts transactions, `writes` the operations they carried."""

    def __init__(
        self, path: str | os.PathLike[str], *, max_batch: int = 2000, writer_process: bool = False
    ) -> None:
        self.path = Path(path)
        connect_writer = functools.partial(connect, self.path, WRITER_PRAGMAS, WriterConnection)
        self.writer: GroupCommitWriter | ProcessWriter = (
            ProcessWriter(self.path, connect_writer, max_batch=max_batch)
            if writer_process
            else GroupCommitWriter(connect_writer, max_batch=max_batch)
        )
        self._reader: ThreadPoolExecutor | None = None
        self._users: UsersLock | None = None
        self._read_conn: sqlite3.Connection | None = None
        self._data_reads: TurnLookups[tuple[str, str, float], bytes | None] = TurnLookups(
            lambda wanted: self._read(_get_many_data, wanted)
        )

    @property
    def commits(self) -> int:
        return self.writer.commits

    @property
    def writes(self) -> int:
        return self.writer.writes

    async def open(self) -> None:
        if self._reader is not None:
            return  # open already
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _hand_the_gil_over_sooner()
        self._users = UsersLock(self.path.with_name(self.path.name + ".users"))
        await asyncio.wrap_future(self.writer.start(create_schema))
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-reader")
        loop = asyncio.get_running_loop()
        self._read_conn = await loop.run_in_executor(self._reader, connect, self.path, READER_PRAGMAS)

    async def close(self) -> None:
        await asyncio.wrap_future(self.writer.stop())
        if self._users is not None:
            self._users.release()
            self._users = None
        reader, conn = self._reader, self._read_conn
        self._reader = self._read_conn = None
        if reader is not None:
            if conn is not None:
                await asyncio.get_running_loop().run_in_executor(reader, conn.close)
            reader.shutdown(wait=True)

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.writer.submit(fn, *args)

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        if self._reader is None or self._read_conn is None:
            raise StoreClosedError("the store is not open")
        return await asyncio.get_running_loop().run_in_executor(self._reader, fn, self._read_conn, *args)

    # -- the queue -------------------------------------------------------------------------------------

    async def enqueue(
        self, messages: list[OutboundMessage], now: float, data: Sequence[DataEntry] = ()
    ) -> dict[str, str]:
        handed = self._hand_over(messages, now, data)
        if handed is None:
            return {}
        keyed, written = handed
        answer = await written
        if not keyed:
            return {}
        (stored,) = answer
        # (It names only keys stored under another message's id: the others are this message's.)
        return {key: stored.get(key, m.id) for m in messages for key in message_keys(m)}

    def _hand_over(
        self, messages: list[OutboundMessage], now: float, data: Sequence[DataEntry]
    ) -> tuple[bool, asyncio.Future[Any]] | None:
        """The messages' rows handed to the writer, whether any has a key, and the writer's answer to wait
        for. Built here, not in `enqueue`, so the coroutine that waits holds no row (each carries its
        message's JSON): the memory of the requests waiting on a commit is reused while still in cache."""
        rows = []  # the writer adds each one's ACCEPTED timeline line: less for the process that answers
        spaced = keyed = False
        for message in messages:
            if message.id is None:
                raise ValueError("a message is stored with its id: set `id` before enqueue")
            key, interval = speed_key(message)
            spaced = spaced or key is not None
            keyed = keyed or message.idempotency_key is not None or message.retry_key is not None
            rows.append(
                (
                    message.id,
                    _encode(message),
                    message.channel,
                    message.destination,
                    message.host.name,
                    wants_reports(message),
                    key,
                    interval,
                    now,
                    message.idempotency_key,
                    message.retry_key,
                )
            )
        if not rows:
            return None
        puts = [_data_row(d.namespace, d.key, d.value, now, d.ttl) for d in data]
        # Handed over at once: the writer joins the waiting enqueues of many requests into one insert.
        if keyed:
            return True, self.writer.submit_rows(_enqueue_keyed, [(rows, puts)])  # type: ignore[arg-type]
        # Unspaced, each is due now: nothing depends on which ids are new; the primary key skips stored ones.
        insert: Callable[[sqlite3.Connection, list[Any]], Any] = (
            _enqueue_spaced if spaced else _INSERT_DUE_NOW
        )
        if puts:
            return False, self.writer.submit_together([(insert, rows), (_put_data, puts)])
        return False, self.writer.submit_rows(insert, rows)

    async def claim(self, now: float, limit: int, lease: float) -> list[QueuedMessage]:
        if limit <= 0:
            return []
        rows = await self._write(_claim, now, limit, now + lease)
        return [QueuedMessage(message_decoder.decode(body), attempts) for body, attempts in rows]

    async def recover(self, now: float) -> int:
        if self._users is None:
            raise StoreClosedError("the store is not open")
        with self._users.alone() as alone:
            # Another process on this file has its own messages in flight: leave them to their leases.
            return await self._write(_recover, now) if alone else 0

    async def mark_sent(
        self, outcomes: list[SendOutcome], now: float, report_hosts: frozenset[str] = frozenset()
    ) -> None:
        rows = [
            (o.status_group, o.status_name, o.message_count, sent_line(o, now), o.message_id)
            for o in outcomes
        ]
        if rows:
            await self._write(_sent, rows, outcomes if report_hosts else [], report_hosts, now)

    async def mark_failed(self, failures: list[tuple[str, str]], now: float) -> None:
        rows = [(reason, failed_line(reason, now), mid) for mid, reason in failures]
        if rows:
            await self._write(_fail, rows, now)

    async def retry_later(self, ids: list[str], due_at: float, reason: str, now: float) -> None:
        line = retry_line(reason, due_at, now)
        if ids:
            await self._write(_executemany, _RETRY, [(due_at, line, mid) for mid in ids])

    async def next_due(self) -> float | None:
        return await self._read(_next_due)

    # -- reports -----------------------------------------------------------------------------------------

    async def record_reports(self, reports: list[Report], now: float) -> list[Report]:
        if not reports:
            return []
        return await self._write(record_reports, list(reports), now)

    async def get_message(self, message_id: str) -> MessageView | None:
        return await self._read(_get_message, message_id)

    # -- the outbox -------------------------------------------------------------------------------------

    async def claim_outbox(self, now: float, limit: int, lease: float) -> list[OutboxItem]:
        if limit <= 0:
            return []
        rows = await self._write(_claim_outbox, now, limit, now + lease)
        return [
            OutboxItem(
                id=item_id,
                host=host,
                report=report_decoder.decode(report),
                message=message_decoder.decode(body) if body is not None else None,
                attempts=attempts,
            )
            for item_id, host, attempts, report, body in rows
        ]

    async def ack_outbox(self, ids: list[int]) -> None:
        if ids:
            await self._write(_executemany, "DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])

    async def retry_outbox(self, item_id: int, due_at: float, error: str) -> None:
        sql = "UPDATE outbox SET due_at = ?, attempts = attempts + 1, last_error = ? WHERE id = ?"
        await self._write(_executemany, sql, [(due_at, error, item_id)])

    # -- accounts ------------------------------------------------------------------------------------

    async def put_account(self, name: str, sealed: bytes) -> None:
        await self._write(_executemany, _PUT_ACCOUNT, [(name, bytes(sealed))])

    async def get_accounts(self) -> dict[str, bytes]:
        return await self._read(_get_accounts)

    async def delete_account(self, name: str) -> bool:
        return await self._write(_executemany, "DELETE FROM accounts WHERE name = ?", [(name,)]) > 0

    # -- plugins' own data ---------------------------------------------------------------------------

    async def put_data(
        self, namespace: str, key: str, value: bytes, now: float, ttl: float | None = None
    ) -> None:
        await self.writer.submit_rows(_put_data, [_data_row(namespace, key, value, now, ttl)])

    async def add_data(
        self, namespace: str, key: str, value: bytes, now: float, ttl: float | None = None
    ) -> bool:
        return await self._write(_add_data, _data_row(namespace, key, value, now, ttl)[:4], now)

    async def get_data(self, namespace: str, key: str, now: float) -> bytes | None:
        # The reads of one event-loop turn are one job of the reader thread: a report handed to a host
        # reads two or three values, and a hop to the thread each cost the event loop more than the read.
        return await self._data_reads.get((namespace, key, now))

    async def list_data(self, namespace: str, now: float) -> dict[str, bytes]:
        return dict(await self._read(_select_data, _LIST_DATA, (namespace, now)))

    async def delete_data(self, namespace: str, key: str) -> bool:
        deleted = await self._write(
            _executemany, "DELETE FROM plugin_data WHERE namespace = ? AND key = ?", [(namespace, key)]
        )
        return deleted > 0

    # -- numbers for /metrics --------------------------------------------------------------------------

    async def stats(self) -> dict[str, int]:
        return await self._read(_stats)


def _hand_the_gil_over_sooner() -> None:
    """The writer thread needs the GIL back after every SQLite call, and a busy event loop keeps it until the
    switch interval asks it to let go: 5 ms by default, so each of the writer's calls could cost up to 5 ms of
    waiting and commits stretched to tens of milliseconds under load. 0.2 ms is asked only while another
    thread waits for the GIL, so a process without one pays nothing (process-wide, never raised here)."""
    if sys.getswitchinterval() > SWITCH_INTERVAL:
        sys.setswitchinterval(SWITCH_INTERVAL)


# -- what runs on the writer (a thread of ours, or the writer process) ------------------------------------


def _executemany(conn: sqlite3.Connection, sql: str, rows: list[tuple[Any, ...]]) -> int:
    return conn.executemany(sql, rows).rowcount


def _pack_messages(rows: list[tuple[Any, ...]]) -> tuple[str, bytes]:
    return pack(rows, blobs={1})  # type: ignore[return-value]


def _due_now(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Enqueue rows as `_INSERT_MESSAGES` takes them, each due when it was accepted."""
    lines = _accepted_lines(row[8] for row in rows)
    return [(*row[:6], row[8], row[8], lines[row[8]], row[9], row[10]) for row in rows]


def _pack_due_now(rows: list[tuple[Any, ...]]) -> tuple[str, bytes]:
    return _pack_messages(_due_now(rows))


def _messages_insert(
    verb: str,
    params: Callable[[list[Any]], Sequence[Any]],
    each: Callable[[list[Any]], list[tuple[Any, ...]]],
) -> OneStatement:
    """`verb` (INSERT, or INSERT OR IGNORE) of messages, QUEUED, given as their columns (id, body, channel,
    destination, host, wants_reports, due_at, created_at, timeline, idempotency_key, retry_key): packed in
    one parameter, or one row at a time in the writer process (see `OneStatement`)."""
    into = f"{verb} INTO messages ({_MESSAGE_COLUMNS}) "
    return OneStatement(
        into + f"SELECT {cells(11, blobs={1})}, 'QUEUED' FROM json_each(?1)",
        params,
        each_sql=into + f"VALUES ({', '.join('?' * 11)}, 'QUEUED')",
        each=each,
    )


_INSERT_MESSAGES = _messages_insert("INSERT", _pack_messages, list)
# Enqueue rows, due now; one already stored (its id) is left as it is.
_INSERT_DUE_NOW = _messages_insert("INSERT OR IGNORE", _pack_due_now, _due_now)


def _accepted_lines(times: Iterable[float]) -> dict[float, str]:
    """The ACCEPTED timeline line of each time, once per time: a request's messages share theirs. Written
    here, by the writer: the engine's process, which answers the request, has less to do."""
    return {now: timeline_line(now, "ACCEPTED") for now in set(times)}


def _enqueue_keyed(
    conn: sqlite3.Connection, calls: list[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]
) -> list[dict[str, str]]:
    """Requests of which some messages have idempotency or retry keys, each as (its enqueue rows, its
    puts): for each request, the ids stored under its keys. A request's puts are stored only when one of
    its messages is: a request retried under the same keys stores none of its own ids, and must not
    overwrite what the first one put (a host's lookup naming the first request's message)."""
    every_row = [row for call_rows, _ in calls for row in call_rows]
    rows, by_retry_key = _without_retries(conn, every_row)
    if any(row[6] is not None for row in rows):
        _enqueue_spaced(conn, rows)
        every_one_new = False  # its changes count speed-limit rows too: look the keys up
    else:
        before = conn.total_changes
        _INSERT_DUE_NOW(conn, rows)
        every_one_new = conn.total_changes - before == len(rows)  # the usual case: nothing to look up
    if by_retry_key:
        recent_retry_keys(conn).follow(conn, _latest(every_row))  # take in the rows just added
    if every_one_new:
        stored = {row[9]: row[0] for row in rows if row[9] is not None}
    else:
        stored = _stored_keys(conn, [row[9] for row in rows])
    stored.update(by_retry_key)
    if any(puts for _, puts in calls):
        if every_one_new:
            present = {row[0] for row in rows}
        else:
            ids = json_list(row[0] for call_rows, puts in calls if puts for row in call_rows)
            present = {row[0] for row in conn.execute(_EXISTING_IDS, (ids,))}
        kept = [put for call_rows, puts in calls if any(r[0] in present for r in call_rows) for put in puts]
        if kept:
            _put_data(conn, kept)
    # Only keys stored under another message's id (a retry's, an earlier request's): every other key of a
    # request names its own message, which the engine knows without being told.
    return [
        {k: stored[k] for r in call_rows for k in r[9:11] if k in stored and stored[k] != r[0]}
        for call_rows, _ in calls
    ]


def _without_retries(
    conn: sqlite3.Connection, rows: list[tuple[Any, ...]]
) -> tuple[list[tuple[Any, ...]], dict[str, str]]:
    """The rows that are not retries, and the id each retry key of `rows` stands for: the message
    accepted under it in the window, or the first row with it here (which is then stored)."""
    keys = [row[10] for row in rows if row[10] is not None]
    if not keys:
        return rows, {}
    ids = recent_retry_keys(conn).find(conn, keys, _latest(rows))
    fresh = []
    for row in rows:
        key = row[10]
        if key is None or key not in ids:
            fresh.append(row)
            if key is not None:
                ids[key] = row[0]
    return fresh, ids


def _latest(rows: list[tuple[Any, ...]]) -> float:
    return max(row[8] for row in rows)


def _stored_keys(conn: sqlite3.Connection, keys: list[str | None]) -> dict[str, str]:
    """Each of `keys` (None for none) and the id of the message stored under it."""
    present = [key for key in keys if key is not None]
    return dict(conn.execute(_EXISTING_KEYS, (json_list(present),))) if present else {}


def _enqueue_spaced(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Messages of which some share a speed limit: each one is due an interval after the last of its key.
    Only new messages move a key's last due time, so a retried request does not delay the next one."""
    seen = {row[0] for row in conn.execute(_EXISTING_IDS, (json_list(row[0] for row in rows),))}
    seen_keys = set(_stored_keys(conn, [row[9] for row in rows]))
    fresh = []
    for row in rows:
        if row[0] not in seen and row[9] not in seen_keys:  # stored before, or twice in this batch
            seen.add(row[0])
            if row[9] is not None:
                seen_keys.add(row[9])
            fresh.append(row)
    keys = {row[6] for row in fresh if row[6] is not None}
    last_due: dict[str, float] = dict(conn.execute(_LAST_DUE, (json_list(keys),))) if keys else {}
    touched: dict[str, float] = {}
    inserts = []
    lines = _accepted_lines(row[8] for row in fresh)
    for mid, body, channel, destination, host, wants, key, interval, now, *keys in fresh:
        due = now
        if key is not None:
            previous = last_due.get(key)
            if previous is not None:
                due = max(now, previous + interval)
            last_due[key] = touched[key] = due
        inserts.append((mid, body, channel, destination, host, wants, due, now, lines[now], *keys))
    _INSERT_MESSAGES(conn, inserts)
    if touched:
        conn.executemany(_SAVE_LAST_DUE, touched.items())


def _claim(conn: sqlite3.Connection, now: float, limit: int, until: float) -> list[tuple[bytes, int]]:
    rows = _row_decoder.decode(conn.execute(_DUE, ("QUEUED", now, limit)).fetchone()[0])
    rows += _row_decoder.decode(conn.execute(_DUE, ("SENDING", now, limit)).fetchone()[0])  # ended leases
    rows.sort(key=lambda row: row[1])
    del rows[limit:]
    conn.execute(_TAKE, (json_list(row[0] for row in rows), until))
    return [(bytes(body), attempts + 1) for _, _, attempts, body in rows]


def _sent(
    conn: sqlite3.Connection,
    rows: list[tuple[Any, ...]],
    outcomes: list[SendOutcome],
    hosts: frozenset[str],
    now: float,
) -> None:
    if outcomes:  # read before the update: a message that is final now gets no SENT report
        by_id = {o.message_id: o for o in outcomes}
        owed = conn.execute(_OWED_SENT_REPORTS, (json_list(by_id), json_list(hosts))).fetchall()
        insert_outbox(
            conn, [(host, now, mid, sent_report(by_id[mid], ch, dst, now)) for mid, ch, dst, host in owed]
        )
    if len({row[4] for row in rows}) < len(rows):  # one message twice: UPDATE ... FROM would apply one row
        for row in rows:
            conn.execute(_SENT, pack([row]))
        return
    conn.execute(_SENT, pack(rows))


def _fail(conn: sqlite3.Connection, rows: list[tuple[str, str, str]], now: float) -> None:
    reasons = {mid: reason for reason, _, mid in rows}
    owed = conn.execute(_OWED_FAILURE_REPORTS, (json_list(reasons),)).fetchall()
    conn.executemany(_FAILED, rows)
    insert_outbox(
        conn,
        [
            (host, now, mid, failed_report(mid, channel, destination, reasons[mid], now))
            for mid, channel, destination, host in owed
        ],
    )


def _recover(conn: sqlite3.Connection, now: float) -> int:
    return conn.execute(
        "UPDATE messages SET state = 'QUEUED', due_at = ? WHERE state = 'SENDING'", (now,)
    ).rowcount


def _claim_outbox(conn: sqlite3.Connection, now: float, limit: int, until: float) -> list[tuple[Any, ...]]:
    rows = _outbox_decoder.decode(conn.execute(_OUTBOX_DUE, (now, limit)).fetchone()[0])
    rows.sort(key=lambda row: (row[5], row[0]))  # an aggregate's order is not promised: due time, then id
    conn.execute(_OUTBOX_TAKE, (json_list(row[0] for row in rows), until))
    # A report whose message is gone (or never existed: an unpaired inbound message) has a null body.
    return [(*row[:4], None if bytes(row[4]) == b"null" else row[4]) for row in rows]


# -- what runs on the reader thread ------------------------------------------------------------------


def _next_due(conn: sqlite3.Connection) -> float | None:
    queued, leased = conn.execute(
        "SELECT (SELECT min(due_at) FROM messages WHERE state = 'QUEUED'), "
        "(SELECT min(due_at) FROM messages WHERE state = 'SENDING')"
    ).fetchone()
    times = [t for t in (queued, leased) if t is not None]
    return min(times) if times else None


def _get_message(conn: sqlite3.Connection, message_id: str) -> MessageView | None:
    row = conn.execute(_VIEW, (message_id,)).fetchone()
    if row is None:
        return None
    body, state, attempts, created_at, group, name, error, reason, count, timeline = row
    message = message_decoder.decode(body)
    return MessageView(
        id=message_id,
        channel=message.channel,
        destination=message.destination,
        state=state,
        created_at=created_at,
        attempts=attempts,
        status_group=group,
        status_name=name,
        error_name=error,
        failure_reason=reason,
        message_count=count,
        host=message.host,
        timeline=_line_decoder.decode_lines(timeline),
    )


def _get_accounts(conn: sqlite3.Connection) -> dict[str, bytes]:
    return {name: bytes(sealed) for name, sealed in conn.execute("SELECT name, sealed FROM accounts")}


def _data_row(namespace: str, key: str, value: bytes, now: float, ttl: float | None) -> tuple[Any, ...]:
    """A row for `_put_data`: the value, when it expires, and the write's time (to delete expired ones)."""
    return (namespace, key, bytes(value), now + ttl if ttl is not None else None, now)


def _put_data(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    conn.execute("DELETE FROM plugin_data WHERE expires_at <= ?", (min(row[4] for row in rows),))
    conn.execute(_PUT_DATA, pack((row[:4] for row in rows), blobs={2}))


def _add_data(conn: sqlite3.Connection, row: tuple[Any, ...], now: float) -> bool:
    conn.execute(f"DELETE FROM plugin_data WHERE namespace = ? AND key = ? AND NOT {_LIVE}", (*row[:2], now))
    inserted = conn.execute(
        "INSERT INTO plugin_data (namespace, key, value, expires_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (namespace, key) DO NOTHING",
        row,
    ).rowcount
    return inserted > 0


def _get_many_data(conn: sqlite3.Connection, wanted: list[tuple[str, str, float]]) -> list[bytes | None]:
    (found,) = conn.execute(_GET_MANY_DATA, (_encode(wanted).decode(),)).fetchone()
    values: list[bytes | None] = [None] * len(wanted)
    for index, value in msgspec.json.decode(found):
        values[index] = bytes.fromhex(value)
    return values


def _select_data(conn: sqlite3.Connection, sql: str, args: tuple[Any, ...]) -> list[tuple[str, bytes]]:
    return [(key, bytes(value)) for key, value in conn.execute(sql, args)]


def _stats(conn: sqlite3.Connection) -> dict[str, int]:
    counts = dict(conn.execute("SELECT state, count(*) FROM messages GROUP BY state").fetchall())
    (outbox,) = conn.execute("SELECT count(*) FROM outbox").fetchone()
    return stats_by_state(counts, outbox)
