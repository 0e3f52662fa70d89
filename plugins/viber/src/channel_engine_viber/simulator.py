"""The simulator's `/viber/2/messages`: the core's new-gen endpoint, plus what Viber carries back.

`NewGenEndpoint` already renders Viber's delivery reports, seen reports (to `webhooks.seen.url`), click
notifications for URLs of the text (a caption counts; Infobip tracks URLs of the message body, not the
button's) and Viber's inbound shape (the end user in `sender`). This subclass remembers two message options
Infobip hands back: `trackingData` in the end user's reply (`message.trackingData`) and
`campaignReferenceId` in delivery and seen reports.
"""

from __future__ import annotations

from typing import Any

from msgspec import structs

from channel_engine.simulator import NewGenEndpoint, Outcome, SimulatedSend

from .channels import NAME, SEND_PATH


class ViberSend(SimulatedSend, kw_only=True):
    """One destination of a Viber request, with the options Infobip echoes."""

    tracking_data: str | None = None
    campaign_reference_id: str | None = None


class ViberEndpoint(NewGenEndpoint):
    def __init__(self) -> None:
        super().__init__(SEND_PATH, NAME)

    def __repr__(self) -> str:
        return f"ViberEndpoint({self.path!r})"

    def parse(self, body: dict[str, Any]) -> list[SimulatedSend]:
        sends = iter(super().parse(body))  # raises unless every message and destination is well formed
        out: list[SimulatedSend] = []
        for message in body["messages"]:
            options = message.get("options") if isinstance(message.get("options"), dict) else {}
            echoed = {
                "tracking_data": options.get("trackingData"),
                "campaign_reference_id": options.get("campaignReferenceId"),
            }
            for _ in message["destinations"]:
                out.append(ViberSend(**structs.asdict(next(sends)), **echoed))
        return out

    def delivery_report(
        self, send: SimulatedSend, outcome: Outcome, sent_at: str, done_at: str
    ) -> dict[str, Any]:
        return _with_campaign(send, super().delivery_report(send, outcome, sent_at, done_at))

    def seen_report(self, send: SimulatedSend, sent_at: str, seen_at: str) -> dict[str, Any]:
        return _with_campaign(send, super().seen_report(send, sent_at, seen_at))

    def inbound_message(
        self, send: SimulatedSend, text: str, message_id: str, received_at: str
    ) -> dict[str, Any]:
        entry = super().inbound_message(send, text, message_id, received_at)
        tracking = getattr(send, "tracking_data", None)
        if tracking:
            entry["message"] = {"text": text, "trackingData": tracking, "type": "TEXT"}
        return entry


def _with_campaign(send: SimulatedSend, entry: dict[str, Any]) -> dict[str, Any]:
    campaign = getattr(send, "campaign_reference_id", None)
    if campaign:
        entry["campaignReferenceId"] = campaign
    return entry


def endpoints() -> list[ViberEndpoint]:
    return [ViberEndpoint()]
