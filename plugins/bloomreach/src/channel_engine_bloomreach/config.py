"""One Bloomreach Engagement project's configuration, stored sealed per project token.

What Bloomreach's own Infobip SMS integration asks for, plus what our send endpoint needs: the tracking
API's base URL and private API key (key id and secret), the token the scenario's webhook sends us, the
Infobip account and the predefined senders with a default one, and the name events are tracked under
(`campaign` unless the project maps campaign events to another name).
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from msgspec import Meta, Struct, field

from channel_engine.documents import SECRET, InfobipAccount, Url

NAMESPACE = "bloomreach"
DEFAULT_API = "https://api.exponea.com"
MIN_WEBHOOK_TOKEN = 16
TRACKING_LIMIT_PER_MINUTE = 6000  # Bloomreach's default per source IP; instances may allow more

Sender = Annotated[str, Meta(min_length=1, max_length=16)]


class Project(Struct, rename="camel", forbid_unknown_fields=True):
    project_token: Annotated[str, Meta(pattern=r"^[A-Za-z0-9-]{1,100}$")]
    api_key_id: Annotated[str, Meta(min_length=1, max_length=200)]
    api_secret: Annotated[str, Meta(min_length=1, max_length=500), SECRET]
    # What the scenario's webhook node sends as `Authorization: Bearer <token>`.
    # At least 16 characters (checked after a masked token is replaced by the stored one).
    webhook_token: Annotated[str, Meta(min_length=1, max_length=500), SECRET]
    api_base_url: Url = DEFAULT_API
    infobip_account: InfobipAccount | None = None  # None: the engine's own account (or its simulator)
    senders: list[Sender] = field(default_factory=list)  # predefined senders; empty: any sender
    default_sender: Sender | None = None
    event_name: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")] = "campaign"
    requests_per_minute: Annotated[int, Meta(ge=1, le=1_000_000)] = TRACKING_LIMIT_PER_MINUTE
    track_inbound: bool = True  # replies tracked as `incoming_message` (NPS, feedback)

    def problem(self) -> tuple[str, str] | None:
        """(JSON path, error) of an inconsistent configuration, or None."""
        if len(self.webhook_token) < MIN_WEBHOOK_TOKEN:
            return (
                "$.webhookToken",
                f"use at least {MIN_WEBHOOK_TOKEN} characters: it is all that guards sends",
            )
        if self.default_sender and self.senders and self.default_sender not in self.senders:
            return "$.defaultSender", f"{self.default_sender!r} is not one of the predefined senders"
        return None


def account_name(project: Project) -> str | None:
    """The engine account a project's Infobip account becomes: one per (project, account) pair, whatever
    dashes either name holds."""
    if project.infobip_account is None:
        return None
    pair = f"{project.project_token}\0{project.infobip_account.name}".encode()
    return f"bloomreach-{hashlib.sha256(pair).hexdigest()[:24]}-{project.infobip_account.name}"
