"""Access tokens for an org through the OAuth 2.0 JWT bearer flow.

The assertion is an RS256 JWT signed with the connected app's private key: `iss` the consumer key, `sub`
the integration user, `aud` the login server, `exp` three minutes ahead in seconds. Salesforce answers an
access token without an expiry (it lives as long as the org's session timeout), so a token is kept for
`lifetime` seconds and dropped early when Salesforce refuses it (`invalidate`).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
from msgspec import Struct

from .config import DEFAULT_TOKEN_SECONDS, Org

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_SECONDS = 180
RENEW_BEFORE = 300  # renew this long before the assumed end, so a call never starts with a dying token


class SalesforceAuthError(Exception):
    """Salesforce refused the assertion, or could not be reached. The sentence names no secret."""


class Token(Struct, frozen=True):
    access_token: str
    instance_url: str
    obtained_at: float


class TokenSource:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        lifetime: float = DEFAULT_TOKEN_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.http = http
        self.lifetime = lifetime
        self.clock = clock
        self.issued = 0  # tokens obtained, for tests and /metrics-style checks
        self._tokens: dict[str, Token] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def token(self, org: Org) -> Token:
        """A cached token, or a new one when there is none or it is about to end."""
        key = _identity(org)
        cached = self._tokens.get(key)
        if cached is not None and self.clock() < cached.obtained_at + self.lifetime - RENEW_BEFORE:
            return cached
        async with self._locks.setdefault(key, asyncio.Lock()):  # one token request per org at a time
            cached = self._tokens.get(key)
            if cached is not None and self.clock() < cached.obtained_at + self.lifetime - RENEW_BEFORE:
                return cached
            token = await self._request(org)
            self._tokens[key] = token
            return token

    def invalidate(self, org: Org) -> None:
        """Salesforce refused the token (expired session, revoked): the next call gets a new one."""
        self._tokens.pop(_identity(org), None)

    async def _request(self, org: Org) -> Token:
        now = self.clock()
        audience = org.login_url.rstrip("/")
        claims = {
            "iss": org.consumer_key,
            "sub": org.username,
            "aud": audience,
            "exp": int(now) + ASSERTION_SECONDS,
        }
        try:
            assertion = jwt.encode(claims, org.private_key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise SalesforceAuthError(
                f"the private key of org {org.org_id} cannot sign an RS256 assertion ({type(exc).__name__}): "
                "paste the connected app certificate's private key in PEM form"
            ) from None
        try:
            response = await self.http.post(
                f"{audience}/services/oauth2/token", data={"grant_type": GRANT, "assertion": assertion}
            )
        except httpx.HTTPError as exc:
            raise SalesforceAuthError(f"{audience} cannot be reached ({type(exc).__name__})") from None
        body = json_object(response)
        if response.status_code != 200 or "access_token" not in body:
            reason = body.get("error_description") or body.get("error") or f"HTTP {response.status_code}"
            raise SalesforceAuthError(
                f"Salesforce refused the JWT bearer assertion for {org.username}: {reason} (check the "
                "consumer key, the user's pre-authorization and the certificate uploaded to the connected "
                "app)"
            )
        self.issued += 1
        return Token(str(body["access_token"]), str(body.get("instance_url") or org.instance_url), now)


def _identity(org: Org) -> str:
    """Cache key: a changed key, user or app gets a new token."""
    parts = (org.org_id, org.login_url, org.consumer_key, org.username, org.private_key)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def json_object(response: httpx.Response) -> dict[str, Any]:
    """A Salesforce answer's JSON object; {} when the body is not one (an HTML error page, a list)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
