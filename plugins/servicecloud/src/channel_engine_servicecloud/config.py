"""One Salesforce org's connection, stored sealed per org id: what the setup wizard collects.

- Salesforce: the org id, the core instance URL (REST, Tooling, the Streaming API), the login URL the JWT
  bearer assertion is audienced to, the SCRT URL (the Interaction Service), the channel address identifier
  (the Messaging channel's platform key), the authorization context (the ConversationChannelDefinition's
  developer name), the connected app's consumer key, the integration user's name and the connected app's
  private key (PEM, RS256).
- The custom platform event agents' messages arrive on, with its type and payload field names.
- Infobip: one or more accounts, each with the WhatsApp senders selected for this org, and the HMAC-SHA256
  secret Infobip's subscription signs inbound messages with.
- The chatbot handover's welcome and closing messages.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from msgspec import Meta, Struct, field

from channel_engine.documents import SECRET, Url

NAMESPACE = "servicecloud"
ORG_PREFIX = "org:"
WELCOME = "Hang tight, an agent will join the chat in just a moment."
CLOSING = "This conversation has ended. Message us again if you need help."
DEFAULT_API_VERSION = "63.0"  # conversationHistory needs v63.0 or later
# Salesforce access tokens carry no expiry; the session timeout is the org's setting (2 hours by default).
DEFAULT_TOKEN_SECONDS = 2 * 3600
MIN_SECRET = 16

OrgId = Annotated[str, Meta(pattern=r"^00D[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$")]
ApiName = Annotated[str, Meta(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,79}$")]
Number = Annotated[str, Meta(pattern=r"^\+?[0-9]{6,16}$")]
Text = Annotated[str, Meta(min_length=1, max_length=4096)]


class PlatformEvent(Struct, rename="camel", forbid_unknown_fields=True):
    """The custom platform event named in the ConversationChannelDefinition (`CustomPlatformEvent`,
    `CustomEventTypeField`, `CustomEventPayloadField`), by API names."""

    name: Annotated[str, Meta(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,79}__e$")]
    type_field: ApiName = "EventType__c"
    payload_field: ApiName = "Payload__c"


class WhatsAppAccount(Struct, rename="camel", forbid_unknown_fields=True):
    """An Infobip account and the WhatsApp senders of it this org uses."""

    name: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.-]{1,50}$")]
    api_key: Annotated[str, Meta(min_length=1, max_length=500), SECRET]
    base_url: Url = "https://api.infobip.com"
    senders: list[Number] = field(default_factory=list)


class Org(Struct, rename="camel", forbid_unknown_fields=True):
    org_id: OrgId
    instance_url: Url
    consumer_key: Annotated[str, Meta(min_length=1, max_length=500)]
    username: Annotated[str, Meta(min_length=1, max_length=255)]
    private_key: Annotated[str, Meta(min_length=1, max_length=20_000), SECRET]
    login_url: Url = "https://login.salesforce.com"  # https://test.salesforce.com for a sandbox
    api_version: Annotated[str, Meta(pattern=r"^\d{2}\.0$")] = DEFAULT_API_VERSION
    scrt_url: Url | None = None
    channel_address_identifier: Annotated[str, Meta(min_length=1, max_length=240)] | None = None
    authorization_context: Annotated[str, Meta(min_length=1, max_length=255)] | None = None
    platform_event: PlatformEvent | None = None
    accounts: list[WhatsAppAccount] = field(default_factory=list)
    # What Infobip's subscription (HMAC, HMAC_SHA_256) signs inbound messages with.
    webhook_secret: Annotated[str, Meta(min_length=1, max_length=500), SECRET] | None = None
    welcome_message: Text | None = WELCOME
    closing_message: Text | None = CLOSING

    def problem(self) -> tuple[str, str] | None:
        """(JSON path, error) of an inconsistent connection, or None."""
        if "BEGIN" not in self.private_key or "PRIVATE KEY" not in self.private_key:
            return "$.privateKey", "paste the connected app's private key in PEM form (-----BEGIN ...)"
        if self.webhook_secret is not None and len(self.webhook_secret) < MIN_SECRET:
            return "$.webhookSecret", f"use at least {MIN_SECRET} characters: it is all that guards inbound"
        names = [a.name for a in self.accounts]
        if len(set(names)) != len(names):
            return "$.accounts", "two accounts have the same name"
        seen: dict[str, str] = {}
        for i, account in enumerate(self.accounts):
            for j, sender in enumerate(account.senders):
                number = sender.lstrip("+")
                if number in seen:
                    return (
                        f"$.accounts[{i}].senders[{j}]",
                        f"sender {number} is selected in accounts {seen[number]} and {account.name}",
                    )
                seen[number] = account.name
        return None

    @property
    def ready(self) -> bool:
        """Whether messages can flow: the Interaction Service is configured and a sender is selected."""
        return bool(self.scrt_url and self.channel_address_identifier and self.authorization_context) and any(
            a.senders for a in self.accounts
        )

    def senders(self) -> list[str]:
        return [s.lstrip("+") for a in self.accounts for s in a.senders]

    def account_for(self, sender: str) -> WhatsAppAccount | None:
        number = sender.lstrip("+")
        return next((a for a in self.accounts if number in (s.lstrip("+") for s in a.senders)), None)


def engine_account(org: Org, account: WhatsAppAccount) -> str:
    """The engine account an org's Infobip account becomes: one per (org, account) pair."""
    pair = f"{org.org_id}\0{account.name}".encode()
    return f"servicecloud-{hashlib.sha256(pair).hexdigest()[:24]}-{account.name}"
