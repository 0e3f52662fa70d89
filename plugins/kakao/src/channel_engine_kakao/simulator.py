"""The simulator's `/kakao-alim/1/messages` and `/kakao-chingu/1/messages`: the core's new-gen endpoint, told
what Kakao lacks.

Kakao shares the new-gen envelope and delivery report shape with SMS v3, so the core's `NewGenEndpoint`
reads our requests and renders the 200 answer and the delivery reports. This subclass adds what the spec
requires of Kakao (a `sender` on every message, a `content.type`) and sends no inbound message, ever: the
destinations ending 998 are delivered without a reply, since AlimTalk and ChinguTalk have none. AlimTalk has
no URL tracking, so it renders no click either; ChinguTalk's clicks are the core's flat notification.

This module imports the simulator; the plugin loads it only when the simulator asks.
"""

from __future__ import annotations

from typing import Any

from channel_engine.simulator import NewGenEndpoint, RequestViolation, SimulatedSend

from .channels import ALIM, CHANNELS, SEND_PATHS


class KakaoEndpoint(NewGenEndpoint):
    """One Kakao send path: `KakaoEndpoint("/kakao-chingu/1/messages", "kakao-chingu")`."""

    def parse(self, body: dict[str, Any]) -> list[SimulatedSend]:
        violations: list[tuple[str, str]] = []
        messages = body.get("messages")
        for i, message in enumerate(messages if isinstance(messages, list) else []):
            if not isinstance(message, dict):
                continue  # the core names it
            sender = message.get("sender")
            if not isinstance(sender, str) or not sender.strip():
                violations.append((f"messages[{i}].sender", "must not be blank"))
            content = message.get("content")
            if isinstance(content, dict) and not content.get("type"):
                violations.append((f"messages[{i}].content.type", "must not be null"))
        try:
            sends = super().parse(body)
        except RequestViolation as error:
            raise RequestViolation(error.violations + violations) from None
        if violations:
            raise RequestViolation(violations)
        return sends

    def click_report(self, send: SimulatedSend, url: str, clicked_ms: int) -> dict[str, Any]:
        if self.channel == ALIM.name:
            raise NotImplementedError("AlimTalk tracks no URLs")
        return super().click_report(send, url, clicked_ms)

    def inbound_message(
        self, send: SimulatedSend, text: str, message_id: str, received_at: str
    ) -> dict[str, Any]:
        raise NotImplementedError(f"{self.channel} has no inbound messages")


def endpoints() -> list[KakaoEndpoint]:
    return [KakaoEndpoint(SEND_PATHS[channel.name], channel.name) for channel in CHANNELS]
