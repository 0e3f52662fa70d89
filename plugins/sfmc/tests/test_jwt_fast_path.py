"""The short way `bodies._plain_hs256_claims` takes for Journey Builder's plain tokens agrees with
`jwt.decode`: for each token it returns PyJWT's claims or None (deferring to PyJWT), and `verify_jwt`
refuses exactly what PyJWT refuses. Tokens are real HS256 (PyJWT, or HMAC-SHA256 over a hand-built
signing input where PyJWT would not build the shape), with the signing secret and with a salt's bytes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from starlette.requests import ClientDisconnect, Request

from channel_engine_sfmc.bodies import Refused, _plain_hs256_claims, _segment, _whole_body, verify_jwt
from channel_engine_sfmc.config import BusinessUnit
from channel_engine_sfmc.testing.journeys import signing_unit

SECRET = "package-jwt-signing-secret-0123456789abcdef"
SALT_BYTES = b"the original bytes of a salt key, 0123456789"
OTHER_KEY = b"not this business unit's key 0123456789"
KEYS = {"secret": SECRET, "salt": SALT_BYTES}
REFUSED = "refused"


def unit() -> BusinessUnit:
    return signing_unit(secret=SECRET, salt=SALT_BYTES)


def claims(**extra: Any) -> dict[str, Any]:
    return {"inArguments": [{"channel": "sms"}], "keyValue": "contact-1", **extra}


def b64(data: bytes, *, padded: bool = False) -> bytes:
    text = base64.urlsafe_b64encode(data)
    return text if padded else text.rstrip(b"=")


def hand_built(
    key: str | bytes,
    payload: Any,
    *,
    header: dict[str, Any] | None = None,
    pad_payload: bool = False,
    pad_signature: bool = False,
) -> bytes:
    """A compact JWS built byte by byte, signed with HMAC-SHA256 over exactly the segments sent."""
    header_text = b64(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    payload_text = b64(json.dumps(payload).encode(), padded=pad_payload)
    signing_input = header_text + b"." + payload_text
    key_bytes = key.encode() if isinstance(key, str) else key
    signature = hmac.new(key_bytes, signing_input, hashlib.sha256).digest()
    return signing_input + b"." + b64(signature, padded=pad_signature)


def pyjwt_says(raw: bytes, key: str | bytes) -> Any:
    try:
        return jwt.decode(raw.decode("ascii"), key, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        return REFUSED


def padded_payload() -> dict[str, Any]:
    """Claims whose JSON length is not a multiple of 3, so their base64url text has padding to add."""
    for n in range(3):
        body = claims(note="x" * n)
        if len(json.dumps(body).encode()) % 3:
            return body
    raise AssertionError("unreachable: one of three lengths is not a multiple of 3")


def at(seconds: int) -> int:
    """A time claim `seconds` from when the token is made (made in the test, never at collection)."""
    return int(time.time()) + seconds


Token = Callable[[str | bytes], bytes]
# (case, how the token is made from a key, whether the short way takes it)
CASES: list[tuple[str, Token, bool]] = [
    ("valid", lambda key: jwt.encode(claims(exp=at(600)), key, algorithm="HS256").encode(), True),
    ("valid without time claims", lambda key: hand_built(key, claims()), True),
    (
        "wrong signature",
        lambda key: jwt.encode(claims(), OTHER_KEY, algorithm="HS256").encode(),
        False,
    ),
    ("expired exp", lambda key: jwt.encode(claims(exp=at(-5)), key, algorithm="HS256").encode(), False),
    ("future nbf", lambda key: jwt.encode(claims(nbf=at(600)), key, algorithm="HS256").encode(), False),
    ("padded payload", lambda key: hand_built(key, padded_payload(), pad_payload=True), False),
    ("padded signature", lambda key: hand_built(key, claims(), pad_signature=True), False),
    (
        "alg none",
        lambda key: b64(b'{"alg":"none","typ":"JWT"}') + b"." + b64(json.dumps(claims()).encode()) + b".",
        False,
    ),
    (
        "alg none with a signature",
        lambda key: hand_built(key, claims(), header={"alg": "none", "typ": "JWT"}),
        False,
    ),
    ("extra header key", lambda key: hand_built(key, claims(), header={"alg": "HS256", "kid": "k"}), False),
    ("non-dict payload", lambda key: hand_built(key, ["inArguments", 1]), False),
    ("string payload", lambda key: hand_built(key, "contact-1"), False),
]


@pytest.mark.parametrize("key_name", sorted(KEYS))
@pytest.mark.parametrize(("case", "make", "short_way"), CASES, ids=[c[0] for c in CASES])
def test_the_short_way_agrees_with_pyjwt(case: str, make: Token, short_way: bool, key_name: str) -> None:
    key = KEYS[key_name]
    raw = make(key)
    expected = pyjwt_says(raw, key)
    fast = _plain_hs256_claims(raw, key)
    assert fast is None or fast == expected
    assert (fast is not None) == short_way  # each case is judged where the test means it to be
    if expected == REFUSED:
        with pytest.raises(Refused) as refused:
            verify_jwt(raw, unit())
        assert refused.value.status == 401
    else:
        assert verify_jwt(raw, unit()) == expected


def test_the_cases_cover_both_verdicts() -> None:
    """Some of the cases PyJWT accepts and some it refuses, so the agreement above is not one-sided."""
    verdicts = {case: pyjwt_says(make(SECRET), SECRET) == REFUSED for case, make, _ in CASES}
    assert {"wrong signature", "expired exp", "future nbf", "alg none", "non-dict payload"} <= {
        case for case, refused in verdicts.items() if refused
    }
    assert {"valid", "padded payload", "extra header key"} <= {
        case for case, refused in verdicts.items() if not refused
    }


BASE64URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def test_a_segment_decodes_as_pyjwt_decodes_it_or_not_at_all() -> None:
    """Texts of the base64url alphabet decode to PyJWT's bytes (unused bits ignored alike); a text with any
    other byte (the standard alphabet's "+/", padding, a quote or backslash that would be JSON to msgspec)
    or of an impossible length decodes to None, for PyJWT to judge."""
    rng = random.Random(20261122)
    for _ in range(20_000):
        text = bytes(rng.choice(BASE64URL) for _ in range(rng.randrange(40)))
        assert _segment(text) == (None if len(text) % 4 == 1 else jwt.utils.base64url_decode(text))
    for stray in (*b'+/=\\" .\n', 0x80, 0xFF):
        for text in (bytes([stray]) + b"QUJD", b"QU" + bytes([stray]) + b"JD", b"QUJD" + bytes([stray])):
            assert _segment(text) is None, text
    assert _segment(b"QU\\u0041") is None  # a JSON escape for "A" is not base64url


async def test_the_body_is_joined_from_every_asgi_message_and_a_disconnect_is_said() -> None:
    def request(*messages: dict[str, Any]) -> Request:
        queue = list(messages)

        async def receive() -> dict[str, Any]:
            return queue.pop(0)

        return Request({"type": "http", "method": "POST", "headers": []}, receive)

    parts = [{"type": "http.request", "body": p, "more_body": True} for p in (b"ab", b"", b"cd")]
    assert await _whole_body(request(*parts, {"type": "http.request", "body": b"e"})) == b"abcde"
    assert await _whole_body(request({"type": "http.request"})) == b""
    with pytest.raises(ClientDisconnect):
        await _whole_body(request(parts[0], {"type": "http.disconnect"}))
