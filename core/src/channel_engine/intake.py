"""Accepting messages: decode, validate through the channel hooks, store durably, wake the dispatcher.

Every host goes through `Intake.submit`, so a message is checked the same way whichever platform sent it.
Each message is judged on its own: the good ones of a batch are accepted even when others are refused.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import msgspec

from .metrics import Metrics
from .models import OutboundMessage, Problem, message_decoder
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
    return f"{time.time_ns() // 1_000_000:012x}{_ids.getrandbits(80):020x}"


class Verdict(msgspec.Struct, omit_defaults=True):
    """What happened to one submitted message: its id when accepted, its problems when refused."""

    index: int
    id: str | None = None
    problems: list[Problem] = msgspec.field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.problems


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
        """Decode and validate one message, given as JSON bytes (`msgspec.Raw`) or as plain data."""
        try:
            if isinstance(raw, msgspec.Raw | bytes):
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
        found: list[Problem] = []
        for answer in self.plugins.hook.validate_message(message=message):
            found.extend(answer)
        if path != "$":
            found = [
                msgspec.structs.replace(p, path=path + p.path[1:]) if p.path.startswith("$") else p
                for p in found
            ]
        return found

    async def submit(self, raws: list[Any], path: str | None = "$.messages") -> list[Verdict]:
        """Validate each message, store the good ones in one durable write, and say what became of each.

        Problem paths start at `path[i]`; with `path=None` (one message sent on its own) at `$`."""
        verdicts: list[Verdict] = []
        accepted: list[OutboundMessage] = []
        for i, raw in enumerate(raws):
            message, problems = self.check(raw, f"{path}[{i}]" if path else "$")
            if problems or message is None:
                verdicts.append(Verdict(index=i, problems=problems))
                continue
            if message.id is None:
                message = msgspec.structs.replace(message, id=new_message_id())
            accepted.append(message)
            verdicts.append(Verdict(index=i, id=message.id))
        if accepted:
            await self.store.enqueue(accepted, self.clock())
            self.on_accepted()
        self.metrics.accepted += len(accepted)
        self.metrics.rejected += len(raws) - len(accepted)
        return verdicts
