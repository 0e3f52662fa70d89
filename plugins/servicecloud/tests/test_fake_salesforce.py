"""The loopback Salesforce fake, driven over real HTTP: the JWT bearer flow, the Interaction Service's header
checks and conversation bookkeeping, its spec check, the history import's limits, the Tooling records the
setup wizard creates and the knobs tests use."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import jwt
import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from channel_engine_servicecloud.config import Org
from channel_engine_servicecloud.testing.fake_salesforce import DEFAULT_ORG_ID, FakeSalesforce, id18
from channel_engine_servicecloud.testing.interaction_spec import check_response, check_schema

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
END_USER = "385911234567"
BOT = {"appType": "chatbot", "subject": "infobip-bot", "role": "Chatbot"}


def now_ms() -> int:
    return int(time.time() * 1000)


def uid() -> str:
    return str(uuid.uuid4())


def end_user(subject: str = END_USER) -> dict[str, str]:
    return {"appType": "custom", "subject": subject, "role": "EndUser"}


@pytest.fixture
async def fake() -> AsyncIterator[FakeSalesforce]:
    fake = FakeSalesforce()
    async with fake.running():
        yield fake


@pytest.fixture
async def http(fake: FakeSalesforce) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=fake.url) as client:
        yield client


def assertion(fake: FakeSalesforce, key: Any = None, **claims: Any) -> str:
    body = {"iss": fake.consumer_key, "sub": fake.username, "aud": fake.url, "exp": int(time.time()) + 180}
    return jwt.encode({**body, **claims}, key or fake.private_key, algorithm="RS256")


async def get_token(
    http: httpx.AsyncClient, fake: FakeSalesforce, key: Any = None, **claims: Any
) -> httpx.Response:
    return await http.post(
        "/services/oauth2/token", data={"grant_type": GRANT, "assertion": assertion(fake, key, **claims)}
    )


async def token(http: httpx.AsyncClient, fake: FakeSalesforce) -> str:
    response = await get_token(http, fake)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def headers(http: httpx.AsyncClient, fake: FakeSalesforce, **extra: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {await token(http, fake)}",
        "OrgId": fake.org_id[:15],
        "AuthorizationContext": fake.authorization_context,
        "RequestId": uid(),
        **extra,
    }


def text_interaction(fake: FakeSalesforce, text: str = "Hi there", sender: str = END_USER) -> dict[str, Any]:
    entry = uid()
    message = {
        "messageType": "StaticContentMessage",
        "id": entry,
        "staticContent": {"formatType": "Text", "text": text},
    }
    return {
        "to": fake.channel_address_identifier,
        "from": sender,
        "interactions": [
            {
                "timestamp": now_ms(),
                "interactionType": "EntryInteraction",
                "payload": {"id": entry, "entryType": "Message", "abstractMessage": message},
            }
        ],
    }


async def post_interaction(
    http: httpx.AsyncClient,
    head: dict[str, str],
    body: dict[str, Any],
    attachment: tuple[str, bytes, str] | None = None,
) -> httpx.Response:
    files: list[tuple[str, tuple[str | None, bytes, str]]] = [
        ("json", (None, msgspec.json.encode(body), "application/json"))
    ]
    if attachment is not None:
        files.append(("attachments", attachment))
    return await http.post("/api/v1/interactions", headers=head, files=files)


# -- the login server ----------------------------------------------------------------------------------


async def test_a_correctly_signed_assertion_gets_a_token(
    fake: FakeSalesforce, http: httpx.AsyncClient
) -> None:
    response = await get_token(http, fake, key=fake.private_key_pem)  # the PEM the org document carries
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["access_token"].startswith(fake.org_id[:15] + "!")
    assert body["token_type"] == "Bearer"
    assert body["instance_url"] == fake.url
    assert "interaction_api" in body["scope"].split()
    assert body["issued_at"].isdigit() and abs(int(body["issued_at"]) - now_ms()) < 60_000
    assert body["id"].startswith(f"{fake.url}/id/{fake.org_id}/")
    assert fake.tokens_issued == 1
    assert fake.authorized(f"Bearer {body['access_token']}")
    assert not fake.authorized(body["access_token"])  # without the scheme
    assert not fake.authorized(f"Bearer {body['access_token']}x")


async def test_the_production_and_sandbox_login_servers_are_audiences_too(
    fake: FakeSalesforce, http: httpx.AsyncClient
) -> None:
    for audience in ("https://login.salesforce.com", "https://test.salesforce.com"):
        assert (await get_token(http, fake, aud=audience)).status_code == 200
    assert fake.tokens_issued == 2


OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


# Claims made when the test runs: an `exp` computed at collection would age while other tests run.
BAD_ASSERTIONS: list[tuple[Callable[[], dict[str, Any]], str, str, str]] = [
    (lambda: {"key": OTHER_KEY}, "invalid_grant", "invalid assertion", "InvalidSignatureError"),
    (lambda: {"aud": "https://login.example.com"}, "invalid_grant", "audience is invalid", "aud"),
    (lambda: {"exp": int(time.time()) - 5}, "invalid_grant", "expired authorization code", "past"),
    (lambda: {"exp": now_ms() + 180_000}, "invalid_grant", "invalid assertion", "milliseconds"),
    (lambda: {"exp": time.time() + 60.5}, "invalid_grant", "invalid assertion", "whole seconds"),
    (lambda: {"iss": "someone-else"}, "invalid_client_id", "client identifier invalid", "iss"),
    (lambda: {"sub": "intruder@example.com"}, "invalid_grant", "user hasn't approved this consumer", "sub"),
]


@pytest.mark.parametrize(("claims", "error", "description", "why"), BAD_ASSERTIONS)
async def test_a_bad_assertion_is_refused_as_salesforce_does(
    fake: FakeSalesforce,
    http: httpx.AsyncClient,
    claims: Callable[[], dict[str, Any]],
    error: str,
    description: str,
    why: str,
) -> None:
    made = claims()
    key = made.pop("key", None)
    response = await http.post(
        "/services/oauth2/token", data={"grant_type": GRANT, "assertion": assertion(fake, key, **made)}
    )
    assert response.status_code == 400
    assert response.json() == {"error": error, "error_description": description}
    assert why in fake.token_refusals[-1]
    assert fake.tokens_issued == 0


async def test_a_token_request_needs_the_jwt_bearer_grant(
    fake: FakeSalesforce, http: httpx.AsyncClient
) -> None:
    response = await http.post(
        "/services/oauth2/token", data={"grant_type": "password", "assertion": assertion(fake)}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    response = await http.post(
        "/services/oauth2/token", json={"grant_type": GRANT, "assertion": assertion(fake)}
    )
    assert response.status_code == 400  # JSON instead of a form
    assert fake.tokens_issued == 0


# -- Interaction Service headers -----------------------------------------------------------------------


async def test_the_org_id_is_taken_in_15_or_18_characters(
    fake: FakeSalesforce, http: httpx.AsyncClient
) -> None:
    for org_id, status in ((fake.org_id[:15], 202), (fake.org_id, 202), (fake.org_id[:15].lower(), 400)):
        head = await headers(http, fake, OrgId=org_id)
        response = await post_interaction(http, head, text_interaction(fake))
        assert response.status_code == status, (org_id, response.text)  # ids are case-sensitive


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"Authorization": None}, 401, 10004),
        ({"Authorization": "Bearer 00D5g000004Sx3a!forged"}, 401, 10004),
        ({"OrgId": None}, 400, 10016),
        ({"OrgId": "00D000000000001"}, 400, 10016),
        ({"AuthorizationContext": None}, 400, 10016),
        ({"AuthorizationContext": "Someone_Else"}, 403, 10005),
        ({"RequestId": None}, 400, 10016),
        ({"RequestId": "request-1"}, 400, 10016),
        ({"AuthorizationContextType": "Whatever"}, 400, 10093),
    ],
)
async def test_each_interaction_service_header_is_checked(
    fake: FakeSalesforce, http: httpx.AsyncClient, change: dict[str, str | None], status: int, code: int
) -> None:
    head: dict[str, Any] = {**(await headers(http, fake)), **change}
    response = await post_interaction(
        http, {k: v for k, v in head.items() if v is not None}, text_interaction(fake)
    )
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert check_schema("Error", response.json()) == []
    assert fake.interactions == []
    assert fake.refused[-1]["body"]["code"] == code


async def test_the_history_import_needs_its_authorization_context_type(
    fake: FakeSalesforce, http: httpx.AsyncClient
) -> None:
    head = await headers(http, fake)
    await establish(http, head, fake)
    response = await http.post("/api/v1/conversationHistory", headers=head, json=history_body(fake))
    assert (response.status_code, response.json()["code"]) == (400, 10016)
    head["AuthorizationContextType"] = "EmbeddedMessagingChannel"
    response = await http.post("/api/v1/conversationHistory", headers=head, json=history_body(fake))
    assert (response.status_code, response.json()["code"]) == (400, 10093)
    assert fake.history == {}


async def test_a_json_call_must_say_it_is_json(fake: FakeSalesforce, http: httpx.AsyncClient) -> None:
    head = await headers(http, fake, **{"Content-Type": "text/plain"})
    body = msgspec.json.encode(
        {"channelAddressIdentifier": fake.channel_address_identifier, "participants": [end_user()]}
    )
    response = await http.post("/api/v1/conversation", headers=head, content=body)
    assert (response.status_code, response.json()["code"]) == (400, 10016)
    assert fake.conversations == {}


# -- POST /interactions --------------------------------------------------------------------------------


async def test_a_first_message_opens_a_conversation_and_session_the_next_reuses_them(
    fake: FakeSalesforce, http: httpx.AsyncClient
) -> None:
    head = await headers(http, fake)
    first = await post_interaction(http, head, text_interaction(fake, "Hello"))
    assert first.status_code == 202, first.text
    answer = first.json()
    assert check_response("POST", "/interactions", 202, answer) == []
    session = answer["workItemIds"][0]
    assert session.startswith("0Mw") and len(session) == 18 and id18(session[:15]) == session
    uuid.UUID(answer["conversationIdentifier"])
    assert answer["success"] is True

    second = await post_interaction(http, {**head, "RequestId": uid()}, text_interaction(fake, "Anyone?"))
    assert second.status_code == 202
    assert second.json()["conversationIdentifier"] == answer["conversationIdentifier"]
    assert second.json()["workItemIds"] == [session]

    other = await post_interaction(
        http, {**head, "RequestId": uid()}, text_interaction(fake, "Hi", sender="38599")
    )
    assert other.json()["conversationIdentifier"] != answer["conversationIdentifier"]

    texts = [
        i["json"]["interactions"][0]["payload"]["abstractMessage"]["staticContent"]["text"]
        for i in fake.interactions
    ]
    assert texts == ["Hello", "Anyone?", "Hi"]
    assert fake.interactions[0]["headers"]["requestid"] == head["RequestId"]
    assert fake.interactions[1]["session_id"] == session
    conversation = fake.conversation_for(END_USER)
    assert conversation is not None and conversation.session_id == session


async def test_an_attachment_is_recorded_with_its_bytes_and_name(
    fake: FakeSalesforce, http: httpx.AsyncClient
) -> None:
    head = await headers(http, fake)
    data = b"%PDF-1.4\r\n\r\n--not-a-boundary\r\n" + bytes(range(256))
    body = {
        "to": fake.channel_address_identifier,
        "from": END_USER,
        "interactions": [
            {
                "timestamp": now_ms(),
                "interactionType": "AttachmentInteraction",
                "id": uid(),
                "attachmentIndex": 0,
                "contentLength": len(data),
                "text": "my invoice",
            }
        ],
    }
    response = await post_interaction(http, head, body, ("invoice.pdf", data, "application/pdf"))
    assert response.status_code == 202, response.text
    recorded = fake.interactions[0]
    assert (recorded["attachment"], recorded["attachment_name"], recorded["attachment_type"]) == (
        data,
        "invoice.pdf",
        "application/pdf",
    )
    assert recorded["session_id"] == response.json()["workItemIds"][0]

    wrong_length = {**body, "interactions": [{**body["interactions"][0], "contentLength": 3}]}
    response = await post_interaction(
        http, {**head, "RequestId": uid()}, wrong_length, ("a.pdf", data, "application/pdf")
    )
    assert response.json()["code"] == 10051
    response = await post_interaction(http, {**head, "RequestId": uid()}, body)
    assert response.json()["code"] == 10011  # no file part
    assert len(fake.interactions) == 1


async def test_typing_and_delivery_failures_are_recorded_once_a_conversation_exists(
    fake: FakeSalesforce, http: httpx.AsyncClient
) -> None:
    head = await headers(http, fake)
    typing = {
        "to": fake.channel_address_identifier,
        "from": END_USER,
        "interactions": [
            {
                "timestamp": now_ms(),
                "interactionType": "EntryInteraction",
                "payload": {"id": uid(), "entryType": "TypingStartedIndicator", "timestamp": now_ms()},
            }
        ],
    }
    response = await post_interaction(http, head, typing)
    assert (response.status_code, response.json()["code"]) == (400, 10025)  # nothing to type into yet

    await post_interaction(http, {**head, "RequestId": uid()}, text_interaction(fake))
    failed = {
        **typing,
        "interactions": [
            {
                "timestamp": now_ms(),
                "interactionType": "EntryInteraction",
                "payload": {
                    "id": uid(),
                    "entryType": "MessageDeliveryFailed",
                    "failedConversationEntryIdentifier": uid(),
                    "recipient": end_user(),
                    "errorCode": "WINDOW_CLOSED",
                },
            }
        ],
    }
    for body in (typing, failed):
        response = await post_interaction(http, {**head, "RequestId": uid()}, body)
        assert response.status_code == 202, response.text
    kinds = [i["json"]["interactions"][0]["payload"]["entryType"] for i in fake.interactions]
    assert kinds == ["Message", "TypingStartedIndicator", "MessageDeliveryFailed"]

    agent = {**failed, "interactions": [{**failed["interactions"][0]}]}
    agent["interactions"][0]["payload"] = {
        **failed["interactions"][0]["payload"],
        "recipient": {**end_user(), "role": "Agent"},
    }
    response = await post_interaction(http, {**head, "RequestId": uid()}, agent)
    assert response.json()["code"] == 10038  # Spring '24: the recipient is the end user


async def test_a_body_against_the_spec_is_refused_and_recorded(
    fake: FakeSalesforce, http: httpx.AsyncClient
) -> None:
    head = await headers(http, fake)
    body = text_interaction(fake)
    del body["from"]
    response = await post_interaction(http, head, body)
    assert (response.status_code, response.json()["code"]) == (400, 10045)
    assert "'from' is a required property" in response.json()["message"]
    assert any("/api/v1/interactions" in v and "'from'" in v for v in fake.spec_violations)
    assert fake.interactions == [] and fake.conversations == {}

    two = text_interaction(fake)
    two["interactions"] *= 2  # exactly one interaction per call
    response = await post_interaction(http, {**head, "RequestId": uid()}, two)
    assert response.json()["code"] == 10045

    seconds = text_interaction(fake)
    seconds["interactions"][0]["timestamp"] = int(time.time())
    response = await post_interaction(http, {**head, "RequestId": uid()}, seconds)
    assert response.json()["code"] == 10045
    assert "milliseconds" in fake.spec_violations[-1]
    assert len(fake.spec_violations) >= 3


async def test_the_json_part_must_be_json_and_the_only_other_part_attachments(
    fake: FakeSalesforce, http: httpx.AsyncClient
) -> None:
    head = await headers(http, fake)
    encoded = msgspec.json.encode(text_interaction(fake))
    response = await http.post(
        "/api/v1/interactions", headers=head, files=[("json", (None, encoded, "text/plain"))]
    )
    assert response.json()["code"] == 10045
    response = await http.post(
        "/api/v1/interactions",
        headers={**head, "RequestId": uid()},
        files=[("entryPayload", (None, encoded, "application/json"))],
    )
    assert response.json()["code"] == 10045
    assert "entryPayload" in fake.spec_violations[-1]
    response = await http.post(
        "/api/v1/interactions", headers={**head, "RequestId": uid()}, json=text_interaction(fake)
    )
    assert response.json()["code"] == 10016  # JSON instead of multipart
    assert fake.interactions == []


async def test_a_message_to_another_channel_is_refused(fake: FakeSalesforce, http: httpx.AsyncClient) -> None:
    body = {**text_interaction(fake), "to": uid()}
    response = await post_interaction(http, await headers(http, fake), body)
    assert response.json()["code"] == 10017
    assert fake.conversations == {}


# -- acknowledgement, conversation, route, consent, messagingSession ----------------------------------------


async def establish(
    http: httpx.AsyncClient, head: dict[str, str], fake: FakeSalesforce, subject: str = END_USER
) -> dict[str, Any]:
    body = {"channelAddressIdentifier": fake.channel_address_identifier, "participants": [end_user(subject)]}
    response = await http.post("/api/v1/conversation", headers={**head, "RequestId": uid()}, json=body)
    assert response.status_code == 202, response.text
    return dict(response.json())


async def test_establishing_a_conversation_is_idempotent(
    fake: FakeSalesforce, http: httpx.AsyncClient
) -> None:
    head = await headers(http, fake)
    first = await establish(http, head, fake)
    assert check_response("POST", "/conversation", 202, first) == []
    assert first["messagingSessionId"].startswith("0Mw")
    assert await establish(http, head, fake) == first
    response = await post_interaction(http, {**head, "RequestId": uid()}, text_interaction(fake))
    assert response.json()["conversationIdentifier"] == first["conversationIdentifier"]
    assert response.json()["workItemIds"] == [first["messagingSessionId"]]


async def test_receipts_need_a_known_conversation(fake: FakeSalesforce, http: httpx.AsyncClient) -> None:
    head = await headers(http, fake)
    ack = {
        "acknowledgementTimestamp": str(now_ms()),
        "acknowledgementType": "Delivered",
        "acknowledgedConversationEntryIdentifier": uid(),
        "acknowledgmentCreatedConversationEntryIdentifier": uid(),
    }
    body = {"sender": end_user(), "conversationIdentifier": uid(), "acknowledgements": [ack]}
    response = await http.post("/api/v1/acknowledgement", headers=head, json=body)
    assert (response.status_code, response.json()["code"]) == (400, 10018)

    body["conversationIdentifier"] = (await establish(http, head, fake))["conversationIdentifier"]
    response = await http.post("/api/v1/acknowledgement", headers={**head, "RequestId": uid()}, json=body)
    assert response.status_code == 200 and response.json() == {"success": True}
    assert fake.acknowledgements[0]["json"]["acknowledgements"] == [ack]

    too_many = {**body, "acknowledgements": [ack] * 26}
    response = await http.post("/api/v1/acknowledgement", headers={**head, "RequestId": uid()}, json=too_many)
    assert response.json()["code"] == 10045
    numeric = {**body, "acknowledgements": [{**ack, "acknowledgementTimestamp": now_ms()}]}
    response = await http.post("/api/v1/acknowledgement", headers={**head, "RequestId": uid()}, json=numeric)
    assert response.json()["code"] == 10045  # the spec types the timestamp as a string
    assert len(fake.acknowledgements) == 1


async def test_routing_answers_a_pending_service_routing(
    fake: FakeSalesforce, http: httpx.AsyncClient
) -> None:
    head = await headers(http, fake)
    conversation = await establish(http, head, fake)
    body = {
        "conversationIdentifier": conversation["conversationIdentifier"],
        "routingType": "Initial",
        "routingInfo": {"flow": {"flowId": "300xx0000000001", "queueId": "00Gxx0000000001"}},
    }
    response = await http.post("/api/v1/route", headers=head, json=body)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert check_response("POST", "/route", 202, answer) == []
    assert answer["workItemId"] == conversation["messagingSessionId"]
    assert answer["psrId"].startswith("0JR")
    assert fake.routes[0]["json"] == body

    no_queue = {**body, "routingInfo": {"flow": {"flowId": "300xx0000000001"}}}
    response = await http.post("/api/v1/route", headers={**head, "RequestId": uid()}, json=no_queue)
    assert response.json()["code"] == 10024
    response = await http.post(
        "/api/v1/route", headers={**head, "RequestId": uid()}, json={**body, "conversationIdentifier": uid()}
    )
    assert response.json()["code"] == 10018
    assert len(fake.routes) == 1


async def test_consent_is_the_channels_consent_owners_to_set(
    fake: FakeSalesforce, http: httpx.AsyncClient
) -> None:
    head = await headers(http, fake)
    await establish(http, head, fake)
    body = {
        "endUserClientId": END_USER,
        "channelAddressIdentifier": fake.channel_address_identifier,
        "consentStatus": "OptedOut",
    }
    response = await http.patch("/api/v1/consent", headers=head, json=body)
    assert response.status_code == 400
    assert response.json()["success"] is False and response.json()["errorDetail"]["code"] == 10022
    assert check_response("PATCH", "/consent", 400, response.json()) == []

    fake.consent_owner = "Partner"
    response = await http.patch("/api/v1/consent", headers={**head, "RequestId": uid()}, json=body)
    assert response.status_code == 200 and response.json() == {"success": True}
    assert fake.consents[0]["json"] == body
    unknown = {**body, "endUserClientId": "38500000"}
    response = await http.patch("/api/v1/consent", headers={**head, "RequestId": uid()}, json=unknown)
    assert response.json()["errorDetail"]["code"] == 10020


async def test_an_ended_session_gives_the_next_message_a_new_one(
    fake: FakeSalesforce, http: httpx.AsyncClient
) -> None:
    head = await headers(http, fake)
    first = (await post_interaction(http, head, text_interaction(fake))).json()
    body = {
        "channelAddressIdentifier": fake.channel_address_identifier,
        "endUserClientId": END_USER,
        "conversationIdentifier": first["conversationIdentifier"],
        "operation": "End",
        "operationBy": "System",
    }
    response = await http.post("/api/v1/messagingSession", headers={**head, "RequestId": uid()}, json=body)
    assert response.status_code == 200 and response.json() == {"success": True}
    assert fake.messaging_sessions[0]["session_id"] == first["workItemIds"][0]
    again = await http.post("/api/v1/messagingSession", headers={**head, "RequestId": uid()}, json=body)
    assert again.json() == {"success": False, "errorReason": "SESSION_NOT_FOUND"}
    assert check_response("POST", "/messagingSession", 200, again.json()) == []

    second = (await post_interaction(http, {**head, "RequestId": uid()}, text_interaction(fake))).json()
    assert second["conversationIdentifier"] == first["conversationIdentifier"]
    assert second["workItemIds"] != first["workItemIds"]

    ended = fake.end_session(second["conversationIdentifier"])  # an agent closes it
    assert ended == second["workItemIds"][0]
    third = (await post_interaction(http, {**head, "RequestId": uid()}, text_interaction(fake))).json()
    assert third["workItemIds"][0] not in (ended, first["workItemIds"][0])


# -- POST /conversationHistory ----------------------------------------------------------------------------


def history_entry(
    text: str, sender: dict[str, str], at: int, message_id: str | None = None
) -> dict[str, Any]:
    entry = message_id or uid()
    message = {
        "messageType": "StaticContentMessage",
        "id": entry,
        "staticContent": {"formatType": "Text", "text": text},
    }
    return {
        "clientTimestamp": at,
        "sender": sender,
        "entryPayload": {"entryType": "Message", "id": entry, "abstractMessage": message},
    }


def history_body(
    fake: FakeSalesforce, entries: list[dict[str, Any]] | None = None, **fields: Any
) -> dict[str, Any]:
    start = now_ms() - 600_000
    return {
        "channelAddressIdentifier": fake.channel_address_identifier,
        "conversationParticipants": [
            {"displayName": "Customer", "participant": end_user(), "joinedTime": start},
            {
                "displayName": "Infobip Bot",
                "participant": BOT,
                "joinedTime": start,
                "leftTime": now_ms() - 1000,
            },
        ],
        "conversationEntries": entries
        if entries is not None
        else [
            history_entry("I need help", end_user(), start + 1000),
            history_entry("Let me get an agent", BOT, start + 2000),
        ],
        "messagingSession": {
            "messagingSessionRequestType": "EstablishMessagingSession",
            "payload": {"startTime": start},
        },
        **fields,
    }


async def test_history_establishes_a_session_then_attaches_to_it(
    fake: FakeSalesforce, http: httpx.AsyncClient
) -> None:
    head = await headers(http, fake, AuthorizationContextType="ConversationChannelDefinition")
    response = await http.post("/api/v1/conversationHistory", headers=head, json=history_body(fake))
    assert (response.status_code, response.json()["code"]) == (400, 10025)  # /conversation comes first

    conversation = await establish(http, head, fake)
    first = await http.post(
        "/api/v1/conversationHistory", headers={**head, "RequestId": uid()}, json=history_body(fake)
    )
    assert first.status_code == 202, first.text
    assert check_response("POST", "/conversationHistory", 202, first.json()) == []
    session = first.json()["messagingSessionId"]
    assert first.json()["conversationIdentifier"] == conversation["conversationIdentifier"]

    older = [history_entry("earlier", end_user(), now_ms() - 590_000)]
    attach = {"messagingSessionRequestType": "AttachMessagingSession", "payload": {"sessionId": session[:15]}}
    second = await http.post(
        "/api/v1/conversationHistory",
        headers={**head, "RequestId": uid()},
        json=history_body(fake, older, messagingSession=attach),
    )
    assert second.status_code == 202, second.text
    assert second.json()["messagingSessionId"] == session

    texts = [
        e["entryPayload"]["abstractMessage"]["staticContent"]["text"]
        for e in fake.history[conversation["conversationIdentifier"]]
    ]
    assert texts == ["I need help", "Let me get an agent", "earlier"]  # as received, in call order

    stranger = {
        "messagingSessionRequestType": "AttachMessagingSession",
        "payload": {"sessionId": "0Mwxx0000000001"},
    }
    later = [history_entry("more", end_user(), now_ms() - 500_000)]
    response = await http.post(
        "/api/v1/conversationHistory",
        headers={**head, "RequestId": uid()},
        json=history_body(fake, later, messagingSession=stranger),
    )
    assert response.json()["code"] == 10071


def choices_from_end_user(at: int) -> dict[str, Any]:
    entry = uid()
    item = {
        "itemType": "TitleOptionItem",
        "optionIdentifier": "yes",
        "titleItem": {"itemType": "TitleItem", "title": "Yes"},
    }
    message = {
        "messageType": "ChoicesMessage",
        "id": entry,
        "choices": {"formatType": "Buttons", "text": "Sure?", "optionItems": [item]},
    }
    return {
        "clientTimestamp": at,
        "sender": end_user(),
        "entryPayload": {"entryType": "Message", "id": entry, "abstractMessage": message},
    }


def history_case(name: str, fake: FakeSalesforce) -> dict[str, Any]:
    """A history body that breaks one documented limit."""
    start = now_ms() - 600_000
    body = history_body(fake)
    people = body["conversationParticipants"]
    if name == "six entries":
        body["conversationEntries"] = [history_entry(f"m{i}", end_user(), start + i * 1000) for i in range(6)]
    elif name == "end user left":
        people[0]["leftTime"] = now_ms()
    elif name == "bot never left":
        del people[1]["leftTime"]
    elif name == "repeated message id":
        twice = uid()
        body["conversationEntries"] = [history_entry(t, end_user(), start + 1000, twice) for t in ("a", "b")]
    elif name == "before the sender joined":
        people[1]["joinedTime"] = start + 5000
    elif name == "after the bot left":
        body["conversationEntries"] = [history_entry("late", BOT, now_ms() - 500)]
    elif name == "older than a day":
        people[0]["joinedTime"] = people[1]["joinedTime"] = start - 86_400_000
        body["conversationEntries"] = [history_entry("old", end_user(), start - 86_400_000 + 1000)]
    elif name == "choices from the end user":
        body["conversationEntries"] = [choices_from_end_user(start + 1000)]
    elif name == "entry and message ids differ":
        entry = history_entry("x", end_user(), start + 1000)
        entry["entryPayload"]["id"] = uid()
        body["conversationEntries"] = [entry]
    elif name == "an agent participant":
        people.append(
            {
                "participant": {"appType": "agent", "subject": "005xx0000012345", "role": "Agent"},
                "joinedTime": start,
            }
        )
    elif name == "no end user":
        del people[0]
        body["conversationEntries"] = [history_entry("hi", BOT, start + 1000)]
    elif name == "four participants":
        people += [
            {"participant": {**BOT, "subject": f"bot-{i}"}, "joinedTime": start, "leftTime": start + 1}
            for i in range(2)
        ]
    return body


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("six entries", 10078),
        ("end user left", 10065),
        ("bot never left", 10066),
        ("repeated message id", 10073),
        ("before the sender joined", 10074),
        ("after the bot left", 10074),
        ("older than a day", 10046),
        ("choices from the end user", 10062),
        ("entry and message ids differ", 10060),
        ("an agent participant", 10043),
        ("no end user", 10042),
        ("four participants", 10045),
    ],
)
async def test_history_limits_are_enforced(
    fake: FakeSalesforce, http: httpx.AsyncClient, name: str, code: int
) -> None:
    head = await headers(http, fake, AuthorizationContextType="ConversationChannelDefinition")
    await establish(http, head, fake)
    body = history_case(name, fake)
    if name == "choices from the end user":
        assert (
            check_schema("ConversationEntryHistory", body["conversationEntries"][0]) == []
        )  # valid, yet refused
    response = await http.post("/api/v1/conversationHistory", headers=head, json=body)
    assert (response.status_code, response.json()["code"]) == (400, code), response.text
    assert fake.history == {}


async def test_a_retried_history_batch_hits_the_unique_message_ids(
    fake: FakeSalesforce, http: httpx.AsyncClient
) -> None:
    head = await headers(http, fake, AuthorizationContextType="ConversationChannelDefinition")
    await establish(http, head, fake)
    body = history_body(fake)
    assert (await http.post("/api/v1/conversationHistory", headers=head, json=body)).status_code == 202
    body["messagingSession"] = {
        "messagingSessionRequestType": "AttachMessagingSession",
        "payload": {"sessionId": fake.conversation_for(END_USER).session_id},
    }  # type: ignore[union-attr]
    response = await http.post("/api/v1/conversationHistory", headers={**head, "RequestId": uid()}, json=body)
    assert response.json()["code"] == 10073
    assert sum(len(entries) for entries in fake.history.values()) == 2


async def test_history_can_be_closed_to_orgs_without_ccaas(
    fake: FakeSalesforce, http: httpx.AsyncClient
) -> None:
    fake.history_allowed = False
    head = await headers(http, fake, AuthorizationContextType="ConversationChannelDefinition")
    await establish(http, head, fake)
    response = await http.post("/api/v1/conversationHistory", headers=head, json=history_body(fake))
    assert (response.status_code, response.json()["code"]) == (403, 10057)


# -- the core instance: Tooling and SOQL ----------------------------------------------------------------


async def rest_headers(http: httpx.AsyncClient, fake: FakeSalesforce) -> dict[str, str]:
    return {"Authorization": f"Bearer {await token(http, fake)}"}


def channel_definition(**fields: Any) -> dict[str, Any]:
    return {
        "DeveloperName": "Infobip_ChannelDefinition",
        "MasterLabel": "Infobip WhatsApp",
        "CustomPlatformEvent": "Infobip_Event__e",
        "CustomEventTypeField": "EventType__c",
        "CustomEventPayloadField": "Payload__c",
        "RoutingOwner": "Salesforce",
        **fields,
    }


async def test_the_wizards_records_are_created_and_queried(
    fake: FakeSalesforce, http: httpx.AsyncClient
) -> None:
    head = await rest_headers(http, fake)
    vendor = {
        "FullName": "Infobip",
        "Metadata": {
            "developerName": "Infobip",
            "masterLabel": "Infobip",
            "vendorType": "BringYourOwnChannel",
        },
    }
    response = await http.post(
        "/services/data/v63.0/tooling/sobjects/ConversationVendorInfo/", headers=head, json=vendor
    )
    assert response.status_code == 201, response.text
    vendor_id = response.json()["id"]
    assert response.json()["success"] is True and response.json()["errors"] == []
    assert vendor_id.startswith("0m8") and len(vendor_id) == 18

    definition = channel_definition(ConversationVendorInfoId=vendor_id[:15])
    response = await http.post(
        "/services/data/v63.0/tooling/sobjects/ConversationChannelDefinition", headers=head, json=definition
    )
    assert response.status_code == 201, response.text
    definition_id = response.json()["id"]

    fields = "Id, DeveloperName, RoutingOwner, ConsentOwner, ConversationVendorInfoId, CustomPlatformEvent, "
    fields += "CustomEventTypeField, CustomEventPayloadField"
    query = (
        f"SELECT {fields} FROM ConversationChannelDefinition WHERE DeveloperName='Infobip_ChannelDefinition'"
    )
    response = await http.get("/services/data/v63.0/query/", headers=head, params={"q": query})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["totalSize"], body["done"]) == (1, True)
    record = body["records"][0]
    assert record == {
        "attributes": {
            "type": "ConversationChannelDefinition",
            "url": f"/services/data/v63.0/sobjects/ConversationChannelDefinition/{definition_id}",
        },
        "Id": definition_id,
        "DeveloperName": "Infobip_ChannelDefinition",
        "RoutingOwner": "Salesforce",
        "ConsentOwner": "Salesforce",  # the default
        "ConversationVendorInfoId": vendor_id,
        "CustomPlatformEvent": "Infobip_Event__e",
        "CustomEventTypeField": "EventType__c",
        "CustomEventPayloadField": "Payload__c",
    }

    tooling = await http.get(
        "/services/data/v63.0/tooling/query",
        headers=head,
        params={
            "q": "select Id, DeveloperName, VendorType from conversationvendorinfo "
            "where developername = 'Infobip'"
        },
    )
    assert tooling.status_code == 200, tooling.text
    assert tooling.json()["entityTypeName"] == "ConversationVendorInfo" and tooling.json()["size"] == 1
    assert tooling.json()["records"][0]["VendorType"] == "BringYourOwnChannel"

    none = await http.get(
        "/services/data/v63.0/query",
        headers=head,
        params={"q": "SELECT Id FROM ConversationChannelDefinition WHERE DeveloperName = 'Nope'"},
    )
    assert none.json() == {"totalSize": 0, "done": True, "records": []}
    assert [r["DeveloperName"] for r in fake.records["ConversationChannelDefinition"]] == [
        "Infobip_ChannelDefinition"
    ]


async def test_the_metadata_form_names_the_vendor_by_developer_name(
    fake: FakeSalesforce, http: httpx.AsyncClient
) -> None:
    head = await rest_headers(http, fake)
    vendor_id = fake.create_record(
        "ConversationVendorInfo", {"DeveloperName": "Infobip", "MasterLabel": "Infobip"}
    )
    metadata = {
        "developerName": "Infobip_ChannelDefinition",
        "masterLabel": "Infobip WhatsApp",
        "conversationVendorInfo": "Infobip",
        "customPlatformEvent": "Infobip_Event__e",
        "customEventTypeField": "Infobip_Event__e.EventType__c",
        "customEventPayloadField": "Infobip_Event__e.Payload__c",
        "consentOwner": "Salesforce",
        "routingOwner": "Salesforce",
    }
    response = await http.post(
        "/services/data/v63.0/tooling/sobjects/ConversationChannelDefinition/",
        headers=head,
        json={"FullName": "Infobip_ChannelDefinition", "Metadata": metadata},
    )
    assert response.status_code == 201, response.text
    record = fake.records["ConversationChannelDefinition"][0]
    assert record["ConversationVendorInfoId"] == vendor_id
    assert record["Metadata"]["conversationVendorInfo"] == "Infobip"

    unknown_vendor = {
        "FullName": "Other",
        "Metadata": {**metadata, "developerName": "Other", "conversationVendorInfo": "Nobody"},
    }
    response = await http.post(
        "/services/data/v63.0/tooling/sobjects/ConversationChannelDefinition/",
        headers=head,
        json=unknown_vendor,
    )
    assert response.json()[0]["errorCode"] == "INVALID_CROSS_REFERENCE_KEY"


@pytest.mark.parametrize(
    ("record", "code"),
    [
        (channel_definition(), "DUPLICATE_DEVELOPER_NAME"),
        (channel_definition(DeveloperName="Second", Bogus__c="x"), "INVALID_FIELD"),
        (channel_definition(DeveloperName="Second", MasterLabel=None), "REQUIRED_FIELD_MISSING"),
        (
            channel_definition(DeveloperName="Second", RoutingOwner="Nobody"),
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        ),
        (
            channel_definition(DeveloperName="Second", CustomPlatformEvent="Infobip Event"),
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        ),
        (
            channel_definition(DeveloperName="Second", ConnectedAppOauthLink="x"),
            "INVALID_FIELD_FOR_INSERT_UPDATE",
        ),
        (
            channel_definition(DeveloperName="Second", ConversationVendorInfoId="0m8000000000000"),
            "INVALID_CROSS_REFERENCE_KEY",
        ),
        (channel_definition(DeveloperName="Second", IsInboundReceiptsEnabled="yes"), "JSON_PARSER_ERROR"),
    ],
)
async def test_a_bad_tooling_record_is_refused_as_salesforce_does(
    fake: FakeSalesforce, http: httpx.AsyncClient, record: dict[str, Any], code: str
) -> None:
    head = await rest_headers(http, fake)
    first = await http.post(
        "/services/data/v63.0/tooling/sobjects/ConversationChannelDefinition/",
        headers=head,
        json=channel_definition(),
    )
    assert first.status_code == 201
    response = await http.post(
        "/services/data/v63.0/tooling/sobjects/ConversationChannelDefinition/", headers=head, json=record
    )
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == code
    assert len(fake.records["ConversationChannelDefinition"]) == 1


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("SELECT Id FROM ConversationChannelDefinition WHERE MasterLabel = 'x'", "MALFORMED_QUERY"),
        ("SELECT Id FROM ConversationChannelDefinition WHERE DeveloperName LIKE 'x%'", "MALFORMED_QUERY"),
        ("DELETE ConversationChannelDefinition", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account", "INVALID_TYPE"),
        ("SELECT Id, Colour FROM ConversationVendorInfo", "INVALID_FIELD"),
    ],
)
async def test_a_query_the_fake_does_not_know_is_refused(
    fake: FakeSalesforce, http: httpx.AsyncClient, query: str, code: str
) -> None:
    response = await http.get(
        "/services/data/v63.0/query", headers=await rest_headers(http, fake), params={"q": query}
    )
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == code


async def test_rest_needs_a_valid_session_and_version(fake: FakeSalesforce, http: httpx.AsyncClient) -> None:
    query = {"q": "SELECT Id FROM ConversationVendorInfo"}
    response = await http.get("/services/data/v63.0/query", params=query)
    assert response.status_code == 401
    assert response.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    response = await http.get(
        "/services/data/63.0/query", headers=await rest_headers(http, fake), params=query
    )
    assert response.status_code == 404


# -- tokens, knobs and waiting ---------------------------------------------------------------------------


async def test_revoked_tokens_are_refused_everywhere(fake: FakeSalesforce, http: httpx.AsyncClient) -> None:
    head = await headers(http, fake)
    assert (await post_interaction(http, head, text_interaction(fake))).status_code == 202
    fake.revoke_tokens()
    assert not fake.authorized(head["Authorization"])
    response = await post_interaction(http, {**head, "RequestId": uid()}, text_interaction(fake))
    assert (response.status_code, response.json()["code"]) == (401, 10004)
    query = {"q": "SELECT Id FROM ConversationVendorInfo"}
    response = await http.get(
        "/services/data/v63.0/query", headers={"Authorization": head["Authorization"]}, params=query
    )
    assert (response.status_code, response.json()[0]["errorCode"]) == (401, "INVALID_SESSION_ID")

    fresh = await headers(http, fake)
    assert (await post_interaction(http, fresh, text_interaction(fake))).status_code == 202
    assert fake.tokens_issued == 2 and len(fake.interactions) == 2


async def test_down_and_failing_calls_are_not_recorded(fake: FakeSalesforce, http: httpx.AsyncClient) -> None:
    head = await headers(http, fake)
    fake.down = True
    response = await post_interaction(http, head, text_interaction(fake))
    assert response.status_code == 503
    fake.down = False
    fake.fail_next(2, status=500, code=10094)
    for _ in range(2):
        response = await post_interaction(http, {**head, "RequestId": uid()}, text_interaction(fake))
        assert (response.status_code, response.json()["code"]) == (500, 10094)
    fake.fail_next(1, status=429)
    assert (
        await post_interaction(http, {**head, "RequestId": uid()}, text_interaction(fake))
    ).status_code == 429
    assert fake.interactions == [] and fake.conversations == {}
    assert (
        await post_interaction(http, {**head, "RequestId": uid()}, text_interaction(fake))
    ).status_code == 202
    statuses = [status for _, path, status in fake.calls if path == "/api/v1/interactions"]
    assert statuses == [503, 500, 500, 429, 202]


async def test_wait_for_wakes_on_a_recorded_call(fake: FakeSalesforce, http: httpx.AsyncClient) -> None:
    head = await headers(http, fake)

    async def send(count: int) -> None:
        for i in range(count):
            await post_interaction(http, {**head, "RequestId": uid()}, text_interaction(fake, f"m{i}"))

    sender = asyncio.create_task(send(3))
    await fake.wait_for(lambda fake: len(fake.interactions) >= 3, timeout=10)
    await sender
    assert len(fake.interactions) == 3
    with pytest.raises(TimeoutError):
        await fake.wait_for(lambda fake: len(fake.interactions) > 3, timeout=0.2)


async def test_an_unknown_interaction_service_call_says_so(
    fake: FakeSalesforce, http: httpx.AsyncClient
) -> None:
    response = await http.post("/api/v1/agentWork", headers=await headers(http, fake), json={})
    assert response.status_code == 404
    assert "/api/v1/agentWork" in response.json()["message"]


async def test_the_org_config_is_a_valid_connection_pointing_at_the_fake(fake: FakeSalesforce) -> None:
    org = msgspec.convert(fake.org_config(welcomeMessage="Hello"), Org)
    assert org.problem() is None
    assert (org.instance_url, org.login_url, org.scrt_url) == (fake.url, fake.url, fake.url)
    assert org.org_id == DEFAULT_ORG_ID and org.welcome_message == "Hello"
    assert org.platform_event is not None and org.platform_event.payload_field == "Payload__c"
    assert org.channel_address_identifier == fake.channel_address_identifier
    assert "PRIVATE KEY" in org.private_key


async def test_extra_routes_are_served_on_the_same_port() -> None:
    async def hello(request: Any) -> PlainTextResponse:
        return PlainTextResponse("streaming here")

    fake = FakeSalesforce(
        org_id="00D000000000062", extra_routes=[Route("/cometd/63.0", hello, methods=["POST"])]
    )
    assert fake.org_id == id18("00D000000000062")
    async with fake.running(), httpx.AsyncClient(base_url=fake.url) as http:
        response = await http.post("/cometd/63.0")
        assert response.text == "streaming here"
        head = await headers(http, fake)
        assert (await post_interaction(http, head, text_interaction(fake))).status_code == 202
