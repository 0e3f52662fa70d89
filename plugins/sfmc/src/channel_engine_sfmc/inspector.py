"""The activities' configuration pages (Journey Builder's inspector iframe) and the options they read.

Journey Builder loads `index.html` from an activity's endpoint URL into an iframe and talks to it with
Postmonger messages (`ui/jb.js`). The pages are plain HTML, JavaScript and CSS shipped in `ui/`:

    GET /sfmc/{mid}/message/index.html     (and /sfmc/{mid}/message/)   the message activity's page
    GET /sfmc/{mid}/reports/index.html     (and /sfmc/{mid}/reports/)   Get Reports' page
    GET /sfmc/{mid}/{activity}/images/icon.svg                           the icon config.json names
    GET /sfmc/ui/{file}                                                  the pages' scripts and styles
    GET /sfmc/{mid}/ui/options                                           what the pages offer (no secret)

The options call is authenticated the way Journey Builder UIs are: the page asks Journey Builder for the
user's tokens (`requestTokens`) and sends `Authorization: Bearer <fuel2token>`; the engine asks SFMC who
that is (`GET {authBaseUri}v2/userinfo`) and accepts the token only when the user's business unit
(`organization.member_id`) is the MID in the URL. A good token is remembered for a few minutes under its
SHA-256 hash; the token itself is never stored or logged.

The pages may only be framed by Journey Builder (`frame-ancestors`), and `jb.js` only talks to a parent
whose origin is one of Journey Builder's: `JB_ORIGINS`, plus the exact origins listed (comma-separated) in
`CHANNEL_ENGINE_SFMC_JB_ORIGINS`, for another SFMC domain or a test host.
"""

from __future__ import annotations

import hashlib
import html
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import httpx
import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channel_engine import HostServices

from .config import BusinessUnit
from .data_extensions import BY_KEY, VIBER_URL_TRACKING
from .in_arguments import RESTRICTED_CALLBACK_NAMES
from .journey_builder import not_configured
from .reports_activity import is_click_extension
from .units import Units

log = logging.getLogger("channel_engine.sfmc")

# Where Journey Builder runs: the Marketing Cloud shell (mc.sN.exacttarget.com) frames Journey Builder
# (jbinteractions.sN.marketingcloudapps.com), which frames the activity's page.
JB_ORIGINS = ("https://*.exacttarget.com", "https://*.marketingcloudapps.com")
ORIGINS_VARIABLE = "CHANNEL_ENGINE_SFMC_JB_ORIGINS"
TOKEN_CACHE_SECONDS = 300.0
TOKEN_CACHE_SIZE = 10_000
PAGES = {"message": "message.html", "reports": "reports.html"}
ASSETS = {
    "jb.js": "text/javascript",
    "forms.js": "text/javascript",
    "message.js": "text/javascript",
    "reports.js": "text/javascript",
    "inspector.css": "text/css",
}
# The channels whose senders the configuration lists under another channel's name.
SENDER_LISTS = {
    "sms": "sms",
    "lms": "sms",
    "mms": "sms",
    "viber": "viber",
    "kakao-alim": "kakao",
    "kakao-chingu": "kakao",
    "rcs": "rcs",
    "whatsapp": "whatsapp",
}


def jb_origins() -> list[str]:
    """The origins allowed to frame the pages and to talk to them (CSP host-source syntax)."""
    extra = [o.strip().rstrip("/") for o in os.environ.get(ORIGINS_VARIABLE, "").split(",")]
    return [*JB_ORIGINS, *(o for o in extra if o)]


def _ui_file(name: str) -> bytes:
    return resources.files(__package__).joinpath("ui", name).read_bytes()


def _page_headers(origins: list[str]) -> dict[str, str]:
    policy = (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        f"base-uri 'none'; form-action 'none'; frame-ancestors {' '.join(origins)}"
    )
    return {"Content-Security-Policy": policy, "Cache-Control": "no-cache", "Referrer-Policy": "no-referrer"}


class TokenRefused(Exception):
    """The options call is refused: `status` and a sentence the page shows."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Organization(msgspec.Struct):
    member_id: int | str


class _UserInfo(msgspec.Struct):
    """The part of SFMC's `GET /v2/userinfo` answer the check reads."""

    organization: _Organization
    exp: float | None = None


