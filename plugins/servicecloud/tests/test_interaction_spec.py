"""The Interaction Service spec check: valid bodies pass, a body missing a required field fails naming it,
Salesforce's loose YAML (int/float types, nullable, implicit discriminator mappings) is read as meant, and a
missing spec directory is an error, not a skip."""

from __future__ import annotations

import copy
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from channel_engine_servicecloud.testing import interaction_spec
from channel_engine_servicecloud.testing.interaction_spec import (
    SpecError,
    check_outbound_event,
    check_request,
    check_response,
    check_schema,
)

NOW = int(time.time() * 1000)
CAI = "72a6a4ec-acbc-44f6-b2b9-e444248ca843"
END_USER = "385911234567"


def uid() -> str:
    return str(uuid.uuid4())


def end_user() -> dict[str, str]:
    return {"appType": "custom", "subject": END_USER, "role": "EndUser"}


def text_entry(text: str = "Hi there") -> dict[str, Any]:
    entry = uid()
    message = {
        "messageType": "StaticContentMessage",
        "id": entry,
        "staticContent": {"formatType": "Text", "text": text},
    }
    return {"id": entry, "entryType": "Message", "abstractMessage": message}


def interaction(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "to": CAI,
        "from": END_USER,
        "interactions": [{"timestamp": NOW, "interactionType": "EntryInteraction", "payload": payload}],
    }


VALID: dict[str, tuple[str, str, dict[str, Any]]] = {
    "message": ("POST", "/api/v1/interactions", interaction(text_entry())),
    "typing": (
        "POST",
        "/interactions",
        interaction({"id": uid(), "entryType": "TypingStartedIndicator", "timestamp": NOW}),
    ),
    "delivery failed": (
        "POST",
        "/interactions",
        interaction(
            {
                "id": uid(),
                "entryType": "MessageDeliveryFailed",
                "failedConversationEntryIdentifier": uid(),
                "recipient": end_user(),
                "errorCode": "EC_WINDOW_CLOSED",
                "errorMessage": "outside the 24-hour window",
            }
        ),
    ),
    "attachment": (
        "POST",
        "/interactions",
        {
            "to": CAI,
            "from": END_USER,
            "interactions": [
                {
                    "timestamp": NOW,
                    "interactionType": "AttachmentInteraction",
                    "id": uid(),
                    "attachmentIndex": 0,
                    "contentLength": 10,
                    "text": None,  # nullable in the spec
                }
            ],
        },
    ),
    "acknowledgement": (
        "POST",
        "/api/v1/acknowledgement",
        {
            "sender": end_user(),
            "conversationIdentifier": uid(),
            "acknowledgements": [
                {
                    "acknowledgementTimestamp": str(NOW),
                    "acknowledgementType": "Read",
                    "acknowledgedConversationEntryIdentifier": uid(),
                    "acknowledgmentCreatedConversationEntryIdentifier": uid(),
                }
            ],
        },
    ),
    "conversation": (
        "POST",
        "/api/v1/conversation",
        {
            "channelAddressIdentifier": CAI,
            "participants": [end_user()],
            "routingAttributes": {"topic": "billing"},
        },
    ),
    "conversationHistory": (
        "POST",
        "/api/v1/conversationHistory",
        {
            "channelAddressIdentifier": CAI,
            "conversationParticipants": [
                {"displayName": "Customer", "participant": end_user(), "joinedTime": NOW - 60_000},
                {
                    "displayName": "Bot",
                    "participant": {"appType": "chatbot", "subject": "bot-1", "role": "Chatbot"},
                    "joinedTime": NOW - 60_000,
                    "leftTime": NOW,
                },
            ],
            "conversationEntries": [
                {"clientTimestamp": NOW - 30_000, "sender": end_user(), "entryPayload": text_entry()}
            ],
            "messagingSession": {
                "messagingSessionRequestType": "EstablishMessagingSession",
                "payload": {"startTime": NOW - 60_000},
            },
        },
    ),
    "route": (
        "POST",
        "/api/v1/route",
        {
            "conversationIdentifier": uid(),
            "routingType": "Initial",
            "routingInfo": {"flow": {"flowId": "300xx0000000001", "queueId": "00Gxx0000000001"}},
        },
    ),
}

