"""One business unit's (MID's) configuration: what the seeds' "Infobip Configuration" app collects.

Stored sealed as a whole (the engine's secret key, Fernet) in the plugin's data, one entry per MID; the
configuration API never shows a secret back, only whether it is set.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from jwt.algorithms import HMACAlgorithm
from jwt.exceptions import InvalidKeyError
from msgspec import Meta, Struct, field

from channel_engine.documents import MASK, SECRET, InfobipAccount, Url, masked

from .data_extensions import (
    INBOUND_MESSAGES,
    OMNI_REPORTS,
    SMS_DELIVERY_REPORTS,
    UNIFIED_URL_TRACKING,
)

NAMESPACE = "sfmc"
__all__ = ["MASK", "BusinessUnit", "InfobipAccount", "SfmcCredentials", "salt_bytes", "salt_key_problem"]

Name = Annotated[str, Meta(min_length=1, max_length=100)]
CUSTOMER_KEY_MAX = 200
SALT_MAX = 2 + 2 * 512  # "0x" and the hex digits of up to 512 bytes
_SALT = re.compile(r"0x(?:[0-9A-Fa-f]{2})+")
_HS256 = HMACAlgorithm(HMACAlgorithm.SHA256)
_PRINTABLE_ASCII = re.compile(r"[ -~]+")  # what SFMC allows in an external key: space through tilde


class Wire(Struct, rename="camel", forbid_unknown_fields=True):
    pass


class SfmcCredentials(Wire):
    """The installed package's server-to-server API integration, and the keys Journey Builder's JWTs are
    signed with: the package's JWT signing secret, and/or a Key Management salt key (`jwt_customer_key`
    names it in config.json's `customerKey`; `jwt_salt` is its value as entered in SFMC, `0x` + hex)."""

    client_id: Annotated[str, Meta(min_length=1, max_length=200)]
    client_secret: Annotated[str, Meta(min_length=1, max_length=500), SECRET]
    auth_base_uri: Url  # https://<subdomain>.auth.marketingcloudapis.com/
    soap_base_uri: Url  # https://<subdomain>.soap.marketingcloudapis.com/
    rest_base_uri: Url | None = None  # taken from the token answer when not given
    jwt_signing_secret: Annotated[str, Meta(min_length=1, max_length=500), SECRET] | None = None
    jwt_customer_key: Annotated[str, Meta(min_length=1, max_length=CUSTOMER_KEY_MAX)] | None = None
    jwt_salt: Annotated[str, Meta(min_length=1, max_length=SALT_MAX), SECRET] | None = None


class Senders(Wire):
    """Sender names offered in the activity per channel (optional; a two-way number needs none)."""

    sms: list[Name] = field(default_factory=list)
    viber: list[Name] = field(default_factory=list)
    kakao: list[Name] = field(default_factory=list)
    rcs: list[Name] = field(default_factory=list)
    whatsapp: list[Name] = field(default_factory=list)


class NativeStorage(Wire):
    """The data extension (by external key) that receives each kind of report; the seeds' defaults."""

    sms_delivery_reports: Name = SMS_DELIVERY_REPORTS.key
    omni_delivery_reports: Name = OMNI_REPORTS.key
    url_click_reports: Name = UNIFIED_URL_TRACKING.key
    inbound_messages: Name = INBOUND_MESSAGES.key


class ExternalStorage(Wire):
    """Webhook URLs (e.g. CloudPages) that receive the same rows as JSON instead of the data extensions."""

    sms_notification_url: Url | None = None
    omni_notification_url: Url | None = None


class ReportStorage(Wire):
    mode: Literal["native", "external"] = "native"
    native: NativeStorage = field(default_factory=NativeStorage)
    external: ExternalStorage = field(default_factory=ExternalStorage)


class BusinessUnit(Wire):
    mid: Annotated[str, Meta(pattern=r"^[0-9]{1,20}$")]
    sfmc: SfmcCredentials
    infobip_accounts: list[InfobipAccount] = field(default_factory=list)
    custom_domains: list[Annotated[str, Meta(pattern=r"^[A-Za-z0-9.-]{1,253}$")]] = field(
        default_factory=list
    )
    senders: Senders = field(default_factory=Senders)
    report_storage: ReportStorage = field(default_factory=ReportStorage)
    # Journey Builder sends JWT-signed bodies when the activity's config.json says `useJwt` (ours does);
    # plain JSON is for development against a business unit that opts in.
    allow_plain_json: bool = False

    def account(self, name: str | None) -> InfobipAccount | None:
        if name is None:
            return self.infobip_accounts[0] if self.infobip_accounts else None
        return next((a for a in self.infobip_accounts if a.name == name), None)

    def masked(self) -> dict[str, object]:
        """The configuration as the API shows it: every secret replaced by a mask."""
        return masked(self)


def salt_bytes(salt: str) -> bytes:
    """The salt's original bytes, which Journey Builder signs with: `0x45392177` -> b"E9!w"."""
    return bytes.fromhex(salt[2:])


def salt_key_problem(creds: SfmcCredentials) -> tuple[str, str] | None:
    """(JSON path, why) when the salt key fields are not usable together, for the configuration API."""
    key, salt = creds.jwt_customer_key, creds.jwt_salt
    if (key is None) != (salt is None):
        given, missing = ("jwtCustomerKey", "jwtSalt") if salt is None else ("jwtSalt", "jwtCustomerKey")
        return (
            f"$.sfmc.{missing}",
            f"sfmc.{given} is set but sfmc.{missing} is not: a Key Management salt key needs both its "
            "external key (jwtCustomerKey) and its salt (jwtSalt)",
        )
    if key is not None and not _PRINTABLE_ASCII.fullmatch(key):
        return (
            "$.sfmc.jwtCustomerKey",
            "sfmc.jwtCustomerKey must be the salt key's external key: ASCII characters from space to tilde",
        )
    if salt is not None and not _SALT.fullmatch(salt):
        return (
            "$.sfmc.jwtSalt",
            "sfmc.jwtSalt must be the salt exactly as entered in SFMC Key Management: 0x followed by an even "
            "number of hex digits (e.g. 0x45392177553340305030326c)",
        )
    if salt is not None:
        try:
            _HS256.prepare_key(salt_bytes(salt))  # PyJWT refuses HMAC keys that look like PEM or SSH keys
        except InvalidKeyError:
            return "$.sfmc.jwtSalt", "sfmc.jwtSalt: PyJWT refuses the salt's bytes as an HS256 key"
    return None


def key(mid: str) -> str:
    return f"bu:{mid}"
