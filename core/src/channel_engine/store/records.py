"""What both stores write the same way: timeline lines, speed-limit keys, the FAILED report a host is owed,
the batching of one event-loop turn's enqueues into one write, and of its lookups into one read."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar, get_args

import msgspec

from ..errors import ChannelEngineError
from ..models import MessageState, OutboundMessage, Report, SendOutcome, TimelineEntry
from ..reports import infobip_time

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")
encode = msgspec.json.encode
STATES: tuple[str, ...] = get_args(MessageState)


class StoreClosedError(ChannelEngineError):
    """A write arrived after the store was closed (or before it was opened)."""

    code = "store_closed"


def timeline_line(
    at: float,
    event: str,
    group: str | None = None,
    name: str | None = None,
    detail: dict[str, Any] | None = None,
) -> str:
    """One timeline entry as a JSON line; a message's timeline is these lines, appended in order."""
    entry = TimelineEntry(at=at, event=event, status_group=group, status_name=name, detail=detail or None)
    return encode(entry).decode() + "\n"


def sent_line(outcome: SendOutcome, now: float) -> str:
    """The timeline line of a message the provider accepted."""
    detail = {"messageCount": outcome.message_count} if outcome.message_count is not None else None
    return timeline_line(now, "SENT", outcome.status_group, outcome.status_name, detail)


def failed_line(reason: str, now: float) -> str:
    return timeline_line(now, "FAILED", detail={"reason": reason})


def retry_line(reason: str, due_at: float, now: float) -> str:
    return timeline_line(now, "RETRY", detail={"reason": reason, "dueAt": due_at})


def report_line(report: Report, now: float) -> str:
    """The timeline line a new report adds to its message."""
    detail: dict[str, Any] = {}
    if report.kind == "CLICK":
        if report.url:
            detail["url"] = report.url
    elif report.kind == "INBOUND":
        if report.message_id:
            detail["messageId"] = report.message_id
    else:
        if report.error_name:
            detail["errorName"] = report.error_name
        if report.message_count is not None:
            detail["messageCount"] = report.message_count
    return timeline_line(now, report.kind, report.status_group, report.status_name, detail)


def message_keys(message: OutboundMessage) -> tuple[str, ...]:
    """The keys a retry of the message is recognised by (its idempotency key, its retry key), as given."""
    return tuple(key for key in (message.idempotency_key, message.retry_key) if key)


def speed_key(message: OutboundMessage) -> tuple[str | None, float]:
    """The key whose messages share one sending speed limit, and the seconds between two of them."""
    limit = message.options.speed_limit
    if limit is None:
        return None, 0.0
    group = limit.key or message.options.bulk_id or message.host.name
    return f"{group}|{limit.amount}|{limit.time_unit}", limit.interval_seconds


def sent_report(outcome: SendOutcome, channel: str, destination: str | None, now: float) -> bytes:
    """The SENT report a host registered with `sent_reports` is owed when Infobip accepts its message."""
    return encode(
        Report(
            kind="SENT",
            channel=channel,
            message_id=outcome.message_id,
            to=destination,
            status_group=outcome.status_group,
            status_name=outcome.status_name,
            status_id=outcome.status_id,
            status_description=outcome.description,
            message_count=outcome.message_count,
            sent_at=infobip_time(now),
        )
    )


def failed_report(message_id: str, channel: str, destination: str | None, reason: str, now: float) -> bytes:
    """The FAILED report a host is owed for its message that failed for good (encoded)."""
    return encode(
        Report(
            kind="FAILED",
            channel=channel,
            message_id=message_id,
            to=destination,
            error_description=reason,
            done_at=infobip_time(now),
        )
    )


def stats_by_state(counts: dict[str, int], outbox: int) -> dict[str, int]:
    """`Store.stats()` from the number of messages in each state and of outbox items."""
    out = {"queued": counts.get("QUEUED", 0) + counts.get("SENDING", 0), "outbox": outbox}
    out.update({f"state_{state}": counts.get(state, 0) for state in STATES})
    return out


class TurnLookups(Generic[K, V]):
    """Joins the lookups asked during one event-loop turn into one call of `fetch(keys)`, which answers
    their values in the same order; each asker awaits its own value (or the call's exception). An asker
    that is cancelled leaves the call running for the others."""

    def __init__(self, fetch: Callable[[list[K]], Awaitable[list[V]]]) -> None:
        self._fetch = fetch
        self._pending: tuple[list[K], list[asyncio.Future[V]]] | None = None

    async def get(self, key: K) -> V:
        loop = asyncio.get_running_loop()
        if self._pending is None:
            self._pending = ([], [])
            loop.call_soon(self.flush_now)
        future: asyncio.Future[V] = loop.create_future()
        self._pending[0].append(key)
        self._pending[1].append(future)
        return await future

    def flush_now(self) -> asyncio.Future[list[V]] | None:
        """Start the call for what was asked so far (at the end of the turn, or at close); returns it, or
        None when nothing was waiting."""
        if self._pending is None:
            return None
        keys, futures = self._pending
        self._pending = None

        def settle(done: asyncio.Future[list[V]]) -> None:
            error = asyncio.CancelledError() if done.cancelled() else done.exception()
            values = [] if error is not None else done.result()
            for i, future in enumerate(futures):
                if future.done():  # its asker was cancelled
                    continue
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(values[i])

        try:
            call = asyncio.ensure_future(self._fetch(keys))
        except Exception as exc:  # e.g. the store closed: every asker hears it
            call = asyncio.get_running_loop().create_future()
            call.set_exception(exc)
        call.add_done_callback(settle)
        return call


class TurnBatch(Generic[T, R]):
    """Joins everything added during one event-loop turn into one call of `flush`; every adder awaits
    that call and gets what it answered. Many small concurrent requests then cost the store one write, not
    one each."""

    def __init__(self, flush: Callable[[list[T]], Awaitable[R]]) -> None:
        async def write(batches: list[list[T]]) -> list[R]:
            answer = await flush([item for batch in batches for item in batch])
            return [answer] * len(batches)

        self._turns: TurnLookups[list[T], R] = TurnLookups(write)

    async def add(self, items: list[T]) -> R:
        return await self._turns.get(items)

    def flush_now(self) -> asyncio.Future[list[R]] | None:
        """Start the write of what was added so far (at the end of the turn, or at close); returns it,
        None when nothing was waiting."""
        return self._turns.flush_now()
