"""Reading what Journey Builder POSTs to an activity: a compact JWT (`application/jwt`, HS256) or, where the
business unit allows it, plain JSON.

Journey Builder signs with one of two keys (Salesforce, "Encode Custom Activities Using a JWT"): a Key
Management salt key when the activity's config.json names it in `customerKey` (the key is the salt's
original bytes, not its hex text), otherwise the installed package's JWT signing secret. A business unit may
have both: journeys saved before the salt key was configured still sign with the secret, so a token signed
with either is accepted.

A token in the shape Journey Builder sends (header `{"alg": "HS256", "typ": "JWT"}`, canonical base64url
without padding, no claims but the time ones) takes a short way: the header is judged once per distinct text,
the signature is a copy of a C HMAC keyed once per secret or salt (with PyJWT's checks of the key), compared
as base64url text, and msgspec decodes the payload, from base64 and then from JSON (one table pass turns
base64url into the standard alphabet and every stray byte into one no decoder takes). That skips what
`jwt.decode` does on every call and which costs most of its time here: preparing the key (PyJWT looks for
PEM and SSH key markers in it), a Python loop over every byte of the payload checking the base64 alphabet,
and stdlib `json`. Any token outside that shape, and every token the short way does not accept (a bad
signature, another algorithm, an expired one), goes through `jwt.decode` itself, so what is refused, and the
sentence it is refused with, are PyJWT's.
"""

from __future__ import annotations

import binascii
import functools
import hmac
import math
import time
import warnings
from typing import Any

import jwt
import msgspec
from jwt.algorithms import HMACAlgorithm
from jwt.warnings import InsecureKeyLengthWarning
from starlette.requests import ClientDisconnect, Request

from .config import BusinessUnit, salt_bytes

_HS256 = HMACAlgorithm(HMACAlgorithm.SHA256)
_BASE64URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# base64url to the standard alphabet, and every other byte (the standard "+/=" too) to "!", which no base64
# decoder takes: one pass both checks the alphabet and converts it.
_TO_STANDARD = bytes(b if b in _BASE64URL else ord("!") for b in range(256)).translate(
    bytes.maketrans(b"-_", b"+/")
)
_BASE64_BYTES = msgspec.json.Decoder(bytes)  # msgspec's base64 decoder, a fraction of binascii's cost
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_HEADER_KEYS = frozenset({"alg", "typ"})
_TIME_CLAIMS = frozenset({"exp", "nbf", "iat"})
# Claims PyJWT judges against arguments this reader does not pass (or by type): left to jwt.decode.
_OTHER_CLAIMS = frozenset({"aud", "iss", "sub", "jti"})


class Refused(Exception):
    """The body cannot be trusted or read: the activity answers `status` with this sentence."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _looks_like_jwt(raw: bytes) -> bool:
    return raw[:1] != b"{" and raw.count(b".") == 2


async def read_body(request: Request, unit: BusinessUnit) -> dict[str, Any]:
    raw = (await _whole_body(request)).strip()
    if _media_type(request) == b"application/jwt" or _looks_like_jwt(raw):
        return verify_jwt(raw, unit)
    if not unit.allow_plain_json:
        raise Refused(
            401,
            "the body must be a JWT signed by Journey Builder (`useJwt: true` in config.json); plain JSON is "
            "off for this business unit",
        )
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise Refused(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise Refused(400, "the body must be a JSON object")
    return body


async def _whole_body(request: Request) -> bytes:
    """The body, taken from the ASGI messages as they come: Starlette's `body()` hands each through an
    async generator, which cost a third as much as verifying the JWT (the body is read nowhere else)."""
    chunks = []
    while True:
        message = await request.receive()
        if message["type"] != "http.request":  # the client has gone: as Starlette's body() says it
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _media_type(request: Request) -> bytes:
    """The Content-Type without parameters, lowercased (ASGI servers lowercase header names already)."""
    for name, value in request.scope["headers"]:
        if name == b"content-type":
            return value.split(b";", 1)[0].strip().lower()
    return b""


def verify_jwt(raw: bytes, unit: BusinessUnit) -> dict[str, Any]:
    keys = _keys(unit)
    if not keys:
        raise Refused(
            401,
            f"business unit {unit.mid} has no key to verify Journey Builder's JWT: set sfmc.jwtSigningSecret "
            "(the installed package's JWT Signing Secret) or sfmc.jwtCustomerKey and sfmc.jwtSalt (a Key "
            "Management salt key)",
        )
    claims = _plain_hs256_claims(raw, *keys)
    if claims is None:
        claims = _pyjwt_claims(raw, keys, unit)
    # Journey Builder puts the activity payload at the top level of the claims; some senders wrap it.
    inner = claims.get("request") if isinstance(claims.get("request"), dict) else None
    return inner or claims


def _keys(unit: BusinessUnit) -> tuple[str | bytes, ...]:
    """The unit's HS256 keys, the salt key's bytes first (what config.json asks Journey Builder to use)."""
    creds = unit.sfmc
    salt = (_salt_bytes(creds.jwt_salt),) if creds.jwt_salt else ()
    return salt + ((creds.jwt_signing_secret,) if creds.jwt_signing_secret else ())


@functools.lru_cache(maxsize=64)
def _salt_bytes(salt: str) -> bytes:
    try:
        return salt_bytes(salt)
    except ValueError:  # the configuration API refuses such a salt; this is a stored one gone bad
        raise Refused(401, "sfmc.jwtSalt is not 0x and hex digits: store the salt again") from None


def _pyjwt_claims(raw: bytes, keys: tuple[str | bytes, ...], unit: BusinessUnit) -> dict[str, Any]:
    token = raw.decode("ascii", "replace")
    for key in keys:
        try:
            with warnings.catch_warnings():
                # The salt's length is the SFMC admin's choice (Salesforce's own example has 12 bytes).
                warnings.simplefilter("ignore", InsecureKeyLengthWarning)
                # Pinning the algorithm: a token that says "none" or RS256 is refused, whatever it claims.
                return jwt.decode(token, key, algorithms=["HS256"])
        except jwt.InvalidSignatureError:
            continue  # PyJWT judges the claims only once a key matched: the next key may
        except jwt.ExpiredSignatureError:
            raise Refused(401, "the JWT has expired") from None
        except jwt.InvalidTokenError as exc:
            raise Refused(401, f"the body is not a valid HS256 JWT: {exc}") from None
    raise Refused(401, _no_key_matches(unit))


def _no_key_matches(unit: BusinessUnit) -> str:
    creds = unit.sfmc
    salt = f"the salt key {creds.jwt_customer_key!r} (sfmc.jwtSalt)"
    secret = "the JWT signing secret (sfmc.jwtSigningSecret)"
    if creds.jwt_salt and creds.jwt_signing_secret:
        return f"the JWT signature matches neither of business unit {unit.mid}'s keys ({salt}, {secret})"
    return f"the JWT signature does not match business unit {unit.mid}'s {salt if creds.jwt_salt else secret}"


@functools.lru_cache(maxsize=64)
def _hs256_mac(secret: str | bytes) -> hmac.HMAC:
    """An HMAC-SHA256 already keyed with `secret`, to copy for each token: keying one per call (what
    `hmac.digest` does) looks the digest up by name in OpenSSL every time, which cost about as much again as
    hashing a whole execute body. The key is PyJWT's, with its checks (not empty, not a PEM or SSH key)."""
    return hmac.new(_HS256.prepare_key(secret), digestmod="sha256")


