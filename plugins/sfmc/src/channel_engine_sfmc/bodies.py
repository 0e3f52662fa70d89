"""Reading what Journey Builder POSTs to an activity: a compact JWT (`application/jwt`, HS256 with the
installed package's signing secret) or, where the business unit allows it, plain JSON.

A token in the shape Journey Builder sends (header `{"alg": "HS256", "typ": "JWT"}`, canonical base64url
without padding, no claims but the time ones) takes a short way: PyJWT's own HS256 algorithm object checks
the signature with a key prepared once per secret, and msgspec decodes the payload once. That skips what
`jwt.decode` does on every call and which costs most of its time here: preparing the key (PyJWT looks for
PEM and SSH key markers in it), a Python loop over every byte of the payload checking the base64 alphabet,
and stdlib `json`. Any token outside that shape, and every token the short way does not accept (a bad
signature, another algorithm, an expired one), goes through `jwt.decode` itself, so what is refused, and
the sentence it is refused with, are PyJWT's.
"""

from __future__ import annotations

import binascii
import functools
import math
import time
from typing import Any

import jwt
import msgspec
from jwt.algorithms import HMACAlgorithm
from starlette.requests import Request

from .config import BusinessUnit

_HS256 = HMACAlgorithm(HMACAlgorithm.SHA256)
_BASE64URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_HEADER_KEYS = frozenset({"alg", "typ"})
_TIME_CLAIMS = ("exp", "nbf", "iat")
# Claims PyJWT judges against arguments this reader does not pass (or by type): left to jwt.decode.
_OTHER_CLAIMS = ("aud", "iss", "sub", "jti")


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
    claims = _plain_hs256_claims(raw, secret)
    if claims is None:
        claims = _pyjwt_claims(raw, secret)
    # Journey Builder puts the activity payload at the top level of the claims; some senders wrap it.
    inner = claims.get("request") if isinstance(claims.get("request"), dict) else None
    return inner or claims


def _pyjwt_claims(raw: bytes, secret: str) -> dict[str, Any]:
    try:
        # Pinning the algorithm: a token that says "none" or RS256 is refused, whatever it claims.
        return jwt.decode(raw.decode("ascii", "replace"), secret, algorithms=["HS256"])
    except jwt.ExpiredSignatureError:
        raise Refused(401, "the JWT has expired") from None
    except jwt.InvalidSignatureError:
        raise Refused(401, "the JWT signature does not match this business unit's signing secret") from None
    except jwt.InvalidTokenError as exc:
        raise Refused(401, f"the body is not a valid HS256 JWT: {exc}") from None


@functools.lru_cache(maxsize=64)
def _hs256_key(secret: str) -> bytes:
    return _HS256.prepare_key(secret)  # PyJWT's checks of the key (not empty, not a PEM or SSH key)


def _segment(text: bytes) -> bytes | None:
    """A base64url segment as PyJWT reads it, for the canonical form only (no padding, no stray
    characters, no unused bits set); None for anything else."""
    if text.translate(None, _BASE64URL) or len(text) % 4 == 1:
        return None
    padded = text.translate(_TO_STANDARD) + b"=" * (-len(text) % 4)
    try:
        decoded = binascii.a2b_base64(padded)
    except binascii.Error:
        return None
    return decoded if binascii.b2a_base64(decoded, newline=False) == padded else None


def _plain_hs256_claims(raw: bytes, secret: str) -> dict[str, Any] | None:
    """The claims of a token in Journey Builder's plain HS256 shape with a good signature and no time claim
    that would refuse it; None for every other token (`jwt.decode` then has the last word)."""
    signing_input, _, signature_text = raw.rpartition(b".")
    header_text, dot, payload_text = signing_input.partition(b".")
    if not dot:
        return None
    header_bytes, signature = _segment(header_text), _segment(signature_text)
    if header_bytes is None or signature is None:
        return None
    try:
        header = msgspec.json.decode(header_bytes)
    except msgspec.DecodeError:
        return None
    if (
        not isinstance(header, dict)
        or header.get("alg") != "HS256"  # the algorithm is pinned: "none", RS256 and the rest go to PyJWT
        or not header.keys() <= _HEADER_KEYS
        or not isinstance(header.get("typ", ""), str)
    ):
        return None
    if not _HS256.verify(signing_input, _hs256_key(secret), signature):
        return None
    payload = _segment(payload_text)
    if payload is None:
        return None
    try:
        claims = msgspec.json.decode(payload)
    except msgspec.DecodeError:
        return None
    if not isinstance(claims, dict) or any(name in claims for name in _OTHER_CLAIMS):
        return None
    return claims if _times_pass(claims) else None


def _times_pass(claims: dict[str, Any]) -> bool:
    """exp, nbf and iat as PyJWT judges them (whole seconds, no leeway), True only when all of them pass;
    a value of another type is left to PyJWT."""
    if not any(name in claims for name in _TIME_CLAIMS):
        return True
    now = time.time()
    for name in _TIME_CLAIMS:
        if name not in claims:
            continue
        value = claims[name]
        if type(value) not in (int, float) or not math.isfinite(value):
            return False
        if (int(value) <= now) if name == "exp" else (int(value) > now):
            return False
    return True
