"""Sends the simulator's webhooks: delivery and seen reports, click notifications and inbound messages.

One scheduler task owns a heap of `(due, seq, jobs)` entries, one entry per accepted request and delay,
never one per message and never a timer per message. When entries fall due it groups their jobs by kind
and URL into buckets of at most `bucket_size` (`{"results": [...]}`; clicks go one per request, as
Infobip sends them), renders each bucket when it is posted and POSTs it with one shared
`httpx.AsyncClient`, a bounded number at a time. A POST that fails (network error or non-2xx answer) is
rescheduled with exponential backoff, as Infobip retries; after `max_attempts` its jobs are dropped and
counted in `dropped`.

`wait(message_ids)` resolves once no job of those messages is left: posted, or dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import Iterable
from typing import Any

import httpx
import msgspec

from ..provider import load_http_backend
from ..reports import infobip_time
from .endpoints import Outcome, SimulatedSend, SimulatorEndpoint

log = logging.getLogger("channel_engine.simulator")

REPORT = "reports"
SEEN = "seen"
CLICK = "clicks"
INBOUND = "inbound"

_JSON = {"content-type": "application/json"}
_encode = msgspec.json.Encoder().encode


class Job:
    """One webhook entry to send: a delivery or seen report, a click or an inbound message of one send."""

    __slots__ = ("at", "attempt", "detail", "endpoint", "kind", "outcome", "ref", "send", "sent_at", "url")

    def __init__(
        self,
        kind: str,
        url: str,
        endpoint: SimulatorEndpoint,
        send: SimulatedSend,
        *,
        sent_at: str,
        outcome: Outcome | None = None,
        detail: str = "",
        ref: str = "",
    ) -> None:
        self.kind = kind
        self.url = url
        self.endpoint = endpoint
        self.send = send
        self.sent_at = sent_at
        self.outcome = outcome  # the report's status (REPORT)
        self.detail = detail  # the clicked URL (CLICK) or the reply's text (INBOUND)
        self.ref = ref  # the inbound message's own id (INBOUND)
        self.attempt = 0
        # When the event happened (0 until then): set when it is first posted and kept for every retry, as
        # Infobip's retried webhooks carry the same doneAt (an engine that stored a report but could not
        # answer must recognise the retry as the same report).
        self.at = 0.0

    def __repr__(self) -> str:
        return f"Job({self.kind}, {self.send.message_id!r}, {self.url!r}, attempt={self.attempt})"


def render(kind: str, jobs: list[Job], now: float) -> bytes:
    """The webhook body for one bucket of jobs of one kind; `now` is the moment of the jobs posted for the
    first time (a retried job keeps its own)."""
    for job in jobs:
        job.at = job.at or now
    if kind == CLICK:  # one job, stamped in milliseconds
        job = jobs[0]
        return _encode(job.endpoint.click_report(job.send, job.detail, int(job.at * 1000)))
    stamps = {at: infobip_time(at) for at in {job.at for job in jobs}}
    if kind == INBOUND:
        results = [j.endpoint.inbound_message(j.send, j.detail, j.ref, stamps[j.at]) for j in jobs]
        return _encode({"results": results, "messageCount": len(results), "pendingMessageCount": 0})
    if kind == SEEN:
        return _encode({"results": [j.endpoint.seen_report(j.send, j.sent_at, stamps[j.at]) for j in jobs]})
    return _encode(
        {"results": [j.endpoint.delivery_report(j.send, j.outcome, j.sent_at, stamps[j.at]) for j in jobs]}  # type: ignore[arg-type]
    )


class Reporter:
    """The background sender. `schedule()` from the event loop; `start()` before reports can go out."""

    def __init__(
        self,
        *,
        bucket_size: int = 100,
        http: httpx.AsyncClient | None = None,
        max_in_flight: int = 32,
        retry_delay: float = 0.5,
        max_retry_delay: float = 30.0,
        max_attempts: int = 10,
        linger: float = 0.005,
    ) -> None:
        if bucket_size < 1:
            raise ValueError("bucket_size must be at least 1")
        self.bucket_size = bucket_size
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.max_attempts = max_attempts
        self.linger = linger  # jobs due this soon after the first go in the same buckets
        self._http = http
        self._own_http = http is None
        self._max_in_flight = max_in_flight
        self._heap: list[tuple[float, int, list[Job]]] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._posts: set[asyncio.Task[None]] = set()
        self._slots: asyncio.Semaphore | None = None
        self._outstanding: dict[str, int] = {}
        self._waiters: list[tuple[set[str], asyncio.Future[None]]] = []
        # statistics
        self.posts = 0  # successful POSTs
        self.posted = 0  # entries in them
        self.failures = 0  # POST attempts that failed and were retried or dropped
        self.dropped = 0  # entries given up on

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def outstanding(self, message_id: str) -> int:
        """Jobs of this message not yet posted."""
        return self._outstanding.get(message_id, 0)

    @property
    def pending(self) -> int:
        """Jobs not yet posted, of all messages."""
        return sum(self._outstanding.values())

    # --- scheduling ---

    def schedule(self, due: float, jobs: list[Job]) -> None:
        """Send `jobs` at `due` (the running loop's clock, `loop.time()`)."""
        counts = self._outstanding
        for job in jobs:
            mid = job.send.message_id
            counts[mid] = counts.get(mid, 0) + 1
        self._push(due, jobs)

    def _push(self, due: float, jobs: list[Job]) -> None:
        seq = next(self._seq)
        heapq.heappush(self._heap, (due, seq, jobs))
        if self._heap[0][1] == seq:  # the new earliest: the scheduler may be sleeping past it
            self._wake.set()

    async def start(self) -> None:
        if self.running:
            return
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=10.0,
                limits=httpx.Limits(
                    max_connections=self._max_in_flight, max_keepalive_connections=self._max_in_flight
                ),
            )
        await load_http_backend()  # before the first report, not amid it
        self._slots = asyncio.Semaphore(self._max_in_flight)
        self._wake = asyncio.Event()  # bound to this loop: a simulator may be started again on another
        if self._heap:
            self._wake.set()
        self._task = asyncio.create_task(self._run(), name="simulator-reporter")

    async def stop(self) -> None:
        """Stop sending; what is not posted yet stays unsent."""
        tasks = [t for t in (self._task, *self._posts) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None
        for _, future in self._waiters:
            if not future.done():
                future.set_exception(RuntimeError("the simulator stopped before its reports were sent"))
        if self._own_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    async def wait(self, message_ids: Iterable[str] | None = None, timeout: float | None = None) -> None:
        """Return once every job of these messages (default: every job scheduled so far) is posted or dropped.

        Raises TimeoutError after `timeout` seconds."""
        ids = (
            set(self._outstanding)
            if message_ids is None
            else {m for m in message_ids if m in self._outstanding}
        )
        if not ids:
            return
        if not self.running:
            raise RuntimeError("the simulator's report sender is not running: call start() or serve the app")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiter = (ids, future)
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                await future
        finally:
            self._waiters.remove(waiter)

    # --- the scheduler ---

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        heap = self._heap
        wake = self._wake
        while True:
            if not heap:
                wake.clear()
                await wake.wait()
                continue
            now = loop.time()
            due = heap[0][0]
            if due > now:
                wake.clear()
                timer = loop.call_at(due, wake.set)
                try:
                    await wake.wait()
                finally:
                    timer.cancel()
                continue
            horizon = now + self.linger
            batch: list[Job] = []
            while heap and heap[0][0] <= horizon:
                batch.extend(heapq.heappop(heap)[2])
            self._dispatch(batch)

    def _dispatch(self, batch: list[Job]) -> None:
        groups: dict[tuple[str, str], list[Job]] = {}
        for job in batch:
            key = (job.kind, job.url)
            group = groups.get(key)
            if group is None:
                groups[key] = [job]
            else:
                group.append(job)
        size = self.bucket_size
        for (kind, url), jobs in groups.items():
            step = 1 if kind == CLICK else size
            for start in range(0, len(jobs), step):
                task = asyncio.create_task(self._post(kind, url, jobs[start : start + step]))
                self._posts.add(task)
                task.add_done_callback(self._posts.discard)

    async def _post(self, kind: str, url: str, jobs: list[Job]) -> None:
        assert self._slots is not None and self._http is not None
        async with self._slots:
            try:
                body = render(kind, jobs, time.time())
            except NotImplementedError:  # the endpoint has no such webhook
                self._finish(jobs)
                return
            except Exception:
                log.exception("simulator: could not render %s for %s", kind, url)
                self.dropped += len(jobs)
                self._finish(jobs)
                return
            problem: Any = None
            try:
                response = await self._http.post(url, content=body, headers=_JSON)
                if not 200 <= response.status_code < 300:
                    problem = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                problem = exc
        if problem is None:
            self.posts += 1
            self.posted += len(jobs)
            self._finish(jobs)
            return
        self.failures += 1
        retry = []
        for job in jobs:
            job.attempt += 1
            if job.attempt < self.max_attempts:
                retry.append(job)
        given_up = len(jobs) - len(retry)
        if given_up:
            log.warning("simulator: gave up posting %d %s to %s: %s", given_up, kind, url, problem)
            self.dropped += given_up
            self._finish([j for j in jobs if j.attempt >= self.max_attempts])
        if retry:
            delay = min(self.max_retry_delay, self.retry_delay * 2 ** (retry[0].attempt - 1))
            log.info("simulator: posting %s to %s failed (%s); retrying in %.2fs", kind, url, problem, delay)
            self._push(asyncio.get_running_loop().time() + delay, retry)

    def _finish(self, jobs: list[Job]) -> None:
        counts = self._outstanding
        completed = []
        for job in jobs:
            mid = job.send.message_id
            left = counts.get(mid, 0) - 1
            if left > 0:
                counts[mid] = left
            else:
                counts.pop(mid, None)
                completed.append(mid)
        if self._waiters and completed:
            for ids, future in self._waiters:
                ids.difference_update(completed)
                if not ids and not future.done():
                    future.set_result(None)
