"""What plugins register: channels (how to reach people) and hosts (who sends through us)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Channel:
    """A messaging channel a plugin provides.

    `product` names Infobip's API family (the spec file the payloads conform to, `sms` for SMS and LMS);
    `max_batch` is how many messages one provider request may carry."""

    name: str
    product: str
    description: str = ""
    max_batch: int = 1000
    plugin: str = field(default="", compare=False)


@dataclass(frozen=True)
class Host:
    """A platform that sends messages through the engine and gets their reports back."""

    name: str
    description: str = ""
    # True: the host also gets a SENT report when Infobip accepts each of its messages (Bloomreach tracks
    # "enqueued"); others hear only of what Infobip reports later, and of failures.
    sent_reports: bool = False
    plugin: str = field(default="", compare=False)
