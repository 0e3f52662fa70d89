"""Reading what Journey Builder POSTs to an activity: a compact JWT (`application/jwt`, HS256 with the
installed package's signing secret) or, where the business unit allows it, plain JSON."""

from __future__ import annotations

from typing import Any

import jwt
import msgspec
from starlette.requests import Request

from .config import BusinessUnit


class Refused(Exception):
    """The body cannot be trusted or read: the activity answers `status` with this sentence."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _looks_like_jwt(raw: bytes) -> bool:
    return raw[:1] != b"{" and raw.count(b".") == 2


async def read_body(request: Request, unit: BusinessUnit) -> dict[str, Any]:
    raw = (await request.body()).strip()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/jwt" or _looks_like_jwt(raw):
        return verify_jwt(raw, unit)
    if not unit.allow_plain_json:
        raise Refused(
            401,
            "the body must be a JWT signed with the installed package's signing secret "
            "(`useJwt: true` in config.json); plain JSON is off for this business unit",
        )
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise Refused(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise Refused(400, "the body must be a JSON object")
    return body


def verify_jwt(raw: bytes, unit: BusinessUnit) -> dict[str, Any]:
    secret = unit.sfmc.jwt_signing_secret
    if not secret:
        raise Refused(
            401,
            f"business unit {unit.mid} has no JWT signing secret configured (sfmc.jwtSigningSecret): "
            "copy it from the installed package's summary page",
        )
    try:
        # Pinning the algorithm: a token that says "none" or RS256 is refused, whatever it claims.
        claims = jwt.decode(raw.decode("ascii", "replace"), secret, algorithms=["HS256"])
    except jwt.ExpiredSignatureError:
        raise Refused(401, "the JWT has expired") from None
    except jwt.InvalidSignatureError:
        raise Refused(401, "the JWT signature does not match this business unit's signing secret") from None
    except jwt.InvalidTokenError as exc:
        raise Refused(401, f"the body is not a valid HS256 JWT: {exc}") from None
    # Journey Builder puts the activity payload at the top level of the claims; some senders wrap it.
    inner = claims.get("request") if isinstance(claims.get("request"), dict) else None
    return inner or claims