# (case, path of the required field to delete, the name the problem must mention)
MISSING = [
    ("message", ("from",), "from"),
    ("message", ("interactions", 0, "payload", "abstractMessage", "staticContent", "text"), "text"),
    ("typing", ("interactions", 0, "payload", "timestamp"), "timestamp"),
    ("delivery failed", ("interactions", 0, "payload", "recipient"), "recipient"),
    ("attachment", ("interactions", 0, "contentLength"), "contentLength"),
    (
        "acknowledgement",
        ("acknowledgements", 0, "acknowledgmentCreatedConversationEntryIdentifier"),
        "acknowledgment",
    ),
    ("acknowledgement", ("sender",), "sender"),
    ("conversation", ("participants", 0, "subject"), "subject"),
    ("conversationHistory", ("conversationParticipants", 0, "joinedTime"), "joinedTime"),
    ("conversationHistory", ("messagingSession", "payload", "startTime"), "startTime"),
    ("conversationHistory", ("conversationEntries", 0, "clientTimestamp"), "clientTimestamp"),
    ("route", ("routingType",), "routingType"),
]


@pytest.mark.parametrize("case", sorted(VALID))
def test_a_valid_body_passes(case: str) -> None:
    method, path, body = VALID[case]
    assert check_request(method, path, body) == []


@pytest.mark.parametrize(("case", "where", "name"), MISSING)
def test_a_body_missing_a_required_field_fails_naming_it(
    case: str, where: tuple[Any, ...], name: str
) -> None:
    method, path, body = VALID[case]
    broken = copy.deepcopy(body)
    parent = broken
    for step in where[:-1]:
        parent = parent[step]
    del parent[where[-1]]
    problems = check_request(method, path, broken)
    assert problems, f"{case} without {where} passed"
    assert any(name in problem for problem in problems), problems


def test_the_path_is_taken_with_or_without_the_api_prefix() -> None:
    _, _, body = VALID["route"]
    broken = {**body, "routingType": "Sideways"}
    assert check_request("POST", "/api/v1/route", broken) == check_request("POST", "route", broken)
    assert any("Sideways" in p for p in check_request("POST", "/route", broken))


def test_an_undeclared_key_is_reported() -> None:
    _, _, body = VALID["acknowledgement"]
    typo = copy.deepcopy(body)
    typo["acknowledgements"][0]["acknowledgementCreatedConversationEntryIdentifier"] = uid()
    problems = check_request("POST", "/acknowledgement", typo)
    assert any("acknowledgementCreatedConversationEntryIdentifier" in p for p in problems), problems


def test_types_are_checked_as_the_spec_says() -> None:
    _, _, body = VALID["acknowledgement"]
    numeric = copy.deepcopy(body)
    numeric["acknowledgements"][0]["acknowledgementTimestamp"] = NOW  # the spec types it as a string
    assert any("acknowledgementTimestamp" in p for p in check_request("POST", "/acknowledgement", numeric))


def test_an_entry_type_is_checked_against_its_own_schema() -> None:
    """AbstractEntry's discriminator has no mapping: entryType names the subtype schema (implicit)."""
    typing = interaction({"id": uid(), "entryType": "TypingStoppedIndicator"})  # no timestamp
    assert any("timestamp" in p for p in check_request("POST", "/interactions", typing))
    unknown = interaction({"id": uid(), "entryType": "Hologram"})
    assert check_request("POST", "/interactions", unknown) != []


def test_loose_yaml_types_are_read_as_json_schema() -> None:
    assert check_schema("Error", {"code": 10004, "message": "The supplied token is not valid."}) == []
    assert any("code" in p for p in check_schema("Error", {"code": "10004", "message": "x"}))
    assert (
        check_schema(
            "AgentWorkRequest",
            {"userId": "005xx000001Sv6NAAS", "workItemId": "0Mwxx0000004CXY", "capacityWeight": 1.5},
        )
        == []
    )


