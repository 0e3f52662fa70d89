"""`HostServices.submit(messages, checked=..., data=...)`: a host that asked `check` first hands its answers
over, and the engine judges each message by them instead of validating it again. Accepted exactly as without
`checked`, refused without storing, and answered per message in a batch. `data` is the host's own values,
stored with accepted messages only.

The engine here is a real one on a SQLite store in the test's directory, with a test channel ("pigeon")
whose validation counts its calls; nothing is dispatched (the engine is not started), so what is stored
stays as intake left it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from channel_engine import Channel, ChannelPlugin, OutboundMessage
from channel_engine.config import Settings
from channel_engine.engine import Engine
from channel_engine.hosting import HostServices
from channel_engine.models import Problem
from channel_engine.plugins import get_plugin_manager
from channel_engine.problems import problem, warning
from channel_engine.secret_box import SecretBox, new_key


class Pigeon:
    """A channel whose validation refuses a message without a destination, warns about a long text, and
    counts how often it ran."""

    def __init__(self) -> None:
        self.validations = 0
        self.plugin = ChannelPlugin(
            [Channel(name="pigeon", product="sms")],
            validate=self.validate,
            build=lambda channel, messages, webhooks: [],
            normalize=lambda channel, kind, payload: [],
        )

    def validate(self, message: OutboundMessage) -> list[Problem]:
        self.validations += 1
        found = []
        if not message.destination:
            found.append(problem("missing_destination", "$.destination", "a pigeon needs somewhere to fly"))
        if len(str((message.content or {}).get("text", ""))) > 20:
            found.append(warning("invalid_field", "$.content.text", "a long text tires the pigeon"))
        return found


@pytest.fixture
def pigeon() -> Pigeon:
    return Pigeon()


@pytest.fixture
async def services(tmp_path: Path, pigeon: Pigeon) -> AsyncIterator[HostServices]:
    engine = Engine(
        Settings(data_dir=tmp_path),
        plugins=get_plugin_manager([pigeon.plugin], entry_points=False),
        box=SecretBox(new_key().encode()),
    )
    await engine.store.open()
    try:
        yield engine.services
    finally:
        await engine.store.close()


def message(id: str, destination: str | None = "41793026727", text: str = "coo") -> OutboundMessage:
    return msgspec.convert(
        {"id": id, "channel": "pigeon", "destination": destination, "content": {"text": text}},
        OutboundMessage,
    )


async def test_a_checked_message_is_accepted_exactly_as_without_checked(
    services: HostServices, pigeon: Pigeon
) -> None:
    text = "a text long enough to warn about"
    checked_first = message("checked-first", text=text)
    problems = services.check(checked_first)
    assert [p.severity for p in problems] == ["warning"]  # a warning refuses nothing, and is kept
    [with_checked] = await services.submit([checked_first], checked=[problems])
    [without] = await services.submit([message("not-checked", text=text)])

    assert with_checked.accepted and with_checked.id == "checked-first"
    assert without.accepted and without.id == "not-checked"
    assert with_checked.problems == without.problems == problems
    assert pigeon.validations == 2  # check once, then submit without checked once: never twice for one

    stored = [await services.message(id) for id in ("checked-first", "not-checked")]
    views = [view for view in stored if view is not None]
    assert len(views) == 2
    assert [[entry.event for entry in view.timeline] for view in views] == [["ACCEPTED"], ["ACCEPTED"]]
    # Apart from id and time, the two are stored alike: channel, destination, state, host.
    alike = [msgspec.structs.replace(view, id="", created_at=0.0, timeline=[]) for view in views]
    assert alike[0] == alike[1] and alike[0].destination == "41793026727" and alike[0].state == "QUEUED"


async def test_a_message_refused_by_check_is_refused_without_storing(
    services: HostServices, pigeon: Pigeon
) -> None:
    refused = message("no-destination", destination=None)
    problems = services.check(refused)
    assert [(p.severity, p.path) for p in problems] == [("error", "$.destination")]
    [verdict] = await services.submit([refused], checked=[problems])
    assert not verdict.accepted and verdict.id is None and verdict.problems == problems
    assert await services.message("no-destination") is None
    assert pigeon.validations == 1  # refused on check's answer, not validated again


async def test_a_batch_with_checked_answers_per_message(services: HostServices, pigeon: Pigeon) -> None:
    batch = [message("first"), message("nowhere", destination=None), message("third", text="x" * 30)]
    checked = [services.check(m) for m in batch]
    verdicts = await services.submit(batch, checked=checked)

    assert [v.index for v in verdicts] == [0, 1, 2]
    assert [v.id for v in verdicts] == ["first", None, "third"]
    assert [v.problems for v in verdicts] == checked  # each message's own answer, as check gave it
    assert [p.code for p in verdicts[1].problems] == ["missing_destination"]
    assert [p.severity for p in verdicts[2].problems] == ["warning"]
    assert [await services.message(id) is not None for id in ("first", "nowhere", "third")] == [
        True,
        False,
        True,
    ]
    assert pigeon.validations == 3  # once per message, by check


async def test_data_given_with_messages_is_stored_only_with_an_accepted_one(services: HostServices) -> None:
    lookups = services.data("lookups")
    [accepted] = await services.submit([message("kept")], data=[lookups.entry("contact-1", b"kept", ttl=60)])
    [refused] = await services.submit(
        [message("refused", destination=None)], data=[lookups.entry("contact-2", b"refused")]
    )

    assert accepted.accepted and not refused.accepted
    assert await lookups.list() == {"contact-1": b"kept"}  # nothing for the refused message
    assert await services.message("kept") is not None
