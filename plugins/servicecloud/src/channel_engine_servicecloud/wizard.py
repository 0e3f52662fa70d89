"""The setup wizard's steps as a JSON API, behind the engine's API key (seed 003, "Configure the Connector
App"): each step checks what it is given against the live service before storing it.

    POST /servicecloud/setup/{orgId}/connect     Salesforce: instance URL, consumer key, user, private key,
                                                 platform event; gets a token (JWT bearer) and creates the
                                                 Conversation Vendor Info and Conversation Channel Definition
                                                 through the Tooling API unless they exist
    POST /servicecloud/setup/{orgId}/configure   channel address identifier, SCRT URL, authorization context,
                                                 inbound webhook secret, welcome and closing messages
    POST /servicecloud/setup/{orgId}/accounts    an Infobip account (API key, base URL), checked with Infobip
    POST /servicecloud/setup/{orgId}/senders     the WhatsApp senders of an account, each checked CONNECTED
    GET  /servicecloud/setup/{orgId}             the summary: steps done, the next one, and every URL and
                                                 token to paste into Salesforce and Infobip
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import httpx
import msgspec
from msgspec import Meta, Struct
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channel_engine.documents import (
    MASK,
    InfobipAccount,
    Url,
    api_key_refusal,
    check_infobip_account,
    keeping_secrets,
    masked,
    problem,
    validation_path,
)

from .auth import SalesforceAuthError
from .config import Number, Org, PlatformEvent, Text, WhatsAppAccount
from .handover import handover_token
from .panel import panel_token

if TYPE_CHECKING:
    from . import Parts

STEPS = ("connect", "configure", "accounts", "senders")
DEVELOPER_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,79}$"


class Connect(Struct, rename="camel", forbid_unknown_fields=True):
    instance_url: Url
    consumer_key: Annotated[str, Meta(min_length=1, max_length=500)]
    username: Annotated[str, Meta(min_length=1, max_length=255)]
    private_key: Annotated[str, Meta(min_length=1, max_length=20_000)]
    platform_event: PlatformEvent
    # The ConversationChannelDefinition's API name, {connected app prefix}_{name}; it is the authorization
    # context of every Interaction Service call.
    developer_name: Annotated[str, Meta(pattern=DEVELOPER_NAME)]
    login_url: Url = "https://login.salesforce.com"
    api_version: Annotated[str, Meta(pattern=r"^\d{2}\.0$")] = "63.0"
    label: Annotated[str, Meta(min_length=1, max_length=80)] = "Infobip WhatsApp"
    create_definitions: bool = True


class Configure(Struct, rename="camel", forbid_unknown_fields=True):
    channel_address_identifier: Annotated[str, Meta(min_length=1, max_length=240)]
    scrt_url: Url
    webhook_secret: Annotated[str, Meta(min_length=1, max_length=500)]
    authorization_context: Annotated[str, Meta(min_length=1, max_length=255)] | None = None
    welcome_message: Text | None = None
    closing_message: Text | None = None


class AddAccount(Struct, rename="camel", forbid_unknown_fields=True):
    name: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.-]{1,50}$")]
    api_key: Annotated[str, Meta(min_length=1, max_length=500)]
    base_url: Url = "https://api.infobip.com"


class SelectSenders(Struct, rename="camel", forbid_unknown_fields=True):
    account: str
    senders: Annotated[list[Number], Meta(min_length=1, max_length=100)]


def _decode(raw: bytes, type: Any) -> Any:
    return msgspec.json.decode(raw, type=type)


def wizard_routes(parts: Parts) -> list[Route]:
    services, orgs = parts.services, parts.orgs

    async def body_of(request: Request, type: Any) -> Any:
        try:
            return _decode(await request.body(), type)
        except msgspec.ValidationError as exc:
            raise _Refusal(problem(str(exc), validation_path(exc))) from None
        except msgspec.DecodeError as exc:
            raise _Refusal(problem(f"the body is not valid JSON: {exc}", "$")) from None

    async def existing(org_id: str) -> Org:
        org = await orgs.get(org_id)
        if org is None:
            raise _Refusal(
                JSONResponse({"error": f"org {org_id} is not connected yet: start with connect"}, 409)
            )
        return org

    async def store(org: Org) -> None:
        if (found := org.problem()) is not None:
            raise _Refusal(problem(found[1], found[0]))
        await orgs.put(org)
        await parts.saved(org)

    def guarded(step: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            if refused := api_key_refusal(services, request):
                return refused
            org_id = request.path_params["org_id"]
            try:
                return await step(request, org_id)
            except _Refusal as refusal:
                return refusal.response

        return endpoint

    async def connect(request: Request, org_id: str) -> Response:
        ask: Connect = await body_of(request, Connect)
        old = await orgs.get(org_id)
        fields = {
            "org_id": org_id,
            "instance_url": ask.instance_url,
            "login_url": ask.login_url,
            "api_version": ask.api_version,
            "consumer_key": ask.consumer_key,
            "username": ask.username,
            "private_key": ask.private_key,
            "platform_event": ask.platform_event,
            "authorization_context": ask.developer_name,
        }
        try:
            org = msgspec.structs.replace(old, **fields) if old else Org(**fields)
        except msgspec.ValidationError as exc:
            return problem(str(exc), "$.orgId")
        org, missing = keeping_secrets(org, old)
        if missing:
            return problem(
                "privateKey is the mask, but no key is stored to keep: send the key itself", "$.privateKey"
            )
        if (found := org.problem()) is not None:
            return problem(found[1], found[0])
        parts.tokens.invalidate(org)
        try:
            token = await parts.tokens.token(org)
        except SalesforceAuthError as exc:
            return JSONResponse({"step": "connect", "ok": False, "error": str(exc)}, 422)
        definitions: dict[str, Any] = {}
        if ask.create_definitions:
            try:
                definitions = await create_definitions(parts, org, token.access_token, ask)
            except ToolingError as exc:
                return JSONResponse({"step": "connect", "ok": False, "error": str(exc)}, 422)
        await store(org)
        return JSONResponse({"step": "connect", "ok": True, **definitions, "next": "configure"})

    async def configure(request: Request, org_id: str) -> Response:
        ask: Configure = await body_of(request, Configure)
        org = await existing(org_id)
        secret = org.webhook_secret if ask.webhook_secret == MASK else ask.webhook_secret
        if secret is None or secret == MASK:
            return problem(
                "webhookSecret is the mask, but none is stored: send the secret itself", "$.webhookSecret"
            )
        org = msgspec.structs.replace(
            org,
            channel_address_identifier=ask.channel_address_identifier,
            scrt_url=ask.scrt_url,
            webhook_secret=secret,
            authorization_context=ask.authorization_context or org.authorization_context,
            welcome_message=ask.welcome_message if ask.welcome_message is not None else org.welcome_message,
            closing_message=ask.closing_message if ask.closing_message is not None else org.closing_message,
        )
        await store(org)
        return JSONResponse({"step": "configure", "ok": True, "next": "accounts"})

    async def add_account(request: Request, org_id: str) -> Response:
        ask: AddAccount = await body_of(request, AddAccount)
        org = await existing(org_id)
        old = next((a for a in org.accounts if a.name == ask.name), None)
        key = old.api_key if ask.api_key == MASK and old else ask.api_key
        if key == MASK:
            return problem("apiKey is the mask, but no key is stored for this account", "$.apiKey")
        check = await check_infobip_account(
            parts.http, InfobipAccount(name=ask.name, base_url=ask.base_url, api_key=key)
        )
        if not check["ok"]:
            return JSONResponse(
                {"step": "accounts", "ok": False, "error": check["reason"], "path": "$.apiKey"}, 422
            )
        account = WhatsAppAccount(
            name=ask.name, api_key=key, base_url=ask.base_url, senders=old.senders if old else []
        )
        accounts = [a for a in org.accounts if a.name != ask.name] + [account]
        await store(msgspec.structs.replace(org, accounts=accounts))
        return JSONResponse({"step": "accounts", "ok": True, "account": ask.name, "next": "senders"})

    async def select_senders(request: Request, org_id: str) -> Response:
        ask: SelectSenders = await body_of(request, SelectSenders)
        org = await existing(org_id)
        account = next((a for a in org.accounts if a.name == ask.account), None)
        if account is None:
            return problem(f"no account {ask.account!r} is added: add it first", "$.account")
        numbers = [s.lstrip("+") for s in ask.senders]
        found = await sender_status(parts, account, numbers)
        if isinstance(found, str):
            return JSONResponse({"step": "senders", "ok": False, "error": found}, 422)
        for i, number in enumerate(numbers):
            status = found.get(number)
            if status != "CONNECTED":
                why = "is not a WhatsApp sender of this account" if status is None else f"is {status}"
                return JSONResponse(
                    {
                        "step": "senders",
                        "ok": False,
                        "path": f"$.senders[{i}]",
                        "error": f"sender {number} {why}: only CONNECTED senders can be selected",
                    },
                    422,
                )
        chosen = msgspec.structs.replace(account, senders=numbers)
        org = msgspec.structs.replace(
            org, accounts=[chosen if a.name == account.name else a for a in org.accounts]
        )
        await store(org)
        return JSONResponse({"step": "senders", "ok": True, "senders": numbers, "next": "summary"})

    async def summary(request: Request, org_id: str) -> Response:
        org = await existing(org_id)
        return JSONResponse(summarize(parts, org, str(request.base_url).rstrip("/")))

    base = "/setup/{org_id}"
    return [
        Route(base, guarded(summary), methods=["GET"]),
        Route(f"{base}/connect", guarded(connect), methods=["POST"]),
        Route(f"{base}/configure", guarded(configure), methods=["POST"]),
        Route(f"{base}/accounts", guarded(add_account), methods=["POST"]),
        Route(f"{base}/senders", guarded(select_senders), methods=["POST"]),
    ]


class _Refusal(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def steps_done(org: Org) -> dict[str, bool]:
    return {
        "connect": True,
        "configure": bool(org.scrt_url and org.channel_address_identifier and org.webhook_secret),
        "accounts": bool(org.accounts),
        "senders": any(a.senders for a in org.accounts),
    }


def summarize(parts: Parts, org: Org, request_base: str) -> dict[str, Any]:
    """Everything the admin pastes elsewhere once the steps are done."""
    base = parts.services.base_url or request_base
    root = f"{base}/servicecloud/{quote(org.org_id)}"
    done = steps_done(org)
    token = handover_token(parts.services, org.org_id)
    curl = (
        f"curl -X POST '{root}/handover' -H 'Content-Type: application/json' "
        f"-H 'Authorization: Bearer {token}' "
        '-d \'{"conversationId": "{conversationId}", "senderNumber": "{endUserDestination}"}\''
    )
    return {
        "orgId": org.org_id,
        "complete": all(done.values()),
        "steps": done,
        "next": next((step for step in STEPS if not done[step]), None),
        "configuration": masked(org),
        "infobip": {
            "inboundWebhookUrl": f"{root}/inbound",
            "webhookAuthentication": "HMAC, algorithm HMAC_SHA_256, secret key = the org's webhookSecret",
        },
        "chatbotHandover": {"url": f"{root}/handover", "token": token, "curl": curl},
        "templatePanelUrl": f"{root}/panel/{panel_token(parts.services, org.org_id)}/templates",
    }


async def sender_status(parts: Parts, account: WhatsAppAccount, numbers: list[str]) -> dict[str, str] | str:
    """Each sender's status from Infobip's sender quality API (`CONNECTED`...), or why it cannot be had."""
    try:
        response = await parts.http.get(
            f"{account.base_url.rstrip('/')}/whatsapp/1/senders/quality",
            params={"senders": ",".join(numbers)},
            headers={"Authorization": f"App {account.api_key}", "Accept": "application/json"},
        )
    except httpx.HTTPError as exc:
        return f"{account.base_url} cannot be reached ({type(exc).__name__})"
    if response.status_code in (401, 403):
        return f"Infobip refused account {account.name}'s API key (HTTP {response.status_code})"
    if response.status_code >= 300:
        return f"Infobip answered HTTP {response.status_code} for the senders' status"
    results = response.json().get("results") or []
    return {
        str(r.get("sender", "")).lstrip("+"): str(r.get("status")) for r in results if isinstance(r, dict)
    }


class ToolingError(Exception):
    pass


async def create_definitions(parts: Parts, org: Org, token: str, ask: Connect) -> dict[str, Any]:
    """The Conversation Vendor Info and Conversation Channel Definition records, created through the
    Tooling API unless a record of that developer name exists."""
    vendor = f"{ask.developer_name}_Vendor"[:80]
    event = ask.platform_event
    records = {
        "ConversationVendorInfo": (
            vendor,
            {"developerName": vendor, "masterLabel": ask.label, "vendorType": "BringYourOwnContactCenter"},
        ),
        "ConversationChannelDefinition": (
            ask.developer_name,
            {
                "developerName": ask.developer_name,
                "masterLabel": ask.label,
                "conversationVendorInfo": vendor,
                "customPlatformEvent": event.name,
                "customEventTypeField": f"{event.name}.{event.type_field}",
                "customEventPayloadField": f"{event.name}.{event.payload_field}",
                "routingOwner": "Salesforce",
                "consentOwner": "Salesforce",
            },
        ),
    }
    answer: dict[str, Any] = {}
    tooling = f"{org.instance_url.rstrip('/')}/services/data/v{org.api_version}/tooling"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    for sobject, (name, metadata) in records.items():
        key = sobject[0].lower() + sobject[1:]
        query = f"SELECT Id, DeveloperName FROM {sobject} WHERE DeveloperName = '{name}'"
        found = await parts.http.get(f"{tooling}/query", params={"q": query}, headers=headers)
        if found.status_code != 200:
            raise ToolingError(f"Salesforce refused the {sobject} query: {_reason(found)}")
        existing = found.json().get("records") or []
        if existing:
            answer[key] = {"id": existing[0].get("Id"), "developerName": name, "created": False}
            continue
        created = await parts.http.post(
            f"{tooling}/sobjects/{sobject}/", json={"FullName": name, "Metadata": metadata}, headers=headers
        )
        if created.status_code >= 300:
            raise ToolingError(f"Salesforce refused to create the {sobject} {name}: {_reason(created)}")
        answer[key] = {"id": created.json().get("id"), "developerName": name, "created": True}
    return answer


def _reason(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    first = body[0] if isinstance(body, list) and body else body
    if isinstance(first, dict):
        return (
            f"{first.get('errorCode', '')} {first.get('message', '')}".strip()
            or f"HTTP {response.status_code}"
        )
    return f"HTTP {response.status_code}"
