"""How the simulator learns an Infobip send endpoint: channels register one `SimulatorEndpoint` per path.

An endpoint reads a request body into `SimulatedSend`s (one per destination) and renders Infobip's answers
in its channel's own formats: the 200 response, delivery reports, click notifications, inbound messages.
The simulator decides outcomes and timing; endpoints only know the wire shapes.
"""

from __future__ import annotations

from typing import Any, Protocol

from msgspec import Struct


class SimulatedSend(Struct, kw_only=True):
    """One destination of one accepted request."""

    message_id: str
    to: str
    sender: str | None = None
    bulk_id: str | None = None
    text: str | None = None
    delivery_url: str | None = None  # where delivery reports go
    seen_url: str | None = None  # where seen reports go (channels with read receipts)
    intermediate_report: bool = False
    tracking_url: str | None = None  # where click notifications go (tracked links only)
    track_clicks: bool = False
    callback_data: str | None = None
    message_count: int = 1
    shorten_url: bool = False  # replace URLs in `text` with short links, as Infobip's `tracking.shortenUrl`
    remove_protocol: bool = False  # short links without "https://"
    custom_domain: str | None = None  # the short links' domain instead of Infobip's


class RequestViolation(ValueError):
    """A malformed request, as Infobip's 400 names it: one `(property, violation)` pair per problem.

    `property` is the JSON path in Infobip's notation, e.g. `messages[0].destinations[0].to`."""

    def __init__(self, violations: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{p}: {v}" if p else v for p, v in violations))
        self.violations = violations


class Outcome(Struct, kw_only=True, frozen=True):
    """A status as Infobip names it: group and status, and the error that explains it."""

    group_id: int
    group_name: str
    id: int
    name: str
    description: str
    error_group_id: int = 0
    error_group_name: str = "OK"
    error_id: int = 0
    error_name: str = "NO_ERROR"
    error_description: str = "No Error"
    error_permanent: bool = False


class SimulatorEndpoint(Protocol):
    """One Infobip send endpoint, as the simulator serves it."""

    path: str  # e.g. "/sms/3/messages"
    channel: str  # the channel name in our webhook URLs, e.g. "sms"

    def parse(self, body: dict[str, Any]) -> list[SimulatedSend]:
        """Read a request body; raise ValueError with Infobip's violation text when it is malformed
        (`RequestViolation` to name the property of each problem)."""

    def response(
        self, sends: list[SimulatedSend], statuses: list[Outcome], bulk_id: str | None
    ) -> dict[str, Any]:
        """The 200 body: one entry per send with its submit status."""

    def delivery_report(
        self, send: SimulatedSend, outcome: Outcome, sent_at: str, done_at: str
    ) -> dict[str, Any]:
        """One `results[]` entry of a delivery report."""

    def seen_report(self, send: SimulatedSend, sent_at: str, seen_at: str) -> dict[str, Any]:
        """One `results[]` entry of a seen report (no status), or raise NotImplementedError when the
        channel has no read receipts."""

    def click_report(self, send: SimulatedSend, url: str, clicked_ms: int) -> dict[str, Any]:
        """A click notification (a whole webhook body), or raise NotImplementedError for no clicks."""

    def inbound_message(
        self, send: SimulatedSend, text: str, message_id: str, received_at: str
    ) -> dict[str, Any]:
        """One `results[]` entry of an inbound message replying to `send`."""
