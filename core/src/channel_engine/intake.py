"""Accepting messages: decode, validate through the channel hooks, store durably, wake the dispatcher.

Every host goes through `Intake.submit`, so a message is checked the same way whichever platform sent it.
Each message is judged on its own: the good ones of a batch are accepted even when others are refused.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from .metrics import Metrics
from .models import DataEntry, OutboundMessage, Problem, message_decoder
from .plugins import Plugins
from .problems import from_decode_error, problem
from .store import Store

MAX_BATCH = 10_000
# Random bits come from a generator seeded once from the OS (and reseeded in forked children by the random
# module): a system call per id costs more than the rest of intake.
_ids = random.Random()


def new_message_id() -> str:
    """32 hex digits: 48 bits of Unix milliseconds, then 80 random bits (the layout of a UUIDv7).

    Ids that grow with time land at the right edge of the store's indexes: a batch of new messages dirties a
    page or two instead of one page per message, which halves the bytes each intake commit writes."""
    return "%032x" % (time.time_ns() // 1_000_000 << 80 | _ids.getrandbits(80))


class Verdict(msgspec.Struct, omit_defaults=True):
    """What happened to one submitted message: its id when accepted, its problems when refused. Warnings
    alone do not refuse a message; an accepted message keeps them to show the sender."""

    index: int
    id: str | None = None
    problems: list[Problem] = msgspec.field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.id is not None


def refuses(problems: list[Problem]) -> bool:
    """Whether any of these problems is an error (warnings never refuse)."""
    return any(p.severity == "error" for p in problems)


class Intake:
    def __init__(
        self,
        store: Store,
        plugins: Plugins,
        metrics: Metrics,
        on_accepted: Callable[[], None],
        accounts: Callable[[], set[str]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.plugins = plugins
        self.metrics = metrics
        self.on_accepted = on_accepted
        self.accounts = accounts
        self.clock = clock

    def check(self, raw: Any, path: str) -> tuple[OutboundMessage | None, list[Problem]]:
        """Decode and validate one message, given as JSON bytes (`msgspec.Raw`), plain data or a model."""
        try:
            if isinstance(raw, OutboundMessage):  # a host plugin's own, already built
                message = raw
            elif isinstance(raw, msgspec.Raw | bytes):
                message = message_decoder.decode(raw)
            else:
                message = msgspec.convert(raw, OutboundMessage)
        except msgspec.DecodeError as exc:  # ValidationError is a DecodeError too
            return None, [from_decode_error(exc, path)]
        return message, self.validate(message, path)

    def validate(self, message: OutboundMessage, path: str = "$") -> list[Problem]:
        if message.channel not in self.plugins.channels:
            known = ", ".join(sorted(self.plugins.channels)) or "none installed"
            return [
                problem(
                    "unknown_channel",
                    f"{path}.channel",
                    f"no channel called {message.channel!r} (known: {known})",
                )
            ]
        if message.account is not None and message.account not in self.accounts():
            return [
                problem("invalid_field", f"{path}.account", f"no Infobip account called {message.account!r}")
            ]
        found = self.plugins.validate(message)
        return [_under(p, path) for p in found] if found and path != "$" else found

    async def inspect(self, raws: list[Any], path: str | None = "$.messages") -> list[Verdict]:
        """Everything `submit` checks plus the plugins' network checks (`check_message`), storing nothing:
        for a host to try a message design before it saves it."""
        verdicts: list[Verdict] = []
        for i, raw in enumerate(raws):
            at = f"{path}[{i}]" if path else "$"
            message, problems = self.check(raw, at)
            if message is not None and message.channel in self.plugins.channels:
                checks = [c for c in self.plugins.hook.check_message(message=message) if c is not None]
                for found in await asyncio.gather(*checks):
                    problems += [_under(p, at) for p in found]
            verdicts.append(Verdict(index=i, problems=problems))
        return verdicts

    async def submit(
        self,
        raws: list[Any],
        path: str | None = "$.messages",
        checked: list[list[Problem]] | None = None,
        data: Sequence[DataEntry] = (),
    ) -> list[Verdict]:
        """Validate each message, store the good ones in one durable write, and say what became of each.

        Problem paths start at `path[i]`; with `path=None` (one message sent on its own) at `$`. `checked`:
        what `validate` found for each message (models only), when the caller has just asked it; they are
        then not judged twice. `data` is stored in the same write when any message is accepted."""
        verdicts: list[Verdict] = []
        accepted: list[OutboundMessage] = []
        for i, raw in enumerate(raws):
            if checked is not None and isinstance(raw, OutboundMessage):
                message, problems = raw, checked[i]
            else:
                message, problems = self.check(raw, f"{path}[{i}]" if path else "$")
            if message is None or refuses(problems):
                verdicts.append(Verdict(index=i, problems=problems))
                continue
            if message.id is None:
                message = msgspec.structs.replace(message, id=new_message_id())
            accepted.append(message)
            verdicts.append(Verdict(index=i, id=message.id, problems=problems))
        if accepted:
            stored = await self.store.enqueue(accepted, self.clock(), data)
            if stored:  # a keyed message answers the id stored under its key: the first request's
                for verdict, message in zip((v for v in verdicts if v.id is not None), accepted, strict=True):
                    key = message.idempotency_key or message.retry_key
                    if key:
                        verdict.id = stored[key]
            self.on_accepted()
        self.metrics.accepted += len(accepted)
        self.metrics.rejected += len(raws) - len(accepted)
        return verdicts


def _under(found: Problem, path: str) -> Problem:
    """A plugin's problem (its path starts at `$`, the message) placed under the message's own path."""
    if path == "$" or not found.path.startswith("$"):
        return found
    return msgspec.structs.replace(found, path=path + found.path[1:])