def test_the_fakes_answers_can_be_checked_too() -> None:
    answer = {
        "conversationIdentifier": uid(),
        "id": uid(),
        "workItemIds": ["0Mwxx0000000001AAA"],
        "success": True,
    }
    assert check_response("POST", "/api/v1/interactions", 202, answer) == []
    assert check_response("POST", "/api/v1/interactions", 400, {"code": 10045, "message": "bad entry"}) == []
    assert check_response("POST", "/api/v1/interactions", 400, {"message": "no code"}) != []


def outbound_event() -> dict[str, Any]:
    entry = uid()
    return {
        "conversationIdentifier": uid(),
        "channelAddressIdentifier": CAI,
        "recipient": end_user(),
        "payload": {
            "senderDisplayName": "Jane Agent",
            "identifier": entry,
            "entryType": "Message",
            "entryPayload": {
                "entryType": "Message",
                "id": entry,
                "abstractMessage": {
                    "messageType": "StaticContentMessage",
                    "id": entry,
                    "staticContent": {"formatType": "Text", "text": "How can I help?"},
                },
                "messageReason": None,  # Salesforce writes unset fields as null
            },
            "sender": {"appType": "agent", "subject": "005xx0000012345", "role": "Agent"},
            "transcriptedTimestamp": NOW,
            "clientTimestamp": NOW,
            "clientDuration": 0,
        },
    }


def test_a_valid_outbound_event_passes() -> None:
    assert check_outbound_event(outbound_event()) == []


def test_an_outbound_attachment_event_passes() -> None:
    event = outbound_event()
    attachment = {
        "name": "invoice.pdf",
        "id": uid(),
        "mimeType": "application/pdf",
        "url": "https://example.file.force.com/sfc/dist/version/download/?oid=00D",
        "referenceId": uid(),
        "attachmentUploadResult": None,
    }
    content = {"formatType": "Attachments", "text": "here it is", "attachments": [attachment]}
    event["payload"]["entryPayload"]["abstractMessage"]["staticContent"] = content
    assert check_outbound_event(event) == []


def test_an_outbound_event_missing_a_required_field_fails_naming_it() -> None:
    event = outbound_event()
    del event["conversationIdentifier"]
    assert any("conversationIdentifier" in p for p in check_outbound_event(event))
    event = outbound_event()
    event["payload"]["identifier"] = None  # null counts as absent, and identifier is required
    assert any("identifier" in p for p in check_outbound_event(event))


def test_a_routing_requested_event_is_checked_against_its_schema() -> None:
    event = {
        "channelAddressIdentifier": CAI,
        "recipient": end_user(),
        "payload": {"conversationIdentifier": uid(), "routingType": "Transfer"},
    }
    assert check_outbound_event(event, "RoutingRequested") == []
    assert any(
        "recipient" in p for p in check_outbound_event({**event, "recipient": None}, "RoutingRequested")
    )
    with pytest.raises(SpecError, match="Typing"):
        check_outbound_event(event, "Typing")


def test_an_unknown_operation_or_schema_is_an_error() -> None:
    with pytest.raises(SpecError, match="/nowhere"):
        check_request("POST", "/api/v1/nowhere", {})
    with pytest.raises(SpecError, match="Nothing"):
        check_schema("Nothing", {})


def test_no_spec_directory_is_an_error_not_a_skip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(interaction_spec.SALESFORCE_SPEC_DIR_ENV, raising=False)
    monkeypatch.delenv(interaction_spec.SPEC_DIR_ENV, raising=False)
    with pytest.raises(SpecError, match=interaction_spec.SALESFORCE_SPEC_DIR_ENV):
        check_request(*VALID["route"])
    monkeypatch.setenv(interaction_spec.SALESFORCE_SPEC_DIR_ENV, str(tmp_path))
    with pytest.raises(SpecError, match=r"inbound-interaction-api\.yaml"):
        check_request(*VALID["route"])


def test_the_directory_beside_the_infobip_specs_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    directory = interaction_spec.spec_dir()
    infobip = directory.parent / "infobip-openapi" / "specs"
    monkeypatch.delenv(interaction_spec.SALESFORCE_SPEC_DIR_ENV, raising=False)
    monkeypatch.setenv(interaction_spec.SPEC_DIR_ENV, str(infobip))
    assert interaction_spec.spec_dir() == infobip.parent.parent / "salesforce-interaction-api"
    assert check_request(*VALID["route"]) == []
