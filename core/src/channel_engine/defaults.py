"""The core's own hook implementations: fallbacks that any plugin overrides (all `trylast`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .hookspecs import hookimpl
from .hosts.api_host import deliver_to_notify_url
from .models import OutboundMessage, ProviderRequest, Report, SendOutcome
from .registry import Host
from .reports import parse_generic_report, parse_send_statuses


@hookimpl(trylast=True)
def register_hosts(register: Callable[[Host], None]) -> None:
    register(Host("api", "Channel Engine's own HTTP API; reports are POSTed to the message's notifyUrl"))


@hookimpl(trylast=True)
def parse_send_response(channel: str, request: ProviderRequest, body: dict[str, Any]) -> list[SendOutcome]:
    return parse_send_statuses(request, body)


@hookimpl(trylast=True)
def normalize_report(channel: str, kind: str, payload: dict[str, Any]) -> list[Report]:
    return parse_generic_report(channel, kind, payload)


@hookimpl(trylast=True)
def deliver_report(host: str, report: Report, message: OutboundMessage | None) -> Awaitable[None] | None:
    if host != "api":
        return None
    return deliver_to_notify_url(report, message)
