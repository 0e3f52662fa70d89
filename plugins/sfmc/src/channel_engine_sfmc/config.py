"""One business unit's (MID's) configuration: what the seeds' "Infobip Configuration" app collects.

Stored sealed as a whole (the engine's secret key, Fernet) in the plugin's data, one entry per MID; the
configuration API never shows a secret back, only whether it is set.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct, field

from channel_engine.documents import MASK, SECRET, InfobipAccount, Url, masked

from .data_extensions import (
    INBOUND_MESSAGES,
    OMNI_REPORTS,
    SMS_DELIVERY_REPORTS,
    UNIFIED_URL_TRACKING,
)

NAMESPACE = "sfmc"
__all__ = ["MASK", "BusinessUnit", "InfobipAccount", "SfmcCredentials"]

Name = Annotated[str, Meta(min_length=1, max_length=100)]


class Wire(Struct, rename="camel", forbid_unknown_fields=True):
    pass


class SfmcCredentials(Wire):
    """The installed package's server-to-server API integration, and its JWT signing secret."""

    client_id: Annotated[str, Meta(min_length=1, max_length=200)]
    client_secret: Annotated[str, Meta(min_length=1, max_length=500), SECRET]
    auth_base_uri: Url  # https://<subdomain>.auth.marketingcloudapis.com/
    soap_base_uri: Url  # https://<subdomain>.soap.marketingcloudapis.com/
    rest_base_uri: Url | None = None  # taken from the token answer when not given
    jwt_signing_secret: Annotated[str, Meta(min_length=1, max_length=500), SECRET] | None = None


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


def key(mid: str) -> str:
    return f"bu:{mid}"
