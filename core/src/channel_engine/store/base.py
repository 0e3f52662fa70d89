"""The store contract: everything the engine keeps, behind one interface with two implementations
(SQLite for one machine, Redis for many processes). Callers never know which one they hold.

Every write returns only once it is durable, so an accepted message survives a crash. Times are Unix
seconds (floats) passed in by the caller, which keeps the stores free of clocks and the tests exact.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from ..models import (
    DataEntry,
    MessageView,
    OutboundMessage,
    OutboxItem,
    QueuedMessage,
    Report,
    SendOutcome,
)

# How long a message's `retry_key` is remembered, in seconds at least (and at most twice as long). Journey
# Builder's retries of an execute come within 44 seconds of the first try with the timeout and retries that
# our activity's config.json asks for (10 seconds, 3 retries 1 second apart); the rest is margin. The
# SQLite store keeps the window's keys in its writer's memory: about 110 bytes each, so at most 26 MB at a
# steady 1,000 messages a second.
RETRY_WINDOW = 120.0


def wants_reports(message: OutboundMessage) -> bool:
    """Whether a message's reports go into the outbox for its host.

    Our own API's messages only do when the caller gave a `notifyUrl` to be called back on; every other
    host gets every report."""
    return message.host.name != "api" or bool(message.host.context.get("notifyUrl"))


class Store(ABC):
    """What the engine stores: the message queue, reports with each message's timeline, the outbox of
    reports owed to hosts, provider accounts (as ciphertext: the store never sees a secret) and the plugins'
    own key-value data."""

    @abstractmethod
    async def open(self) -> None:
        """Connect and create what is missing (tables, indexes)."""

    @abstractmethod
    async def close(self) -> None:
        """Flush pending writes and release connections."""

    # -- the queue -------------------------------------------------------------------------------------

    @abstractmethod
    async def enqueue(
        self, messages: list[OutboundMessage], now: float, data: Sequence[DataEntry] = ()
    ) -> dict[str, str]:
        """Durably store accepted messages (each has its `id`) as QUEUED, with an ACCEPTED timeline entry,
        and `data` (as `put_data` stores it) in the same write: a host's lookup of a message is stored
        exactly when the message is, so not when every message was stored before under its idempotency
        key (a retried request). With no messages nothing is written.

        A message whose `idempotency_key` is stored already is not stored; the answer maps each key of
        `messages` to the id of the message stored under it (this one's, or the earlier one's). Two
        messages with one key in a call are one message: the first. A `retry_key` is the same for
        `RETRY_WINDOW` seconds after its message was accepted (by `now`), and forgotten by twice that:
        the answer maps it too, and a message with the key after that is a new message.

        A message with `options.speed_limit` is due at `max(now, previous due of its key + interval)`, where
        the key is `speed_limit.key` (or the bulk id, else the host name) plus amount and unit; the last due
        time of each key is stored too, so spacing holds across restarts and processes. Others are due now.
        Ids already stored are ignored (a retried intake stores nothing twice)."""

    @abstractmethod
    async def claim(self, now: float, limit: int, lease: float) -> list[QueuedMessage]:
        """Take up to `limit` messages that are due (QUEUED with due time <= now, or SENDING whose lease
        ended), earliest due first; mark them SENDING until `now + lease` and count the attempt."""

    @abstractmethod
    async def recover(self, now: float) -> int:
        """At start-up: make messages left SENDING by a process that died due again, at once instead of
        when their leases end. Only a store no other process has open does this (others' messages in
        flight are theirs); it returns how many it made due, 0 when it was not alone."""

    @abstractmethod
    async def mark_sent(
        self, outcomes: list[SendOutcome], now: float, report_hosts: frozenset[str] = frozenset()
    ) -> None:
        """The provider accepted these messages: SENT, with the provider's status in the timeline.

        Each one whose host is in `report_hosts`, that `wants_reports` and has no final status yet, gets an
        outbox item in the same transaction: a Report of kind SENT with the message's channel, id and
        destination and the provider's status group, name and message count."""

    @abstractmethod
    async def mark_failed(self, failures: list[tuple[str, str]], now: float) -> None:
        """These messages (id, reason) failed for good: FAILED, with the reason kept. Each one that
        `wants_reports` (and has no final status yet) gets an outbox item for its host, in the same
        transaction: a Report of kind FAILED with the message's channel, id and destination and the reason
        as `error_description`, so the host learns of it like of any other outcome."""

    @abstractmethod
    async def retry_later(self, ids: list[str], due_at: float, reason: str, now: float) -> None:
        """Sending failed in a way worth retrying: back to QUEUED, due at `due_at`; a RETRY timeline entry."""

    @abstractmethod
    async def next_due(self) -> float | None:
        """The earliest due time of a QUEUED message (or lease end of a SENDING one), None when idle."""

    # -- reports -----------------------------------------------------------------------------------------

    @abstractmethod
    async def record_reports(self, reports: list[Report], now: float) -> list[Report]:
        """Store reports idempotently and return the ones that were new.

        A report whose `dedupe_key()` is stored already changes nothing. A report updates its message's
        status unless the message already has a final status and the report's is not final (a final
        status never regresses). An INBOUND report gets `paired_message_id` set to the latest message sent
        to its sender, when there is one. Every new report whose message `wants_reports` gets an outbox
        item for the message's host, in the same transaction. Reports for unknown messages are kept too."""

    @abstractmethod
    async def get_message(self, message_id: str) -> MessageView | None:
        """The message's state, latest provider status and whole timeline, or None."""

    # -- the outbox -------------------------------------------------------------------------------------

    @abstractmethod
    async def claim_outbox(self, now: float, limit: int, lease: float) -> list[OutboxItem]:
        """Take up to `limit` outbox items that are due, hidden from other claimers until `now + lease`."""

    @abstractmethod
    async def ack_outbox(self, ids: list[int]) -> None:
        """The host has these items: delete them."""

    @abstractmethod
    async def retry_outbox(self, item_id: int, due_at: float, error: str) -> None:
        """Handing the item over failed: try again at `due_at`; count the attempt and keep the error."""

    # -- accounts ------------------------------------------------------------------------------------

    @abstractmethod
    async def put_account(self, name: str, sealed: bytes) -> None:
        """Store (or replace) a provider account, already encrypted by the caller."""

    @abstractmethod
    async def get_accounts(self) -> dict[str, bytes]:
        """Every stored account, still encrypted, by name."""

    @abstractmethod
    async def delete_account(self, name: str) -> bool:
        """Remove an account; False when there was none by that name."""

    # -- plugins' own data ---------------------------------------------------------------------------

    @abstractmethod
    async def put_data(
        self, namespace: str, key: str, value: bytes, now: float, ttl: float | None = None
    ) -> None:
        """Store (or replace) a plugin's value under (namespace, key); with `ttl`, it is gone `ttl`
        seconds after `now`. Values are opaque bytes: a plugin seals its secrets before they get here."""

    @abstractmethod
    async def add_data(
        self, namespace: str, key: str, value: bytes, now: float, ttl: float | None = None
    ) -> bool:
        """Store a value only if the key has no live value, atomically across processes: True when it was
        stored. What a plugin claims work or remembers a seen id with (of many callers, exactly one wins)."""

    @abstractmethod
    async def get_data(self, namespace: str, key: str, now: float) -> bytes | None:
        """The value, or None when there is none or it expired before `now`."""

    @abstractmethod
    async def list_data(self, namespace: str, now: float) -> dict[str, bytes]:
        """Every live value of a namespace, by key (for small namespaces, such as configurations)."""

    @abstractmethod
    async def delete_data(self, namespace: str, key: str) -> bool:
        """Remove a value; False when there was none."""

    # -- numbers for /metrics --------------------------------------------------------------------------

    @abstractmethod
    async def stats(self) -> dict[str, int]:
        """Counts: `queued` (QUEUED + SENDING), `outbox`, and `state_<STATE>` for every message state."""