def _segment(text: bytes) -> bytes | None:
    """A base64url segment without padding or stray characters, decoded to what PyJWT's binascii call
    gives (unused bits are ignored alike); None for anything else."""
    if len(text) % 4 == 1:
        return None
    try:  # as a JSON string: "!" stands for every stray byte, so no quote or escape reaches the decoder
        return _BASE64_BYTES.decode(b'"%b%b"' % (text.translate(_TO_STANDARD), b"=" * (-len(text) % 4)))
    except msgspec.DecodeError:
        return None


def _json_segment(text: bytes) -> Any:
    """The JSON value a segment holds, or None when it is not one (both are refused where an object is
    wanted)."""
    decoded = _segment(text)
    if decoded is None:
        return None
    try:
        return msgspec.json.decode(decoded)
    except msgspec.DecodeError:
        return None


@functools.lru_cache(maxsize=16)
def _plain_header(text: bytes) -> bool:
    """Whether a header segment is Journey Builder's: a JSON object of `alg` HS256 and at most a string
    `typ`. Journey Builder sends the same few bytes every time, so each text is judged once."""
    header = _json_segment(text)
    return (
        isinstance(header, dict)
        and header.get("alg") == "HS256"  # the algorithm is pinned: "none", RS256 and the rest go to PyJWT
        and header.keys() <= _HEADER_KEYS
        and isinstance(header.get("typ", ""), str)
    )


def _signature_text(signing_input: bytes, key: str | bytes) -> bytes:
    """The canonical base64url text of the token's HMAC-SHA256 under `key`."""
    mac = _hs256_mac(key).copy()
    mac.update(signing_input)
    return binascii.b2a_base64(mac.digest(), newline=False).translate(_TO_URLSAFE).rstrip(b"=")


def _plain_hs256_claims(raw: bytes, *keys: str | bytes) -> dict[str, Any] | None:
    """The claims of a token in Journey Builder's plain HS256 shape, signed with one of `keys`, with no time
    claim that would refuse it; None for every other token (`jwt.decode` then has the last word).

    The signature is compared as text: a signature that is the right one in another base64 spelling
    (padded, unused bits set) is left to PyJWT, as is everything else the short way does not take."""
    signing_input, _, signature_text = raw.rpartition(b".")
    header_text, dot, payload_text = signing_input.partition(b".")
    if not dot or not _plain_header(header_text):
        return None
    for key in keys:
        if hmac.compare_digest(_signature_text(signing_input, key), signature_text):
            break
    else:
        return None
    claims = _json_segment(payload_text)
    if not isinstance(claims, dict) or not _OTHER_CLAIMS.isdisjoint(claims):
        return None
    return claims if _times_pass(claims) else None


def _times_pass(claims: dict[str, Any]) -> bool:
    """exp, nbf and iat as PyJWT judges them (whole seconds, no leeway), True only when all of them pass;
    a value of another type is left to PyJWT."""
    if _TIME_CLAIMS.isdisjoint(claims):
        return True
    now = time.time()
    for name in _TIME_CLAIMS:  # any order: each must pass
        if name not in claims:
            continue
        value = claims[name]
        if type(value) not in (int, float) or not math.isfinite(value):
            return False
        if (int(value) <= now) if name == "exp" else (int(value) > now):
            return False
    return True
