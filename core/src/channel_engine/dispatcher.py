"""The dispatcher: takes due messages from the store and sends them to Infobip in batches.

- Batches: messages are grouped by channel and account, and the channel packs each group into as few
  requests as its API allows.
- Retries: network errors, 429 (honouring Retry-After) and 5xx put the request's messages back in the
  queue with exponential backoff and jitter; a 4xx that names messages fails only those and sends the rest
  again; any other 4xx fails the request's messages with Infobip's reason.
- Exactly once: every destination carries our message id as its messageId. A message is SENDING under a
  lease while in flight; if the process dies, the lease ends and it is sent again with the same id. Infobip
  (and the simulator) answer a repeated id with REJECTED_DUPLICATE_MESSAGE_ID, which on a repeat attempt
  means the earlier attempt got through.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .errors import ChannelEngineError, ProviderError
from .metrics import Metrics
from .models import OutboundMessage, ProviderRequest, QueuedMessage, SendOutcome, WebhookUrls
from .plugins import Plugins
from .provider import Account, Accounts, ProviderClient
from .store import Store

log = logging.getLogger("channel_engine.dispatcher")

DUPLICATE_ID = "REJECTED_DUPLICATE_MESSAGE_ID"
_MESSAGE_INDEX = re.compile(r"messages\[(\d+)\]")


@dataclass(frozen=True)
class RetryPolicy:
    base: float = 1.0
    cap: float = 300.0
    max_attempts: int = 12

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        """Exponential backoff with full jitter, never shorter than the provider's Retry-After."""
        backoff = min(self.cap, self.base * 2 ** max(0, attempts - 1))
        delay = random.uniform(backoff / 2, backoff)
        return max(delay, retry_after or 0.0)


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel the tasks and wait until they have ended, cancelling again any that runs on. On Python 3.11,
    asyncio.wait_for (which redis-py uses to send every command) can swallow a cancellation that arrives as
    the send completes; a loop that swallowed one would run on and never let the process stop."""
    ending = set(tasks)
    pending = ending
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.1)
    await asyncio.gather(*ending, return_exceptions=True)  # collect how they ended


class Dispatcher:
    def __init__(
        self,
        store: Store,
        plugins: Plugins,
        provider: ProviderClient,
        accounts: Accounts,
        webhook_urls: Callable[[str], WebhookUrls],
        metrics: Metrics,
        *,
        batch: int = 2000,
        lease: float = 30.0,
        concurrency: int = 8,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        poll: float = 1.0,
        linger: float = 0.02,
        stop_grace: float = 10.0,
        reload_accounts: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.store = store
        # Another process (a host plugin's configuration API) may have stored an account this one has not
        # loaded: a message naming an unknown account reloads them once before it fails.
        self.reload_accounts = reload_accounts
        self.plugins = plugins
        self.provider = provider
        # Look at the store at least this often: on a shared store, other processes queue messages that
        # nobody wakes this one for (an intake-only node, or a sender that died).
        self.poll = poll
        # After a claim that found less than a full batch, the next one waits until `linger` seconds after
        # it: a steady stream goes out in fewer, larger requests (at 1,000 messages a second, about ten a
        # request instead of two or three, each request costing the event loop more than its messages),
        # for at most `linger` (20 ms) more on a message's way out. A full claim is followed at once.
        self.linger = linger
        self._next_claim = 0.0  # loop time
        self.stop_grace = stop_grace
        self.accounts = accounts
        self.webhook_urls = webhook_urls
        self.metrics = metrics
        self.batch = batch
        self.lease = lease
        self.retry = retry or RetryPolicy()
        self.clock = clock
        self._slots = asyncio.Semaphore(concurrency)
        self.max_groups = concurrency * 2
        self._streaks: dict[str, int] = {}  # account -> requests failed in a row (429, 5xx, network)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        # Hosts that asked to hear when Infobip accepts their messages (a SENT report in their outbox).
        self.sent_report_hosts = frozenset(h.name for h in plugins.hosts.values() if h.sent_reports)

    # -- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        recovered = await self.store.recover(self.clock())
        if recovered:
            log.info("re-queued %d message(s) left in flight by a previous run", recovered)
        self._task = asyncio.create_task(self._run(), name="dispatcher")

    async def stop(self) -> None:
        if self._task:
            await cancel_and_wait([self._task])
        if self._in_flight:
            # Let sends in flight finish, but not forever (a provider that stopped answering would hold
            # the shutdown for its whole timeout): what is cut off comes back when its lease ends, with
            # the same message id.
            _, unfinished = await asyncio.wait(set(self._in_flight), timeout=self.stop_grace)
            await cancel_and_wait(unfinished)

    def wake(self) -> None:
        """New messages are queued: look now rather than at the next planned time."""
        self._wake.set()

    # -- the loop ----------------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                claimed = await self._claim_when_due()
                self._dispatch(claimed)
            except asyncio.CancelledError:
                raise
            except Exception:  # keep the loop alive; the store's leases make every message come back
                log.exception("dispatcher loop failed; retrying in 1 s")
                await asyncio.sleep(1.0)

    async def _claim_when_due(self) -> list[QueuedMessage]:
        while True:
            self._wake.clear()
            # Claim only what can go out soon, so no claimed message outlives its lease in our queue.
            while len(self._in_flight) >= self.max_groups:
                await asyncio.wait(set(self._in_flight), return_when=asyncio.FIRST_COMPLETED)
            loop = asyncio.get_running_loop()
            if (lingering := self._next_claim - loop.time()) > 0:
                await asyncio.sleep(lingering)
            claimed_at = loop.time()
            claimed = await self.store.claim(self.clock(), self.batch, self.lease)
            # (After an empty claim there is nothing to join: the next message goes as soon as it comes.)
            self._next_claim = claimed_at + self.linger if 0 < len(claimed) < self.batch else 0.0
            if claimed:
                return claimed
            due = await self.store.next_due()
            timeout = self.poll if due is None else min(self.poll, max(0.0, due - self.clock()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def _dispatch(self, claimed: list[QueuedMessage]) -> None:
        groups: dict[tuple[str, str | None], list[QueuedMessage]] = defaultdict(list)
        for queued in claimed:
            groups[(queued.message.channel, queued.message.account)].append(queued)
        for (channel, account), items in groups.items():
            task = asyncio.create_task(self._send_group(channel, account, items))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _send_group(self, channel: str, account_name: str | None, items: list[QueuedMessage]) -> None:
        now = self.clock()
        if account_name is not None and account_name not in self.accounts and self.reload_accounts:
            await self.reload_accounts()
        try:
            account = self.accounts.get(account_name)
            messages = [self._shortened(q.message) for q in items]
            requests = self.plugins.hook.build_payload(
                channel=channel, messages=messages, webhooks=self.webhook_urls(channel)
            )
            if requests is None:
                raise ChannelEngineError(f"no installed plugin builds payloads for channel {channel!r}")
        except ChannelEngineError as exc:
            await self.store.mark_failed([(q.message.id or "", exc.message) for q in items], now)
            self.metrics.failed += len(items)
            return
        attempts = {q.message.id: q.attempts for q in items}
        await asyncio.gather(*(self._send_request(channel, account, r, attempts) for r in requests))

    def _shortened(self, message: OutboundMessage) -> OutboundMessage:
        return self.plugins.hook.shorten_urls(message=message) or message

    async def _send_request(
        self, channel: str, account: Account, request: ProviderRequest, attempts: dict[str | None, int]
    ) -> None:
        async with self._slots:
            started = time.perf_counter()
            try:
                body = await self.provider.send(account, request)
            except ProviderError as exc:
                self.metrics.observe_provider(time.perf_counter() - started, ok=False)
                if exc.retryable:
                    self._streaks[account.name] = self._streaks.get(account.name, 0) + 1
                await self._provider_failed(request, exc, attempts, self._streaks.get(account.name, 1))
                return
            self.metrics.observe_provider(time.perf_counter() - started, ok=True)
            self._streaks[account.name] = 0
        outcomes = self.plugins.hook.parse_send_response(channel=channel, request=request, body=body)
        await self._record_outcomes(request, outcomes or [], attempts)

    async def _record_outcomes(
        self, request: ProviderRequest, outcomes: list[SendOutcome], attempts: dict[str | None, int]
    ) -> None:
        now = self.clock()
        sent: list[SendOutcome] = []
        failed: list[tuple[str, str]] = []
        answered = set()
        for outcome in outcomes:
            answered.add(outcome.message_id)
            repeat = attempts.get(outcome.message_id, 1) > 1
            if outcome.accepted or (repeat and outcome.status_name == DUPLICATE_ID):
                sent.append(outcome)
            else:
                failed.append((outcome.message_id, _reason(outcome)))
        unanswered = [mid for mid in request.message_ids if mid not in answered]
        if sent:
            await self.store.mark_sent(sent, now, self.sent_report_hosts)
            self.metrics.sent += len(sent)
        if failed:
            await self.store.mark_failed(failed, now)
            self.metrics.failed += len(failed)
        if unanswered:  # Infobip did not mention them: send again rather than guess
            await self._retry(unanswered, "the provider's answer did not list these messages", attempts)

    async def _provider_failed(
        self, request: ProviderRequest, exc: ProviderError, attempts: dict[str | None, int], streak: int
    ) -> None:
        ids = request.message_ids
        if exc.retryable:
            await self._retry(ids, exc.message, attempts, retry_after=exc.retry_after, streak=streak)
            return
        named = {}
        for prop, violation in exc.violations:
            match = _MESSAGE_INDEX.search(prop)
            if match and int(match.group(1)) < len(ids):
                named[ids[int(match.group(1))]] = f"{exc.message.split(' (')[0]} {prop}: {violation}"
        now = self.clock()
        if named and len(named) < len(ids):
            # Only some messages are at fault: fail those, send the others again right away.
            await self.store.mark_failed(list(named.items()), now)
            self.metrics.failed += len(named)
            others = [mid for mid in ids if mid not in named]
            await self.store.retry_later(others, now, "sent again without the refused messages", now)
            self.wake()
            return
        await self.store.mark_failed([(mid, named.get(mid, exc.message)) for mid in ids], now)
        self.metrics.failed += len(ids)

    async def _retry(
        self,
        ids: list[str],
        reason: str,
        attempts: dict[str | None, int],
        retry_after: float | None = None,
        streak: int = 1,
    ) -> None:
        """Back to the queue, or failed for good after `max_attempts`. The backoff grows with the account's
        run of failed requests (429 and 5xx are about the account, not the message), so one bad moment
        does not slow every later batch that happens to share a message with it."""
        now = self.clock()
        give_up = [mid for mid in ids if attempts.get(mid, 1) >= self.retry.max_attempts]
        if give_up:
            await self.store.mark_failed(
                [(mid, f"gave up after {self.retry.max_attempts} attempts: {reason}") for mid in give_up], now
            )
            self.metrics.failed += len(give_up)
        again = [mid for mid in ids if attempts.get(mid, 1) < self.retry.max_attempts]
        if again:
            delay = self.retry.delay(streak, retry_after)
            log.info("sending %d message(s) again in %.1f s: %s", len(again), delay, reason)
            await self.store.retry_later(again, now + delay, reason, now)
            self.metrics.retried += len(again)
            self.wake()  # the loop may be asleep until a later due time: let it plan for this one


def _reason(outcome: SendOutcome) -> str:
    name = outcome.status_name or outcome.status_group or "REJECTED"
    return f"{name}: {outcome.description}" if outcome.description else name
