"""Verifying Journey Builder's JWTs with a business unit's keys: a Key Management salt key (its original
bytes, not its hex text), the installed package's JWT signing secret, or both. Real HS256 tokens (PyJWT)."""

from __future__ import annotations

import time
import warnings
from typing import Any

import jwt
import pytest

from channel_engine_sfmc import bodies
from channel_engine_sfmc.bodies import Refused, verify_jwt
from channel_engine_sfmc.config import BusinessUnit, salt_bytes, salt_key_problem
from channel_engine_sfmc.testing.journeys import signing_unit

MID = "100000001"
SECRET = "package-jwt-signing-secret-0123456789abcdef"
SALT_TEXT = b"a salt the SFMC admin typed, 0123456789"
SALT = "0x" + SALT_TEXT.hex()
CUSTOMER_KEY = "infobip-jwt-salt"
BODY = {"inArguments": [{"channel": "sms"}], "keyValue": "contact-1"}


def unit(*, secret: str | None = SECRET, salt: str | None = None) -> BusinessUnit:
    return signing_unit(secret=secret, salt=salt_bytes(salt) if salt else None, customer_key=CUSTOMER_KEY)


def sign(key: str | bytes, body: dict[str, Any] = BODY, **headers: Any) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)  # short keys on purpose
        return jwt.encode(body, key, algorithm="HS256", headers=headers or None).encode()


def refusal(raw: bytes, business_unit: BusinessUnit) -> str:
    with pytest.raises(Refused) as refused:
        verify_jwt(raw, business_unit)
    assert refused.value.status == 401
    return refused.value.message


def test_the_salt_is_read_as_salesforce_documents_it() -> None:
    assert salt_bytes("0x45392177553340305030326c") == b"E9!wU3@0P02l"


def test_a_token_signed_with_the_salts_original_bytes_passes() -> None:
    assert verify_jwt(sign(SALT_TEXT), unit(salt=SALT)) == BODY
    assert verify_jwt(sign(SALT_TEXT), unit(secret=None, salt=SALT)) == BODY


def test_a_token_signed_with_the_salts_hex_text_is_refused() -> None:
    for hex_text in (SALT, SALT[2:]):
        message = refusal(sign(hex_text), unit(salt=SALT))
        assert "matches neither of business unit 100000001's keys" in message
        assert "sfmc.jwtSalt" in message and "sfmc.jwtSigningSecret" in message


def test_the_signing_secret_still_works_beside_a_salt_key() -> None:
    assert verify_jwt(sign(SECRET), unit(salt=SALT)) == BODY


def test_with_one_key_only_the_refusal_names_that_key() -> None:
    assert "secret (sfmc.jwtSigningSecret)" in refusal(sign(SALT_TEXT), unit())
    salt_only = refusal(sign(SECRET), unit(secret=None, salt=SALT))
    assert f"salt key {CUSTOMER_KEY!r} (sfmc.jwtSalt)" in salt_only and "jwtSigningSecret" not in salt_only


@pytest.mark.parametrize("key", [SECRET, SALT_TEXT], ids=["secret", "salt"])
def test_a_refusal_never_shows_a_key(key: str | bytes) -> None:
    wrong = refusal(sign(b"some other key entirely, 0123456789"), unit(salt=SALT))
    expired = refusal(sign(key, BODY | {"exp": int(time.time()) - 10}), unit(salt=SALT))
    assert expired == "the JWT has expired"
    for message in (wrong, expired):
        assert SECRET not in message and SALT not in message and SALT_TEXT.decode() not in message


def test_without_any_key_the_error_names_both_config_fields() -> None:
    message = refusal(sign(SECRET), unit(secret=None))
    assert "sfmc.jwtSigningSecret" in message and "sfmc.jwtCustomerKey and sfmc.jwtSalt" in message


def test_a_short_salt_takes_the_fast_path_and_pyjwt_warns_nothing() -> None:
    short = unit(secret=None, salt="0x45392177553340305030326c")  # Salesforce's example: 12 bytes
    plain = sign(b"E9!wU3@0P02l")
    with_kid = sign(b"E9!wU3@0P02l", kid="k1")  # an extra header key: PyJWT's way
    assert bodies._plain_hs256_claims(plain, b"E9!wU3@0P02l") == BODY
    assert bodies._plain_hs256_claims(with_kid, b"E9!wU3@0P02l") is None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert verify_jwt(plain, short) == BODY and verify_jwt(with_kid, short) == BODY
    assert caught == []


def test_keys_are_prepared_once_not_per_call() -> None:
    both = unit(salt=SALT)
    for raw in (sign(SALT_TEXT), sign(SECRET)):
        verify_jwt(raw, both)  # the first call of each may prepare a key
    prepared, decoded = bodies._hs256_mac.cache_info().misses, bodies._salt_bytes.cache_info().misses
    for _ in range(20):
        assert verify_jwt(sign(SALT_TEXT), both) == verify_jwt(sign(SECRET), both) == BODY
    assert bodies._hs256_mac.cache_info().misses == prepared
    assert bodies._salt_bytes.cache_info().misses == decoded


@pytest.mark.parametrize(
    ("customer_key", "salt", "path", "reason"),
    [
        (CUSTOMER_KEY, None, "$.sfmc.jwtSalt", "sfmc.jwtCustomerKey is set but sfmc.jwtSalt is not"),
        (None, SALT, "$.sfmc.jwtCustomerKey", "sfmc.jwtSalt is set but sfmc.jwtCustomerKey is not"),
        ("key\twith a tab", SALT, "$.sfmc.jwtCustomerKey", "ASCII characters from space to tilde"),
        ("clé", SALT, "$.sfmc.jwtCustomerKey", "ASCII characters from space to tilde"),
        (CUSTOMER_KEY, SALT[2:], "$.sfmc.jwtSalt", "0x followed by an even number of hex digits"),
        (CUSTOMER_KEY, SALT[:-1], "$.sfmc.jwtSalt", "0x followed by an even number of hex digits"),
        (CUSTOMER_KEY, "0x", "$.sfmc.jwtSalt", "0x followed by an even number of hex digits"),
        (CUSTOMER_KEY, "0xZZ", "$.sfmc.jwtSalt", "0x followed by an even number of hex digits"),
    ],
)
def test_a_salt_key_that_cannot_work_is_named(
    customer_key: str | None, salt: str | None, path: str, reason: str
) -> None:
    creds = unit().sfmc
    creds.jwt_customer_key, creds.jwt_salt = customer_key, salt
    problem = salt_key_problem(creds)
    assert problem is not None and problem[0] == path and reason in problem[1]
    assert salt is None or salt == "0x" or salt not in problem[1]


def test_a_good_salt_key_or_none_has_no_problem() -> None:
    assert salt_key_problem(unit(salt=SALT).sfmc) is None
    assert salt_key_problem(unit(salt="0xABcd01").sfmc) is None
    assert salt_key_problem(unit().sfmc) is None
