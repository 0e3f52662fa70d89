"""A loopback fake of the Salesforce endpoints the Service Cloud plugin calls: the login server, the core
instance (SOQL and Tooling for the setup wizard) and the SCRT2 host (the Interaction Service API), all on one
port. Written from the documented formats (WIRE-FORMATS.md Part 3, A.1-A.7 and A.10; Salesforce's
Interaction Service OpenAPI file; the Tooling objects' field lists):

    POST /services/oauth2/token                       JWT bearer flow: RS256 assertion -> access token
    GET  /services/data/vNN.0/query?q=...             SELECT ... FROM <object> [WHERE DeveloperName = '...']
    GET  /services/data/vNN.0/tooling/query?q=...     the same, Tooling's answer shape
    POST /services/data/vNN.0/tooling/sobjects/{ConversationVendorInfo|ConversationChannelDefinition}
    POST /api/v1/interactions                         multipart: `json` part, optional `attachments` file
    POST /api/v1/acknowledgement | /conversation | /conversationHistory | /route | /messagingSession
    PATCH /api/v1/consent

Every Interaction Service call needs a bearer token this fake issued, `OrgId` (the 15- or 18-character org
id), `AuthorizationContext`, a UUID `RequestId`, and `AuthorizationContextType` where the spec requires it.
Every JSON body (and the multipart `json` part) is checked against Salesforce's spec: a violation is
recorded in `spec_violations` and refused with code 10045, so a test sees it. Refusals carry the documented
codes in `{"code", "message"}`; the HTTP statuses are the fake's choice (the docs give none beyond 401 for a
bad token), so a client should act on `code`.

Where the docs are silent the fake takes the stricter reading, so a client that works here does not lean
on leniency: a typing indicator or delivery failure for an end user with no conversation yet is refused
(10025); the history import needs the conversation established first (10025), takes an entry's id equal to
its message id (10060) and counts message ids already sent in the conversation, so a retried batch is
refused (10073); `EstablishMessagingSession` opens a new session each time.

Tests drive it with knobs: `down` (SCRT answers 503), `fail_next(n, status, code)`, `slow` (seconds added to
each SCRT answer), `revoke_tokens()`, `end_session(...)`, `history_allowed`, `consent_owner`; and read what
it recorded: `interactions`, `acknowledgements`, `conversations`, `history`, `routes`, `consents`,
`messaging_sessions`, `records`, `calls`, `refused`.

    fake = FakeSalesforce()
    async with fake.running():
        org = fake.org_config(accounts=[...])
        ...
        await fake.wait_for(lambda fake: len(fake.interactions) >= 3)
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import string
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import parse_qsl

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from channel_engine.testing.servers import serve_app

from .interaction_spec import check_request

DEFAULT_ORG_ID = "00D5g000004Sx3aEAC"
LOGIN_SERVERS = ("https://login.salesforce.com", "https://test.salesforce.com")
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_AHEAD = 300  # Salesforce wants exp within 3 minutes; a little clock skew on top
TOKEN_SCOPE = "interaction_api api"
MAX_ATTACHMENT = 25 * 1024 * 1024  # error 10008
HISTORY_ENTRIES = 5  # the docs' limit per call (the spec says 25)
HISTORY_AGE_MS = 24 * 3600 * 1000  # imported history may not be older than a day
FUTURE_SKEW_MS = 60_000
EARLIEST_MS = 1_000_000_000_000  # September 2001: an earlier "millisecond" timestamp is in seconds
END_USER_MESSAGES = {"StaticContentMessage", "ChoicesResponseMessage", "FormResponseMessage"}
INBOUND_ENTRIES = {"Message", "MessageDeliveryFailed", "TypingStartedIndicator", "TypingStoppedIndicator"}
CONTEXT_TYPES = {
    "ConversationChannelDefinition",
    "EmbeddedMessagingChannel",
    "ExternalConversationParticipant",
}
HISTORY_CONTEXT = "ConversationChannelDefinition"
PLATFORM_EVENT = {"name": "Infobip_Event__e", "typeField": "EventType__c", "payloadField": "Payload__c"}
_ALPHANUMERIC = string.digits + string.ascii_letters
_ID_SUFFIX = string.ascii_uppercase + "012345"

Json = dict[str, Any]


# -- Salesforce ids -----------------------------------------------------------------------------------


def id18(id15: str) -> str:
    """The 18-character, case-insensitive form of a 15-character Salesforce id (its checksum suffix)."""
    suffix = ""
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, char in enumerate(chunk) if "A" <= char <= "Z")
        suffix += _ID_SUFFIX[bits]
    return id15 + suffix


def new_id(prefix: str) -> str:
    """A fresh 18-character record id with a 3-character key prefix (`0Mw` is a MessagingSession)."""
    return id18(prefix + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(12)))


def same_id(a: str, b: str) -> bool:
    """Whether two record ids name the same record: Salesforce shows 15 and 18 characters alike."""
    return len(a) in (15, 18) and len(b) in (15, 18) and a[:15] == b[:15]


# -- The Tooling objects the setup wizard creates -------------------------------------------------------

SYSTEM_FIELDS = ("Id", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById")
SYSTEM_FIELDS += ("SystemModstamp", "NamespacePrefix", "Language", "FullName", "Metadata")


@dataclass(frozen=True)
class ToolingObject:
    """What the fake knows of a Tooling sObject: its fields (Salesforce's names), the ones Salesforce fills
    in itself, and its Metadata form's keys (metadata key -> field, or None when no field shows it)."""

    name: str
    prefix: str
    fields: tuple[str, ...]
    read_only: frozenset[str]
    required: tuple[str, ...]
    picklists: dict[str, tuple[str, ...]]
    metadata: dict[str, str | None]
    defaults: dict[str, Any]

    def canonical(self, name: str) -> str | None:
        """The field's own spelling (sObject field names are case-insensitive)."""
        return next((f for f in self.fields if f.lower() == name.lower()), None)


_CCD_CAPABILITIES = ("CustomChannelParameters", "DoubleOptInConsent", "ExplicitConsent", "ImplicitConsent")
_CCD_CAPABILITIES += ("IsoCountryCode", "Keywords")
CONVERSATION_CHANNEL_DEFINITION = ToolingObject(
    name="ConversationChannelDefinition",
    prefix="0Zc",  # the key prefix is not documented; any 3 characters do for a fake
    fields=(
        *SYSTEM_FIELDS,
        "DeveloperName",
        "MasterLabel",
        "ConversationVendorInfoId",
        "CustomPlatformEvent",
        "CustomEventTypeField",
        "CustomEventPayloadField",
        "RoutingOwner",
        "ConsentOwner",
        "ConnectedAppType",
        "ConnectedAppOauthLink",
        "CustomerConnectedAppOauthLink",
        "CustomIconId",
        "IsInboundReceiptsEnabled",
        "IsTypingIndicatorDisabled",
        *(f"CapabilitiesSupports{c}" for c in _CCD_CAPABILITIES),
    ),
    # "DO NOT SET OR CHANGE THIS VALUE" in the docs: the OAuth links are generated
    read_only=frozenset((*SYSTEM_FIELDS, "ConnectedAppOauthLink", "CustomerConnectedAppOauthLink")),
    required=("DeveloperName", "MasterLabel", "CustomPlatformEvent", "CustomEventPayloadField"),
    picklists={
        "RoutingOwner": ("Partner", "Salesforce"),
        "ConsentOwner": ("Partner", "Salesforce"),
        "ConnectedAppType": ("Partner", "Customer"),
    },
    metadata={
        "developerName": "DeveloperName",
        "masterLabel": "MasterLabel",
        "conversationVendorInfo": "ConversationVendorInfoId",  # by developer name
        "customPlatformEvent": "CustomPlatformEvent",
        "customEventTypeField": "CustomEventTypeField",
        "customEventPayloadField": "CustomEventPayloadField",
        "routingOwner": "RoutingOwner",
        "consentOwner": "ConsentOwner",
        "connectedAppType": "ConnectedAppType",
        "connectedAppOauthLink": "ConnectedAppOauthLink",
        "customerConnectedAppOauthLink": "CustomerConnectedAppOauthLink",
        "customIcon": None,
        "isInboundReceiptsEnabled": "IsInboundReceiptsEnabled",
        "isTypingIndicatorDisabled": "IsTypingIndicatorDisabled",
        **{f"supports{c}": f"CapabilitiesSupports{c}" for c in _CCD_CAPABILITIES},
    },
    defaults={
        "RoutingOwner": "Salesforce",
        "ConsentOwner": "Salesforce",
        "ConnectedAppType": "Partner",
        "IsInboundReceiptsEnabled": False,
        "IsTypingIndicatorDisabled": False,
        **{f"CapabilitiesSupports{c}": False for c in _CCD_CAPABILITIES},
    },
)

_CVI_CAPABILITIES = ("AgentSSO", "EinsteinConversationInsights", "Intelligence", "KeyProvisioning")
_CVI_CAPABILITIES += ("NamedCredential", "PartnerContactCenterList", "PartnerPhoneNumbers")
_CVI_CAPABILITIES += ("PartnerTransferDestinations", "QueueManagement", "UniversalCallRecordingAccess")
_CVI_CAPABILITIES += ("UserSyncing",)
_CVI_METADATA_ONLY = ("awsAccountKey", "awsRootEmail", "awsTenantVersion", "clientAuthMode", "customConfig")
_CVI_METADATA_ONLY += ("customIcon", "integrationClass", "integrationClassName", "isTaxCompliant")
_CVI_METADATA_ONLY += ("namedCredential", "serverAuthMode", "unifiedRoutingSupported")
CONVERSATION_VENDOR_INFO = ToolingObject(
    name="ConversationVendorInfo",
    prefix="0m8",  # as in the object reference's example id
    fields=(
        *SYSTEM_FIELDS,
        "DeveloperName",
        "MasterLabel",
        "VendorType",
        "ConnectorUrl",
        "CustomLoginUrl",
        "BridgeComponent",
        "TelephonySettingsComponent",
        "IntegrationClassId",
        "NamedCredentialId",
        "CustomIconId",
        *(f"CapabilitiesSupports{c}" for c in _CVI_CAPABILITIES),
    ),
    read_only=frozenset(SYSTEM_FIELDS),
    required=("DeveloperName", "MasterLabel"),
    picklists={},
    metadata={
        "developerName": "DeveloperName",
        "masterLabel": "MasterLabel",
        "vendorType": "VendorType",
        "connectorUrl": "ConnectorUrl",
        "customLoginUrl": "CustomLoginUrl",
        "bridgeComponent": "BridgeComponent",
        "telephonySettingsComponent": "TelephonySettingsComponent",
        "agentSSOSupported": "CapabilitiesSupportsAgentSSO",
        "einsteinConversationInsightsSupported": "CapabilitiesSupportsEinsteinConversationInsights",
        "intelligenceSupported": "CapabilitiesSupportsIntelligence",
        "keyProvisioningSupported": "CapabilitiesSupportsKeyProvisioning",
        "namedCredentialSupported": "CapabilitiesSupportsNamedCredential",
        "partnerContactCenterListSupported": "CapabilitiesSupportsPartnerContactCenterList",
        "partnerPhoneNumbersSupported": "CapabilitiesSupportsPartnerPhoneNumbers",
        "partnerTransferDestinationsSupported": "CapabilitiesSupportsPartnerTransferDestinations",
        "queueManagementSupported": "CapabilitiesSupportsQueueManagement",
        "universalCallRecordingAccessSupported": "CapabilitiesSupportsUniversalCallRecordingAccess",
        "userSyncingSupported": "CapabilitiesSupportsUserSyncing",
        # Metadata keys without a queryable field: kept in the record's Metadata only
        **dict.fromkeys(_CVI_METADATA_ONLY),
    },
    defaults={f"CapabilitiesSupports{c}": False for c in _CVI_CAPABILITIES},
)

TOOLING_OBJECTS = {o.name: o for o in (CONVERSATION_VENDOR_INFO, CONVERSATION_CHANNEL_DEFINITION)}
_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<object>\w+)"
    r"(?:\s+WHERE\s+(?P<field>\w+)\s*=\s*'(?P<value>(?:[^'\\]|\\.)*)')?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_EVENT_NAME = re.compile(r"^\w+__e$")
