"""Infobip's calls to us: delivery and seen reports, click notifications and inbound messages.

    POST /webhooks/infobip/{channel}/reports   delivery and seen reports (one URL, as Infobip sends both)
    POST /webhooks/infobip/{channel}/clicks    URL click notifications
    POST /webhooks/infobip/{channel}/inbound   inbound messages

Each call is authenticated, parsed by the channel's `normalize_report` hook, stored idempotently (the
outbox item for the host is written in the same commit) and answered 200 as soon as it is durable.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .api import MsgspecResponse, error, store_failed
from .config import WebhookAuthSettings
from .models import Report

log = logging.getLogger("channel_engine.webhooks")
KINDS = ("reports", "clicks", "inbound")
TOKEN_HEADER = "X-Channel-Engine-Token"
_ALGORITHM_PREFIX = re.compile(r"^(?:hmac[-_]?)?(?:sha-?\d+|md5)=", re.IGNORECASE)
_decoder = msgspec.json.Decoder()


class WebhookAuth:
    """Checks a webhook call: the URL token always (it is in every URL we hand Infobip), plus Basic auth
    and an HMAC signature of the raw body when configured."""

    def __init__(self, settings: WebhookAuthSettings, token: str) -> None:
        self.settings = settings
        self.token = settings.token.reveal() if settings.token else token

    def check(self, request: Request, body: bytes) -> str | None:
        """None when the call is authentic, else the reason (which never contains a secret)."""
        given = request.query_params.get("token") or request.headers.get(TOKEN_HEADER) or ""
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return "missing or wrong webhook token"
        s = self.settings
        if s.basic_user and s.basic_password:
            expected = base64.b64encode(f"{s.basic_user}:{s.basic_password.reveal()}".encode()).decode()
            if not hmac.compare_digest(request.headers.get("authorization", ""), f"Basic {expected}"):
                return "missing or wrong Basic credentials"
        if s.hmac_secret:
            return self._check_signature(request, body)
        return None

    def _check_signature(self, request: Request, body: bytes) -> str | None:
        s = self.settings
        assert s.hmac_secret is not None
        header = next((request.headers[h] for h in s.hmac_headers if h in request.headers), None)
        if header is None:
            return f"missing signature header ({' or '.join(s.hmac_headers)})"
        if signature_matches(s.hmac_secret.reveal().encode(), body, header, s.hmac_algorithm):
            return None
        return "signature does not match the body"


def signature_matches(secret: bytes, body: bytes, signature: str, algorithm: str = "sha256") -> bool:
    """Whether `signature` (a header's value: hex in any case or base64, with or without a "sha256="
    style prefix) is the HMAC of the raw `body` under `secret`, compared in constant time."""
    digest = hmac.new(secret, body, getattr(hashlib, algorithm)).digest()
    return _matches(_ALGORITHM_PREFIX.sub("", signature.strip()), digest)


def _matches(value: str, digest: bytes) -> bool:
    """Hex (any case) or base64 encodings of the expected digest, compared in constant time."""
    candidates = []
    with contextlib.suppress(ValueError):
        candidates.append(bytes.fromhex(value))
    with contextlib.suppress(binascii.Error, ValueError):
        candidates.append(base64.b64decode(value, validate=True))
    return any(hmac.compare_digest(c, digest) for c in candidates)


def webhook_routes(
    auth: WebhookAuth,
    known_channels: Callable[[], set[str]],
    normalize: Callable[[str, str, dict[str, Any]], tuple[list[Report], list[tuple[int, str]]]],
    record: Callable[[list[Report]], Any],
) -> list[Route]:
    """The webhook routes; `record` stores reports and returns (new, duplicates)."""

    async def receive(request: Request) -> Response:
        channel = request.path_params["channel"]
        kind = request.path_params["kind"]
        if kind not in KINDS:
            return error(404, f"unknown webhook kind {kind!r}; use one of {', '.join(KINDS)}")
        if channel not in known_channels():
            return error(404, f"no installed channel is called {channel!r}")
        body = await request.body()
        reason = auth.check(request, body)
        if reason:
            log.warning("refused a %s webhook call for %s: %s", kind, channel, reason)
            return error(401, reason)
        try:
            payload = _decoder.decode(body)
        except msgspec.DecodeError as exc:
            return error(400, f"the body is not JSON: {exc}")
        if not isinstance(payload, dict):
            return error(400, "the body must be a JSON object")
        try:
            reports, refused = normalize(channel, kind, payload)
        except (ValueError, KeyError, TypeError) as exc:
            return error(400, f"not a {channel} {kind} webhook body: {exc}")
        try:
            new, duplicates = await record(reports)
        except Exception as exc:  # Infobip retries a call that was not answered 2xx
            return store_failed("the reports were not stored", exc)
        answer: dict[str, Any] = {"received": len(reports), "new": new, "duplicates": duplicates}
        if refused:
            # Stored what could be read and answered 200: a retry would bring the same unreadable entries.
            # They are logged whole, so nothing Infobip sent is lost.
            for index, reason in refused:
                log.warning(
                    "unreadable %s %s webhook entry %s: %s", channel, kind, payload["results"][index], reason
                )
            answer["refused"] = [{"index": i, "reason": reason} for i, reason in refused]
        return MsgspecResponse(answer)

    return [Route("/webhooks/infobip/{channel}/{kind}", receive, methods=["POST"])]
