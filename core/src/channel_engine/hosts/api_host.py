"""The `api` host: a message sent through `POST /v1/messages` with `host.context.notifyUrl` gets each of
its reports POSTed there as JSON (our normalized report, `raw` left out)."""

from __future__ import annotations

import httpx
import msgspec

from ..models import OutboundMessage, Report

_client: httpx.AsyncClient | None = None
_encoder = msgspec.json.Encoder()


def _http() -> httpx.AsyncClient:
    global _client
    if _client is None or _client.is_closed:
        _client = httpx.AsyncClient(timeout=10.0)
    return _client


def notification_body(report: Report, message: OutboundMessage | None) -> bytes:
    body = msgspec.to_builtins(report)
    body.pop("raw", None)
    if message is not None:
        body["hostContext"] = {k: v for k, v in message.host.context.items() if k != "notifyUrl"}
    return _encoder.encode(body)


async def deliver_to_notify_url(report: Report, message: OutboundMessage | None) -> None:
    url = message.host.context.get("notifyUrl") if message is not None else None
    if not url:
        return
    response = await _http().post(
        url, content=notification_body(report, message), headers={"Content-Type": "application/json"}
    )
    if response.status_code >= 300:
        raise RuntimeError(f"notifyUrl answered HTTP {response.status_code}")