_EVENT_FIELD = re.compile(r"^(\w+__e\.)?\w+__c$")
_API_VERSION = re.compile(r"^v\d{2}\.0$")


# -- What the fake remembers --------------------------------------------------------------------------


@dataclass
class FakeConversation:
    """A conversation between the channel and one end user, with its messaging sessions."""

    identifier: str
    end_user: str
    session_id: str | None = None  # the session new messages go to (Active or Inactive)
    sessions: dict[str, str] = field(default_factory=dict)  # session id -> Active, Inactive, Ended
    message_ids: set[str] = field(default_factory=set)  # every message id seen, for error 10073

    def session(self, session_id: str) -> str | None:
        """The session's own id when `session_id` (15 or 18 characters) is one of this conversation's."""
        return next((s for s in self.sessions if same_id(s, session_id)), None)


@dataclass
class Part:
    """One part of a multipart/form-data body."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes


class _Refusal(Exception):
    """An Interaction Service error answer: `{"code", "message"}` (or the operation's own error shape)."""

    def __init__(self, status: int, code: int, message: str, body: Json | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.body = body if body is not None else {"code": code, "message": message}


@dataclass
class _Call:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    files: list[Part]


class FakeSalesforce:
    def __init__(
        self,
        *,
        org_id: str = DEFAULT_ORG_ID,
        username: str = "integration@example.com",
        consumer_key: str | None = None,
        channel_address_identifier: str | None = None,
        authorization_context: str = "Infobip_ChannelDefinition",
        extra_routes: Sequence[BaseRoute] = (),
    ) -> None:
        self.org_id = org_id if len(org_id) == 18 else id18(org_id)
        self.username = username
        self.consumer_key = consumer_key or "3MVG9" + secrets.token_urlsafe(60).replace("-", "").replace(
            "_", ""
        )
        self.channel_address_identifier = channel_address_identifier or str(uuid.uuid4())
        self.authorization_context = authorization_context
        self.user_id = new_id("005")
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_key = key  # for signing in tests without parsing the PEM each time
        self.private_key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        self.public_key = key.public_key()
        self._signing_secret = secrets.token_bytes(32)  # stands in for the connected app's consumer secret
        self.url = ""

        # knobs
        self.down = False
        self.slow = 0.0
        self.history_allowed = True  # False: the org is not BYOC for CCaaS (error 10057)
        # Who owns consent when no ConversationChannelDefinition record says: BYOC for Messaging requires
        # Salesforce, and then PATCH /consent is refused (10022).
        self.consent_owner = "Salesforce"
        self._failures: list[tuple[int, int | None]] = []

        # what it recorded
        self.tokens_issued = 0
        self.token_refusals: list[str] = []  # why each assertion was refused, in the fake's own words
        self.interactions: list[Json] = []
        self.acknowledgements: list[Json] = []
        self.conversations: dict[str, FakeConversation] = {}
        self.history: dict[str, list[Json]] = {}  # conversation identifier -> entries, as received
        self.history_calls: list[Json] = []
        self.routes: list[Json] = []
        self.consents: list[Json] = []
        self.messaging_sessions: list[Json] = []
        self.records: dict[str, list[Json]] = {name: [] for name in TOOLING_OBJECTS}
        self.spec_violations: list[str] = []
        self.refused: list[Json] = []  # every refused call: method, path, status, body
        self.calls: list[tuple[str, str, int]] = []  # every call: method, path, status

        self._tokens: set[str] = set()
        self._changed = asyncio.Condition()
        scrt: list[tuple[str, str, Callable[[_Call], tuple[int, Json]]]] = [
            ("POST", "/interactions", self._interaction),
            ("POST", "/acknowledgement", self._acknowledgement),
            ("POST", "/conversation", self._conversation),
            ("POST", "/conversationHistory", self._history),
            ("POST", "/route", self._route),
            ("PATCH", "/consent", self._consent),
            ("POST", "/messagingSession", self._messaging_session),
        ]
        data = "/services/data/{version}"
        routes: list[BaseRoute] = [
            Route("/services/oauth2/token", self._token, methods=["POST"]),
            *(
                Route(f"{data}{path}", self._query, methods=["GET"])
                for path in ("/query", "/query/", "/tooling/query", "/tooling/query/")
            ),
            *(
                Route(f"{data}/tooling/sobjects/{{sobject}}{slash}", self._create, methods=["POST"])
                for slash in ("", "/")
            ),
            *(
                Route(f"/api/v1{path}", self._scrt(handler), methods=[method])
                for method, path, handler in scrt
            ),
            *extra_routes,
            Route("/api/v1/{rest:path}", self._unknown, methods=["GET", "POST", "PATCH", "PUT", "DELETE"]),
        ]
        self.app = Starlette(routes=routes)

    # -- for tests --------------------------------------------------------------------------------------

    @asynccontextmanager
    async def running(self) -> AsyncIterator[FakeSalesforce]:
        async with serve_app(self.app) as url:
            self.url = url
            yield self

    def org_config(self, **overrides: Any) -> Json:
        """The org's connection document in wire form (camelCase), every URL pointing at this fake."""
        if not self.url:
            raise RuntimeError("org_config() needs the fake running: call it inside `async with running()`")
        return {
            "orgId": self.org_id,
            "instanceUrl": self.url,
            "loginUrl": self.url,
            "scrtUrl": self.url,
            "consumerKey": self.consumer_key,
            "username": self.username,
            "privateKey": self.private_key_pem,
            "channelAddressIdentifier": self.channel_address_identifier,
            "authorizationContext": self.authorization_context,
            "platformEvent": dict(PLATFORM_EVENT),
            **overrides,
        }

    def authorized(self, authorization_header: str | None) -> bool:
        """Whether an `Authorization` header carries a bearer token this fake issued and did not revoke."""
        scheme, _, token = (authorization_header or "").partition(" ")
        return scheme == "Bearer" and token in self._tokens

    def revoke_tokens(self) -> None:
        """Every token issued so far stops working (an expired or revoked session)."""
        self._tokens.clear()

    def fail_next(self, count: int, status: int = 503, code: int | None = None) -> None:
        """The next `count` Interaction Service calls answer `status` (with `{"code": code}` when a code is
        given, else a plain-text body as a load balancer would) and are not recorded."""
        self._failures = [(status, code)] * count

    def conversation_for(self, end_user: str) -> FakeConversation | None:
        return next((c for c in self.conversations.values() if c.end_user == end_user), None)

    def end_session(self, conversation_identifier: str) -> str | None:
        """An agent ends the conversation's session; the end user's next message opens a new one. Returns
        the ended session's id."""
        conversation = self.conversations[conversation_identifier]
        ended = conversation.session_id
        if ended is not None:
            conversation.sessions[ended] = "Ended"
            conversation.session_id = None
        return ended

    def create_record(self, sobject: str, fields: Json) -> str:
        """Create a Tooling record as the setup wizard would (for tests that start with one); its id."""
        status, body = self._create_record(TOOLING_OBJECTS[sobject], fields)
        if status != 201:
            raise ValueError(f"cannot create {sobject}: {body}")
        return str(body["id"])

    async def wait_for(self, predicate: Callable[[FakeSalesforce], bool], timeout: float = 10.0) -> None:
        """Wait until `predicate(fake)` holds; checked after every call the fake answers."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: predicate(self))

    async def _changed_now(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- the login server: OAuth 2.0 JWT bearer flow -------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("latin-1")))
        status, body = self._grant(request.headers.get("content-type", ""), form)
        self.calls.append(("POST", request.url.path, status))
        if status != 200:
            self.refused.append({"method": "POST", "path": request.url.path, "status": status, "body": body})
        await self._changed_now()
        return JSONResponse(body, status)

    def _grant(self, content_type: str, form: dict[str, str]) -> tuple[int, Json]:
        def refuse(error: str, description: str, why: str) -> tuple[int, Json]:
            self.token_refusals.append(why)
            return 400, {"error": error, "error_description": description}

        if not content_type.startswith("application/x-www-form-urlencoded"):
            return refuse("invalid_request", "invalid content type", f"Content-Type is {content_type!r}")
        if form.get("grant_type") != JWT_GRANT:
            why = f"grant_type is {form.get('grant_type')!r}, not {JWT_GRANT}"
            return refuse("unsupported_grant_type", "grant type not supported", why)
        assertion = form.get("assertion", "")
        try:
            if jwt.get_unverified_header(assertion).get("alg") != "RS256":
                return refuse("invalid_grant", "invalid assertion", "the assertion is not signed with RS256")
            claims = jwt.decode(
                assertion,
                self.public_key,
                algorithms=["RS256"],
                audience=[self.url, *LOGIN_SERVERS],
                options={"require": ["iss", "sub", "aud", "exp"]},
            )
        except jwt.InvalidAudienceError:
            return refuse("invalid_grant", "audience is invalid", "aud is not this login server")
        except jwt.ExpiredSignatureError:
            return refuse("invalid_grant", "expired authorization code", "exp is in the past")
        except jwt.PyJWTError as exc:
            return refuse("invalid_grant", "invalid assertion", f"{type(exc).__name__}: {exc}")
        exp = claims["exp"]
        if not isinstance(exp, int):
            return refuse("invalid_grant", "invalid assertion", f"exp {exp!r} is not whole seconds")
        if exp > time.time() + ASSERTION_AHEAD:
            why = f"exp {exp} is more than {ASSERTION_AHEAD} s ahead (milliseconds instead of seconds?)"
            return refuse("invalid_grant", "invalid assertion", why)
        if claims["iss"] != self.consumer_key:
            return refuse("invalid_client_id", "client identifier invalid", "iss is not the consumer key")
        if claims["sub"] != self.username:
            why = f"sub {claims['sub']!r} is not the pre-authorized user"
            return refuse("invalid_grant", "user hasn't approved this consumer", why)
        token = f"{self.org_id[:15]}!{secrets.token_urlsafe(72)}"
        self._tokens.add(token)
        self.tokens_issued += 1
        identity = f"{self.url}/id/{self.org_id}/{self.user_id}"
        issued_at = str(int(time.time() * 1000))
        signature = hmac.new(self._signing_secret, (identity + issued_at).encode(), hashlib.sha256).digest()
        return 200, {
            "access_token": token,
            "scope": TOKEN_SCOPE,
            "instance_url": self.url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": base64.b64encode(signature).decode(),
        }

    # -- the core instance: SOQL and Tooling ----------------------------------------------------------

    async def _rest(self, request: Request, answer: Callable[[], Awaitable[tuple[int, Any]]]) -> Response:
        if not self.authorized(request.headers.get("authorization")):
            status, body = 401, _rest_error("INVALID_SESSION_ID", "Session expired or invalid")
        elif not _API_VERSION.match(request.path_params["version"]):
            status, body = 404, _rest_error("NOT_FOUND", "The requested resource does not exist")
        else:
            status, body = await answer()
        self.calls.append((request.method, request.url.path, status))
        if status >= 400:
            self.refused.append(
                {"method": request.method, "path": request.url.path, "status": status, "body": body}
            )
        await self._changed_now()
        return JSONResponse(body, status)

    async def _query(self, request: Request) -> Response:
        async def answer() -> tuple[int, Any]:
            tooling = "/tooling/" in request.url.path
            return self._soql(request.query_params.get("q", ""), request.path_params["version"], tooling)

        return await self._rest(request, answer)

    def _soql(self, query: str, version: str, tooling: bool) -> tuple[int, Any]:
        match = _QUERY.match(query)
        if match is None or (match["field"] and match["field"].lower() != "developername"):
            why = "the fake takes SELECT <fields> FROM <object> [WHERE DeveloperName = '<name>'] [LIMIT n]"
            return 400, _rest_error("MALFORMED_QUERY", f"unexpected query {query!r}: {why}")
        sobject = TOOLING_OBJECTS.get(
            next((n for n in TOOLING_OBJECTS if n.lower() == match["object"].lower()), "")
        )
        if sobject is None:
            return 400, _rest_error("INVALID_TYPE", f"sObject type '{match['object']}' is not supported.")
        names = [name.strip() for name in match["fields"].split(",")]
        selected: list[str] = []
        for name in names:
            canonical = sobject.canonical(name)
            if canonical is None:
                message = f"No such column '{name}' on entity '{sobject.name}'."
                return 400, _rest_error("INVALID_FIELD", message)
            selected.append(canonical)
        records = self.records[sobject.name]
        if match["field"]:
            wanted = re.sub(r"\\(.)", r"\1", match["value"]).lower()
            records = [r for r in records if str(r["DeveloperName"]).lower() == wanted]
        if match["limit"]:
            records = records[: int(match["limit"])]
        base = f"/services/data/{version}/{'tooling/' if tooling else ''}sobjects/{sobject.name}"
        rows = [
            {
                "attributes": {"type": sobject.name, "url": f"{base}/{r['Id']}"},
                **{f: r.get(f) for f in selected},
            }
            for r in records
        ]
        if tooling:
            return 200, {
                "size": len(rows),
                "totalSize": len(rows),
                "done": True,
                "queryLocator": None,
                "entityTypeName": sobject.name,
                "records": rows,
            }
        return 200, {"totalSize": len(rows), "done": True, "records": rows}

    async def _create(self, request: Request) -> Response:
        async def answer() -> tuple[int, Any]:
            sobject = TOOLING_OBJECTS.get(request.path_params["sobject"])
            if sobject is None:
                return 404, _rest_error("NOT_FOUND", "The requested resource does not exist")
            try:
                body = json.loads(await request.body())
            except ValueError as exc:
                return 400, _rest_error("JSON_PARSER_ERROR", f"the body is not JSON: {exc}")
            if not isinstance(body, dict):
                return 400, _rest_error("JSON_PARSER_ERROR", "the body must be a JSON object")
            return self._create_record(sobject, body)

        return await self._rest(request, answer)

    def _create_record(self, sobject: ToolingObject, body: Json) -> tuple[int, Any]:
        """A Tooling create, in either form Salesforce takes: the object's fields, or `FullName` with the
        metadata type's `Metadata`."""
        if any(key.lower() == "metadata" for key in body):
            fields, problem = self._from_metadata(sobject, body)
        else:
            fields, problem = self._from_fields(sobject, body)
        if problem is not None:
            return 400, problem
        missing = [name for name in sobject.required if fields.get(name) in (None, "")]
        if missing:
            message = f"Required fields are missing: [{', '.join(missing)}]"
            return 400, [{"message": message, "errorCode": "REQUIRED_FIELD_MISSING", "fields": missing}]
        for name, allowed in sobject.picklists.items():
            if name in fields and fields[name] not in allowed:
                message = f"bad value for restricted picklist field: {fields[name]}"
                return 400, [{"message": message, "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"}]
        if sobject is CONVERSATION_CHANNEL_DEFINITION:
            problem = self._channel_definition_problem(fields)
            if problem is not None:
                return 400, problem
        name = str(fields["DeveloperName"])
        if any(str(r["DeveloperName"]).lower() == name.lower() for r in self.records[sobject.name]):
            message = f"The developer name {name} is already in use by another {sobject.name}."
            return 400, [{"message": message, "errorCode": "DUPLICATE_DEVELOPER_NAME", "fields": []}]
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime())
        record = {f: None for f in sobject.fields}
        record.update(sobject.defaults)
        record.update(fields)
        record.update(
            Id=new_id(sobject.prefix),
            IsDeleted=False,
            CreatedDate=now,
            CreatedById=self.user_id,
            LastModifiedDate=now,
            LastModifiedById=self.user_id,
            SystemModstamp=now,
            Language="en_US",
            FullName=name,
        )
        shown = {m: record.get(f) for m, f in sobject.metadata.items() if f is not None}
        if record.get("ConversationVendorInfoId"):  # the metadata form names the vendor, not its id
            vendor = next(
                r
                for r in self.records["ConversationVendorInfo"]
                if r["Id"] == record["ConversationVendorInfoId"]
            )
            shown["conversationVendorInfo"] = vendor["DeveloperName"]
        record["Metadata"] = {**shown, **(fields.get("Metadata") or {})}
        self.records[sobject.name].append(record)
        return 201, {"id": record["Id"], "success": True, "errors": [], "warnings": [], "infos": []}

    def _from_fields(self, sobject: ToolingObject, body: Json) -> tuple[Json, Any]:
        fields: Json = {}
        for key, value in body.items():
            canonical = sobject.canonical(key)
            if canonical is None:
                message = f"No such column '{key}' on sobject of type {sobject.name}"
                return {}, [{"message": message, "errorCode": "INVALID_FIELD"}]
            if canonical in sobject.read_only:
                message = (
                    f"Unable to create/update fields: {canonical}. Please check the security settings of "
                )
                message += "this field and verify that it is read/write for your profile or permission set."
                return {}, [{"message": message, "errorCode": "INVALID_FIELD_FOR_INSERT_UPDATE"}]
            fields[canonical] = value
        if "ConversationVendorInfoId" in fields:
            wanted = str(fields["ConversationVendorInfoId"] or "")
            vendor = next(
                (r for r in self.records["ConversationVendorInfo"] if same_id(r["Id"], wanted)), None
            )
            if vendor is None:
                message = f"invalid cross reference id: ConversationVendorInfoId {wanted!r}"
                return {}, [{"message": message, "errorCode": "INVALID_CROSS_REFERENCE_KEY"}]
            fields["ConversationVendorInfoId"] = vendor["Id"]
        return fields, _type_problem(fields)

    def _from_metadata(self, sobject: ToolingObject, body: Json) -> tuple[Json, Any]:
        unknown = [key for key in body if key not in ("FullName", "Metadata")]
        metadata = body.get("Metadata")
        if unknown or not isinstance(metadata, dict):
            what = f"unexpected keys {unknown}" if unknown else "Metadata must be an object"
            return {}, [{"message": f"{sobject.name}: {what}", "errorCode": "JSON_PARSER_ERROR"}]
        fields: Json = {}
        for key, value in metadata.items():
            if key not in sobject.metadata:
                message = f'Unrecognized field "{key}" in the {sobject.name} metadata type'
                return {}, [{"message": message, "errorCode": "JSON_PARSER_ERROR"}]
            target = sobject.metadata[key]
            if target in sobject.read_only and target is not None:
                message = f"Unable to create/update fields: {key}. The value is generated by Salesforce."
                return {}, [{"message": message, "errorCode": "INVALID_FIELD_FOR_INSERT_UPDATE"}]
            if target == "ConversationVendorInfoId":
                vendor = next(
                    (r for r in self.records["ConversationVendorInfo"] if r["DeveloperName"] == value), None
                )
                if vendor is None:
                    message = f"conversationVendorInfo: no ConversationVendorInfo named {value!r}"
                    return {}, [{"message": message, "errorCode": "INVALID_CROSS_REFERENCE_KEY"}]
                value = vendor["Id"]
            if target is not None:
                fields[target] = value
        fields.setdefault("DeveloperName", body.get("FullName"))
        problem = _type_problem(fields)
        fields["Metadata"] = dict(metadata)  # with the keys no field shows
        return fields, problem

    def _channel_definition_problem(self, fields: Json) -> Any:
        """The platform event and its fields are restricted picklists of the org's events: API names."""
        checks = (
            ("CustomPlatformEvent", _EVENT_NAME),
            ("CustomEventTypeField", _EVENT_FIELD),
            ("CustomEventPayloadField", _EVENT_FIELD),
        )
        for name, pattern in checks:
            value = fields.get(name)
            if value is not None and not (isinstance(value, str) and pattern.match(value)):
                message = f"bad value for restricted picklist field: {value} ({name} takes an API name)"
                return [{"message": message, "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"}]
        return None

    # -- the SCRT2 host: the Interaction Service ------------------------------------------------------

    def _scrt(self, handler: Callable[[_Call], tuple[int, Json]]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            response = await self._scrt_answer(request, handler)
            self.calls.append((request.method, request.url.path, response.status_code))
            await self._changed_now()
            return response

        return endpoint

    async def _scrt_answer(self, request: Request, handler: Callable[[_Call], tuple[int, Json]]) -> Response:
        raw = await request.body()
        if self.slow:
            await asyncio.sleep(self.slow)
        if self.down:
            return PlainTextResponse("Service Unavailable", 503)
        if self._failures:
            status, code = self._failures.pop(0)
            if code is None:
                return PlainTextResponse(f"failing on purpose ({status})", status)
            return JSONResponse({"code": code, "message": f"failing on purpose ({code})"}, status)
        path = request.url.path
        try:
            headers = self._headers(request)
            body, files = self._body(request, raw)
            problems = check_request(request.method, path, body)
            if problems:
                self.spec_violations += [f"{request.method} {path}: {p}" for p in problems]
                raise _Refusal(400, 10045, f"the body does not match the Interaction API spec: {problems[0]}")
            status, answer = handler(_Call(request.method, path, headers, body, files))
        except _Refusal as refusal:
            self.refused.append(
                {"method": request.method, "path": path, "status": refusal.status, "body": refusal.body}
            )
            return JSONResponse(refusal.body, refusal.status)
        return JSONResponse(answer, status)

    def _headers(self, request: Request) -> dict[str, str]:
        headers = dict(request.headers)
        if not self.authorized(headers.get("authorization")):
            raise _Refusal(401, 10004, "the Authorization bearer token is not valid")
        org = headers.get("orgid")
        if not org:
            raise _Refusal(400, 10016, "the OrgId header is required")
        if not same_id(org, self.org_id):
            raise _Refusal(400, 10016, f"the OrgId header {org!r} is not this org's id")
        context = headers.get("authorizationcontext")
        if not context:
            raise _Refusal(400, 10016, "the AuthorizationContext header is required")
        if context != self.authorization_context:
            raise _Refusal(403, 10005, f"the AuthorizationContext {context!r} is not valid for this token")
        request_id = headers.get("requestid")
        if not request_id:
            raise _Refusal(400, 10016, "the RequestId header is required (a UUID per request)")
        try:
            uuid.UUID(request_id)
        except ValueError:
            raise _Refusal(400, 10016, f"the RequestId header {request_id!r} is not a UUID") from None
        context_type = headers.get("authorizationcontexttype")
        if request.url.path.endswith("/conversationHistory") and not context_type:
            raise _Refusal(400, 10016, "the AuthorizationContextType header is required here")
        if context_type is not None and context_type not in CONTEXT_TYPES:
            raise _Refusal(400, 10093, f"the AuthorizationContextType {context_type!r} is not a known type")
        return headers

    def _body(self, request: Request, raw: bytes) -> tuple[Any, list[Part]]:
        content_type = request.headers.get("content-type", "")
        multipart = request.url.path.endswith("/interactions")
        expected = "multipart/form-data" if multipart else "application/json"
        if not content_type.startswith(expected):
            raise _Refusal(
                400, 10016, f"the Content-Type header is {content_type!r}; this call takes {expected}"
            )
        files: list[Part] = []
        if multipart:
            try:
                parts = parse_multipart(content_type, raw)
            except ValueError as exc:
                raise self._format_error(request, f"the multipart body is malformed: {exc}") from None
            named = [p for p in parts if p.name == "json"]
            files = [p for p in parts if p.name == "attachments"]
            others = sorted({p.name for p in parts} - {"json", "attachments"})
            if len(named) != 1 or others:
                why = f"parts named {others}" if others else f"{len(named)} parts named json"
                raise self._format_error(
                    request, f"the body needs exactly one `json` part and no others ({why})"
                )
            if not (named[0].content_type or "").startswith("application/json"):
                raise self._format_error(request, "the `json` part must have Content-Type application/json")
            raw = named[0].data
        try:
            return json.loads(raw), files
        except ValueError as exc:
            raise self._format_error(request, f"the JSON cannot be parsed: {exc}") from None

    def _format_error(self, request: Request, message: str) -> _Refusal:
        self.spec_violations.append(f"{request.method} {request.url.path}: {message}")
        return _Refusal(400, 10045, message)

    def _spec_error(self, call: _Call, message: str) -> _Refusal:
        self.spec_violations.append(f"{call.method} {call.path}: {message}")
        return _Refusal(400, 10045, message)

    # -- POST /api/v1/interactions ------------------------------------------------------------------

    def _interaction(self, call: _Call) -> tuple[int, Json]:
        body = call.body
        if body["to"] != self.channel_address_identifier:
            raise _Refusal(400, 10017, f"to: channel address identifier {body['to']!r} does not exist")
        end_user = body["from"]
        if not end_user.strip():
            raise _Refusal(400, 10028, "from: the end user client identifier is empty")
        interaction = body["interactions"][0]
        if interaction["timestamp"] < EARLIEST_MS:
            raise self._spec_error(call, f"timestamp {interaction['timestamp']} is not in milliseconds")
        attachment: Part | None = None
        message_id: str | None = None
        if interaction["interactionType"] == "AttachmentInteraction":
            if len(call.files) != 1 or interaction["attachmentIndex"] != 0:
                index = interaction["attachmentIndex"]
                why = f"{len(call.files)} attachments parts for attachmentIndex {index}"
                raise _Refusal(400, 10011, f"one AttachmentInteraction needs one attachments file ({why})")
            attachment = call.files[0]
            if not attachment.data:
                raise _Refusal(400, 10009, "attachments: the file is empty")
            if len(attachment.data) > MAX_ATTACHMENT:
                raise _Refusal(400, 10008, "attachments: the file is larger than 25 MB")
            if interaction["contentLength"] != len(attachment.data):
                size = len(attachment.data)
                raise _Refusal(
                    400, 10051, f"contentLength is {interaction['contentLength']}; the file has {size} bytes"
                )
            creates = True
        else:
            if call.files:
                raise _Refusal(400, 10011, "an EntryInteraction takes no attachments part")
            entry = interaction["payload"]
            kind = entry["entryType"]
            if kind not in INBOUND_ENTRIES:
                raise self._spec_error(call, f"entryType {kind!r} is not one a partner sends")
            if kind == "Message":
                message = entry["abstractMessage"]
                if message["messageType"] not in END_USER_MESSAGES:
                    raise _Refusal(400, 10047, f"messageType {message['messageType']!r} is not an end user's")
                message_id = message["id"]
            if kind == "MessageDeliveryFailed":
                recipient = entry["recipient"]
                if recipient["appType"] != "custom":
                    raise _Refusal(400, 10037, "recipient.appType must be custom")
                if recipient["role"] != "EndUser":
                    raise _Refusal(400, 10038, "recipient.role must be EndUser")
            creates = kind == "Message"
        conversation = self.conversation_for(end_user)
        if conversation is None:
            if not creates:  # typing or a delivery failure before any message
                raise _Refusal(400, 10025, f"no conversation between {body['to']!r} and {end_user!r}")
            conversation = self._new_conversation(end_user)
        if creates:
            if conversation.session_id is None:
                self._new_session(conversation)
            else:
                conversation.sessions[conversation.session_id] = "Active"  # a message wakes an Inactive one
        if message_id is not None:
            conversation.message_ids.add(message_id)
        self.interactions.append(
            {
                "headers": call.headers,
                "json": body,
                "attachment": attachment.data if attachment else None,
                "attachment_name": attachment.filename if attachment else None,
                "attachment_type": attachment.content_type if attachment else None,
                "conversation_identifier": conversation.identifier,
                "session_id": conversation.session_id,
            }
        )
        work_items = [conversation.session_id] if conversation.session_id else []
        return 202, {
            "conversationIdentifier": conversation.identifier,
            "id": str(uuid.uuid4()),
            "workItemIds": work_items,
            "success": True,
        }

    # -- POST /api/v1/acknowledgement ----------------------------------------------------------------

    def _acknowledgement(self, call: _Call) -> tuple[int, Json]:
        body = call.body
        conversation = self._known(body["conversationIdentifier"])
        sender = body["sender"]
        if (sender["subject"], sender["role"], sender["appType"]) != (
            conversation.end_user,
            "EndUser",
            "custom",
        ):
            raise _Refusal(400, 10036, "sender: the conversation has no such end user participant")
        self.acknowledgements.append({"headers": call.headers, "json": body})
        return 200, {"success": True}

    # -- POST /api/v1/conversation -----------------------------------------------------------------------

    def _conversation(self, call: _Call) -> tuple[int, Json]:
        body = call.body
        if body["channelAddressIdentifier"] != self.channel_address_identifier:
            raise _Refusal(400, 10052, "channelAddressIdentifier is not this channel's")
        person = body["participants"][0]
        if person["role"] != "EndUser" or person["appType"] != "custom":
            raise _Refusal(400, 10053, "participants: one end user (role EndUser, appType custom)")
        if not person["subject"].strip():
            raise _Refusal(400, 10054, "participants[0].subject is empty")
        conversation = self.conversation_for(person["subject"]) or self._new_conversation(person["subject"])
        if conversation.session_id is None:
            self._new_session(conversation)
        return 202, {
            "conversationIdentifier": conversation.identifier,
            "messagingSessionId": conversation.session_id,
            "success": True,
        }

    # -- POST /api/v1/conversationHistory ---------------------------------------------------------------

    def _history(self, call: _Call) -> tuple[int, Json]:
        body = call.body
        if call.headers.get("authorizationcontexttype") != HISTORY_CONTEXT:
            raise _Refusal(400, 10093, f"AuthorizationContextType must be {HISTORY_CONTEXT} here")
        if not self.history_allowed:
            raise _Refusal(403, 10057, "this org has no access to the conversation history API (CCaaS only)")
        if body["channelAddressIdentifier"] != self.channel_address_identifier:
            raise _Refusal(400, 10069, "channelAddressIdentifier is not this channel's")
        now = int(time.time() * 1000)
        participants = body["conversationParticipants"]
        for person in participants:
            who = person["participant"]
            if who["role"] not in ("EndUser", "Chatbot"):
                raise _Refusal(400, 10043, f"participant {who['subject']!r}: role must be Chatbot or EndUser")
            if who["role"] == "EndUser" and "leftTime" in person:
                raise _Refusal(400, 10065, "the end user participant must not have a leftTime")
            if who["role"] == "Chatbot" and "leftTime" not in person:
                raise _Refusal(400, 10066, f"chatbot {who['subject']!r} needs a leftTime")
            if "leftTime" in person and person["leftTime"] <= person["joinedTime"]:
                raise _Refusal(
                    400, 10067, f"participant {who['subject']!r}: joinedTime must precede leftTime"
                )
        end_users = [p for p in participants if p["participant"]["role"] == "EndUser"]
        if len(end_users) != 1:
            raise _Refusal(400, 10042 if not end_users else 10044, "include exactly one end user participant")
        end_user = end_users[0]["participant"]["subject"]
        conversation = self.conversation_for(end_user)
        if conversation is None:
            raise _Refusal(400, 10025, f"no conversation with {end_user!r}: establish it with /conversation")
        entries = body["conversationEntries"]
        if len(entries) > HISTORY_ENTRIES:
            raise _Refusal(400, 10078, f"conversationEntries: at most {HISTORY_ENTRIES} per call")
        seen = set(conversation.message_ids)
        for i, entry in enumerate(entries):
            self._history_entry(f"conversationEntries[{i}]", entry, participants, seen, now)
        session = self._history_session(conversation, body.get("messagingSession"), now)
        conversation.message_ids = seen
        self.history.setdefault(conversation.identifier, []).extend(entries)
        self.history_calls.append(
            {"headers": call.headers, "json": body, "conversation_identifier": conversation.identifier}
        )
        return 202, {
            "success": True,
            "conversationIdentifier": conversation.identifier,
            "messagingSessionId": session,
        }

    def _history_entry(
        self, where: str, entry: Json, participants: list[Json], seen: set[str], now: int
    ) -> None:
        sender = entry["sender"]
        person = next(
            (
                p
                for p in participants
                if (p["participant"]["subject"], p["participant"]["role"])
                == (sender["subject"], sender["role"])
            ),
            None,
        )
        if person is None:
            raise _Refusal(400, 10068, f"{where}.sender {sender['subject']!r} is not a participant")
        stamp = entry["clientTimestamp"]
        if stamp < now - HISTORY_AGE_MS or stamp > now + FUTURE_SKEW_MS:
            raise _Refusal(
                400, 10046, f"{where}.clientTimestamp {stamp}: history must be from the last 24 hours"
            )
        if stamp < person["joinedTime"] or stamp > person.get("leftTime", now + FUTURE_SKEW_MS):
            raise _Refusal(
                400, 10074, f"{where}.clientTimestamp {stamp} is outside its sender's joined/left time"
            )
        payload = entry["entryPayload"]
        message = payload.get("abstractMessage")
        if payload["entryType"] != "Message" or not isinstance(message, dict):
            return
        if not payload["id"] or not message["id"]:
            raise _Refusal(400, 10059, f"{where}: the entry id or message id is empty")
        if payload["id"] != message["id"]:
            raise _Refusal(400, 10060, f"{where}: entryPayload.id and abstractMessage.id differ")
        if sender["role"] == "EndUser" and message["messageType"] not in END_USER_MESSAGES:
            raise _Refusal(400, 10062, f"{where}: an end user cannot send {message['messageType']}")
        if message["id"] in seen:
            raise _Refusal(
                400, 10073, f"{where}: message id {message['id']!r} is already in the conversation"
            )
        seen.add(message["id"])

    def _history_session(self, conversation: FakeConversation, request: Json | None, now: int) -> str:
        if request is None:  # no session asked for: the conversation's, as /conversation would give
            return conversation.session_id or self._new_session(conversation)
        payload = request["payload"]
        if request["messagingSessionRequestType"] == "AttachMessagingSession":
            session = conversation.session(payload["sessionId"])
            if session is None:
                raise _Refusal(400, 10071, f"sessionId {payload['sessionId']!r} is not this conversation's")
            return session
        start = payload["startTime"]
        if start < now - HISTORY_AGE_MS or start > now + FUTURE_SKEW_MS:
            raise _Refusal(
                400, 10061, f"messagingSession.payload.startTime {start} is not in the last 24 hours"
            )
        end = payload.get("endTime")
        if end is not None and (end < start or end > now + FUTURE_SKEW_MS):
            raise _Refusal(400, 10064, f"messagingSession.payload.endTime {end} is before startTime or ahead")
        return self._new_session(conversation)

    # -- POST /api/v1/route, PATCH /api/v1/consent, POST /api/v1/messagingSession ------------------------

    def _route(self, call: _Call) -> tuple[int, Json]:
        body = call.body
        conversation = self._known(body["conversationIdentifier"])
        info = body.get("routingInfo")
        if info is not None:
            flow = info.get("flow")
            if flow is not None and not (flow.get("flowId") and flow.get("queueId")):
                raise _Refusal(400, 10024, "routingInfo.flow needs a flowId and a fallback queueId")
            if flow is None and not info.get("queueId"):
                raise _Refusal(400, 10030, "routingInfo names neither a flow nor a queueId")
        if conversation.session_id is None:
            raise _Refusal(400, 10012, "the conversation has no open messaging session to route")
        answer = {
            "success": True,
            "psrId": new_id("0JR"),
            "workItemId": conversation.session_id,
            "routingCorrelationId": str(uuid.uuid4()),
        }
        self.routes.append({"headers": call.headers, "json": body, **answer})
        return 202, answer

    def _consent(self, call: _Call) -> tuple[int, Json]:
        body = call.body

        def refuse(code: int, message: str) -> _Refusal:
            detail = {"code": code, "message": message}
            return _Refusal(400, code, message, {"success": False, "errorDetail": detail})

        if body["channelAddressIdentifier"] != self.channel_address_identifier:
            raise refuse(10017, "channelAddressIdentifier is not this channel's")
        if self.conversation_for(body["endUserClientId"]) is None:
            raise refuse(10020, f"endUserClientId {body['endUserClientId']!r} is not a known end user")
        owner = self._consent_owner()
        if owner != "Partner":
            raise refuse(10022, f"the channel's consent owner is {owner}, so its consent cannot be set here")
        self.consents.append({"headers": call.headers, "json": body})
        return 200, {"success": True}

    def _consent_owner(self) -> str:
        definition = next(
            (
                r
                for r in self.records["ConversationChannelDefinition"]
                if r["DeveloperName"] == self.authorization_context
            ),
            None,
        )
        return str(definition["ConsentOwner"]) if definition else self.consent_owner

    def _messaging_session(self, call: _Call) -> tuple[int, Json]:
        body = call.body
        if body["channelAddressIdentifier"] != self.channel_address_identifier:
            raise _Refusal(400, 10017, "channelAddressIdentifier is not this channel's")
        conversation = self._known(body["conversationIdentifier"])
        if body["endUserClientId"] != conversation.end_user:
            raise _Refusal(400, 10020, "endUserClientId is not this conversation's end user")
        session = conversation.session_id
        if "sessionId" in body:
            session = conversation.session(body["sessionId"])
            if session is None:
                raise _Refusal(400, 10071, f"sessionId {body['sessionId']!r} is not this conversation's")
        if session is None or conversation.sessions[session] == "Ended":
            return 200, {"success": False, "errorReason": "SESSION_NOT_FOUND"}
        if body["operation"] == "End":
            conversation.sessions[session] = "Ended"
            if conversation.session_id == session:
                conversation.session_id = None
        else:
            conversation.sessions[session] = "Inactive"
        self.messaging_sessions.append({"headers": call.headers, "json": body, "session_id": session})
        return 200, {"success": True}

    async def _unknown(self, request: Request) -> Response:
        body = {"code": 10089, "message": f"the fake has no {request.method} {request.url.path}"}
        self.calls.append((request.method, request.url.path, 404))
        self.refused.append({"method": request.method, "path": request.url.path, "status": 404, "body": body})
        await self._changed_now()
        return JSONResponse(body, 404)

    # -- conversations and sessions ------------------------------------------------------------------

    def _known(self, conversation_identifier: str) -> FakeConversation:
        conversation = self.conversations.get(conversation_identifier)
        if conversation is None:
            raise _Refusal(400, 10018, f"conversationIdentifier {conversation_identifier!r} is not valid")
        return conversation

    def _new_conversation(self, end_user: str) -> FakeConversation:
        conversation = FakeConversation(str(uuid.uuid4()), end_user)
        self.conversations[conversation.identifier] = conversation
        return conversation

    def _new_session(self, conversation: FakeConversation) -> str:
        session = new_id("0Mw")
        conversation.sessions[session] = "Active"
        conversation.session_id = session
        return session


def parse_multipart(content_type: str, body: bytes) -> list[Part]:
    """The parts of a multipart/form-data body (RFC 7578), byte for byte; ValueError names what is wrong."""
    header = Message()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise ValueError("the Content-Type has no boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise ValueError("the body does not end with the closing boundary")
    parts: list[Part] = []
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n") or not chunk.endswith(b"\r\n") or b"\r\n\r\n" not in chunk:
            raise ValueError("a part is not framed by CRLF")
        head, _, data = chunk[2:-2].partition(b"\r\n\r\n")
        headers = Message()
        for line in head.decode("utf-8").split("\r\n"):
            name, colon, value = line.partition(":")
            if not colon:
                raise ValueError(f"a part header line has no colon: {line!r}")
            headers[name.strip()] = value.strip()
        if headers.get_content_disposition() != "form-data":
            raise ValueError("a part has no Content-Disposition: form-data")
        name = headers.get_param("name", header="content-disposition")
        filename = headers.get_param("filename", header="content-disposition")
        parts.append(
            Part(
                name=str(name or ""),
                filename=str(filename) if isinstance(filename, str) else None,
                content_type=headers.get("content-type"),
                data=data,
            )
        )
    return parts


def _rest_error(code: str, message: str) -> list[Json]:
    """Salesforce REST's error body: a list of {message, errorCode}."""
    return [{"message": message, "errorCode": code}]


def _type_problem(fields: Json) -> Any:
    for name, value in fields.items():
        wants_bool = name.startswith(("Capabilities", "Is"))
        if value is not None and (isinstance(value, bool) != wants_bool or not isinstance(value, bool | str)):
            kind = "true or false" if wants_bool else "a string"
            message = f"Cannot deserialize {name}: {value!r} is not {kind}"
            return [{"message": message, "errorCode": "JSON_PARSER_ERROR"}]
    return None