@dataclass
class TokenCheck:
    """Is this Journey Builder user token one of business unit `mid`'s? Good answers are cached by the
    token's hash for `ttl` seconds (never past the token's own expiry)."""

    http: httpx.AsyncClient
    clock: Callable[[], float] = time.time
    ttl: float = TOKEN_CACHE_SECONDS
    timeout: float = 10.0

    def __post_init__(self) -> None:
        self._good: dict[tuple[str, str], float] = {}

    async def check(self, unit: BusinessUnit, authorization: str | None) -> None:
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise TokenRefused(
                401,
                "no Journey Builder token: the page sends the user's fuel2token (requestTokens) as "
                "`Authorization: Bearer <token>`; open the activity from Journey Builder",
            )
        digest = hashlib.sha256(token.encode()).hexdigest()
        key = (digest, unit.mid)
        now = self.clock()
        if self._good.get(key, 0.0) > now:
            return
        member_id, expires = await self._member_of(unit, token, digest)
        if str(member_id) != unit.mid:
            log.info("inspector token %s is business unit %s's, not %s", digest[:12], member_id, unit.mid)
            raise TokenRefused(
                401,
                f"this Journey Builder user is signed in to business unit {member_id}, not {unit.mid}: "
                f"the activity's URL names business unit {unit.mid}",
            )
        if len(self._good) >= TOKEN_CACHE_SIZE:
            self._good = {k: t for k, t in self._good.items() if t > now}
            if len(self._good) >= TOKEN_CACHE_SIZE:
                self._good.clear()
        self._good[key] = min(now + self.ttl, expires) if expires else now + self.ttl

    async def _member_of(self, unit: BusinessUnit, token: str, digest: str) -> tuple[int | str, float | None]:
        url = unit.sfmc.auth_base_uri.rstrip("/") + "/v2/userinfo"
        host = httpx.URL(url).host
        try:
            response = await self.http.get(
                url,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            log.warning("inspector token check for business unit %s: %s unreachable", unit.mid, host)
            raise TokenRefused(
                503,
                f"SFMC ({host}) could not be reached to check the Journey Builder token "
                f"({type(exc).__name__}); try again shortly",
            ) from None
        if response.status_code in (401, 403):
            log.info("inspector token %s refused by SFMC for business unit %s", digest[:12], unit.mid)
            raise TokenRefused(
                401,
                f"SFMC did not accept the Journey Builder token (HTTP {response.status_code}): it may have "
                "expired; close and reopen the activity",
            )
        if not response.is_success:
            log.warning("inspector token check for business unit %s: HTTP %s", unit.mid, response.status_code)
            raise TokenRefused(
                502,
                f"SFMC answered HTTP {response.status_code} when asked who the Journey Builder user is; "
                "try again shortly",
            )
        try:
            info = msgspec.json.decode(response.content, type=_UserInfo)
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise TokenRefused(
                502, "SFMC's userinfo answer has no organization.member_id: it is not the documented one"
            ) from None
        return info.organization.member_id, info.exp


def report_extensions(unit: BusinessUnit) -> list[dict[str, str]]:
    """The report data extensions Get Reports can read, by key, with their kind (delivery or click)."""
    native = unit.report_storage.native
    keys = [
        native.sms_delivery_reports,
        native.omni_delivery_reports,
        native.url_click_reports,
        VIBER_URL_TRACKING.key,
    ]
    seen: list[str] = []
    for key in keys:
        if key not in seen:
            seen.append(key)
    return [
        {
            "key": key,
            "name": BY_KEY[key].name if key in BY_KEY else key,
            "kind": "click" if is_click_extension(key, native.url_click_reports) else "delivery",
        }
        for key in seen
    ]


def unit_options(unit: BusinessUnit, channels: list[str]) -> dict[str, Any]:
    """What the pages offer the marketer: names and keys only, never a credential."""
    senders = msgspec.to_builtins(unit.senders)
    return {
        "mid": unit.mid,
        "channels": channels,
        "senders": {c: senders.get(SENDER_LISTS.get(c, c), []) for c in channels},
        "accounts": [account.name for account in unit.infobip_accounts],
        "customDomains": list(unit.custom_domains),
        "reportDataExtensions": report_extensions(unit),
        "callbackData": {"reservedNames": list(RESTRICTED_CALLBACK_NAMES), "maxLength": 4000},
    }


def inspector_routes(services: HostServices, units: Units, http: httpx.AsyncClient) -> list[Route]:
    tokens = TokenCheck(http)

    async def page(request: Request) -> Response:
        activity = request.path_params["activity"]
        if activity not in PAGES:
            return Response("Not Found", status_code=404, media_type="text/plain")
        origins = jb_origins()
        text = _ui_file(PAGES[activity]).decode()
        text = text.replace("{{JB_ORIGINS}}", html.escape(" ".join(origins)))
        return Response(text, media_type="text/html; charset=utf-8", headers=_page_headers(origins))

    async def icon(request: Request) -> Response:
        if request.path_params["activity"] not in PAGES:
            return Response("Not Found", status_code=404, media_type="text/plain")
        return Response(
            _ui_file("icon.svg"), media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
        )

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:
            return Response("Not Found", status_code=404, media_type="text/plain")
        return Response(_ui_file(name), media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})

    async def options(request: Request) -> Response:
        mid = request.path_params["mid"]
        unit = await units.get(mid)
        if unit is None:
            return not_configured(mid)
        try:
            await tokens.check(unit, request.headers.get("authorization"))
        except TokenRefused as refused:
            return JSONResponse({"error": refused.message}, status_code=refused.status)
        return JSONResponse(unit_options(unit, services.channels), headers={"Cache-Control": "no-store"})

    return [
        Route("/{mid}/{activity}/", page, methods=["GET"]),
        Route("/{mid}/{activity}/index.html", page, methods=["GET"]),
        Route("/{mid}/{activity}/images/icon.svg", icon, methods=["GET"]),
        Route("/{mid}/ui/options", options, methods=["GET"]),
        Route("/ui/{name}", asset, methods=["GET"]),
    ]
