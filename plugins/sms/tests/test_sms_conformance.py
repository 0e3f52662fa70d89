"""Every request we build conforms to Infobip's `/sms/3/messages` schema, with no key the spec lacks; and
the conformance checker itself finds what it should (schema errors, unknown keys, discriminated types)."""

from __future__ import annotations

import json

import pytest

from channel_engine.testing import conformance
from channel_engine.testing.conformance import SpecError, check_request, check_webhook
from channel_engine_sms import plugin

build_payload = plugin.build_payload


SEND = "/sms/3/messages"

# Each case: (channel, [message fields...]); every message is built with the `make_message` fixture.
CASES = {
    "plain": ("sms", [{}]),
    "sender and unicode text": (
        "sms",
        [{"sender": "BistroLipa", "content": {"text": "Žlica juhe 🍲 čeka!"}}],
    ),
    "numeric sender": ("sms", [{"sender": "385919990001"}]),
    "lms": ("lms", [{}]),
    "lms with tracking": ("lms", [{"options": {"urlOptions": {"removeProtocol": True}}}]),
    "india dlt": (
        "sms",
        [
            {
                "content": {
                    "text": "Aapka OTP 4411 hai",
                    "indiaDlt": {
                        "principalEntityId": "1201159100000000001",
                        "contentTemplateId": "1207161700000000002",
                        "telemarketerId": "1702000000000001",
                    },
                }
            }
        ],
    ),
    "tracking to the engine": ("sms", [{"options": {"urlOptions": {}}}]),
    "tracking to the host": (
        "sms",
        [
            {
                "options": {
                    "urlOptions": {
                        "trackingUrl": "https://clicks.example.org/in",
                        "removeProtocol": True,
                        "customDomain": "go.example.org",
                    }
                }
            }
        ],
    ),
    "shortening only": ("sms", [{"options": {"urlOptions": {"trackClicks": False}}}]),
    "validity": ("sms", [{"options": {"validityPeriod": {"amount": 36, "timeUnit": "HOURS"}}}]),
    "callback data": (
        "sms",
        [{"options": {"callbackData": json.dumps({"contactKey": "0031", "de": "Guests"})}}],
    ),
    "bulk id and speed limit": (
        "sms",
        [{"options": {"bulkId": "autumn-menu-1", "speedLimit": {"amount": 5, "timeUnit": "MINUTE"}}}],
    ),
    "language and transliteration": (
        "sms",
        [
            {
                "content": {
                    "text": "Rezervasyonunuz haz\u0131r",
                    "language": {"languageCode": "TR", "singleShift": True, "lockingShift": False},
                    "transliteration": "TURKISH",
                    "campaignReferenceId": "istanbul-spring",
                }
            }
        ],
    ),
    "reseller code on sms": (
        "sms",
        [{"content": {"text": "hi", "southKorea": {"resellerCode": "123456789"}}}],
    ),
    "mixed batch": (
        "sms",
        [
            {},
            {"destination": "385981112299"},
            {"sender": "Other", "options": {"callbackData": "c=2"}},
            {"options": {"urlOptions": {}}},
            {"options": {"bulkId": "b-2", "validityPeriod": {"amount": 90, "timeUnit": "SECONDS"}}},
            {"content": {"text": "x", "indiaDlt": {"principalEntityId": "1"}}},
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_request_we_build_conforms_to_the_spec(case, make_message, webhooks):
    channel, fields = CASES[case]
    messages = [make_message(channel, **f) for f in fields]
    requests = build_payload(channel, messages, webhooks)
    assert requests
    assert sorted(i for r in requests for i in r.message_ids) == sorted(m.id for m in messages)
    for request in requests:
        assert request.path == SEND
        assert check_request("sms", SEND, request.body) == []


# --- the checker finds what it should --------------------------------------------------------------


def good_body():
    return {"messages": [{"destinations": [{"to": "385981112233"}], "content": {"text": "hi"}}]}


def test_the_checker_reports_schema_violations_with_their_path():
    body = good_body()
    body["messages"][0]["destinations"][0]["to"] = "3" * 65
    body["messages"][0]["options"] = {"validityPeriod": {"amount": 5, "timeUnit": "WEEKS"}}
    problems = check_request("sms", SEND, body)
    assert any(p.startswith("$.messages[0].destinations[0].to: ") and "too long" in p for p in problems)
    assert any(p.startswith("$.messages[0].options.validityPeriod.timeUnit: ") for p in problems)


def test_the_checker_reports_keys_the_spec_does_not_declare():
    body = good_body()
    body["messages"][0]["destinations"][0]["messageID"] = "typo"
    body["messages"][0]["content"]["title"] = "not here"  # inside a oneOf: the text branch decides
    body["sendingSpeedLimit"] = {"amount": 1}  # v2's place, not v3's
    body["options"] = {"tracking": {"trackClick": True}}
    assert check_request("sms", SEND, body) == [
        "$.messages[0].destinations[0].messageID: the spec declares no such key",
        "$.messages[0].content.title: the spec declares no such key",
        "$.sendingSpeedLimit: the spec declares no such key",
        "$.options.tracking.trackClick: the spec declares no such key",
    ]


def test_the_checker_explains_a_content_that_fits_no_alternative():
    body = good_body()
    body["messages"][0]["content"] = {"txt": "hi"}
    (problem,) = [p for p in check_request("sms", SEND, body) if "alternatives" in p]
    assert problem.startswith("$.messages[0].content: fits none of the oneOf alternatives")


def test_the_checker_validates_webhooks_too():
    assert check_webhook("sms", "receive-sms-tracking-notification", {"sendDateTime": "yesterday"}) == [
        "$.sendDateTime: 'yesterday' is not of type 'integer'"
    ]
    assert check_webhook(
        "sms", "receive-outbound-sms-message-reports-v3", {"results": [{"smsCount": 1}]}
    ) == ["$.results[0].smsCount: the spec declares no such key"]


def test_discriminated_types_are_checked_as_the_subtype_they_name_in_a_real_spec():
    """Viber's content is a base schema with `discriminator.mapping` (TEXT, IMAGE, ...)."""
    message = {"sender": "Bistro", "destinations": [{"to": "385981112233"}]}
    text = {**message, "content": {"type": "TEXT", "text": "hi"}}
    assert check_request("viber", "/viber/2/messages", {"messages": [text]}) == []
    image_key_on_text = {
        **message,
        "content": {"type": "TEXT", "text": "hi", "mediaUrl": "https://x.example/a.png"},
    }
    assert check_request("viber", "/viber/2/messages", {"messages": [image_key_on_text]}) == [
        "$.messages[0].content.mediaUrl: the spec declares no such key"
    ]
    image_without_url = {**message, "content": {"type": "IMAGE"}}
    (problem,) = check_request("viber", "/viber/2/messages", {"messages": [image_without_url]})
    assert problem.startswith("$.messages[0].content: as type 'IMAGE': ") and "mediaUrl" in problem
    unknown_type = {**message, "content": {"type": "HOLOGRAM"}}
    (problem,) = check_request("viber", "/viber/2/messages", {"messages": [unknown_type]})
    assert "type is 'HOLOGRAM'; the spec knows TEXT, IMAGE" in problem


SYNTHETIC = {
    "openapi": "3.1.0",
    "paths": {
        "/pets": {
            "post": {
                "requestBody": {
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pen"}}}
                }
            }
        }
    },
    "webhooks": {
        "pet-seen": {
            "post": {
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"pet": {"$ref": "#/components/schemas/Pet"}},
                            },
                            "examples": {"a cat": {"value": {"pet": {"kind": "CAT", "name": "Mici"}}}},
                        }
                    }
                }
            }
        }
    },
    "components": {
        "schemas": {
            "Pen": {
                "type": "object",
                "properties": {
                    "pets": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "anything": {"type": "object"},
                },
            },
            "Pet": {
                "type": "object",
                "properties": {"kind": {"type": "string"}, "name": {"type": "string"}},
                "required": ["kind"],
                "discriminator": {
                    "propertyName": "kind",
                    "mapping": {"CAT": "#/components/schemas/Cat", "DOG": "#/components/schemas/Dog"},
                },
            },
            "Cat": {
                "type": "object",
                "allOf": [{"$ref": "#/components/schemas/Pet"}],
                "properties": {"lives": {"type": "integer", "maximum": 9}},
            },
            "Dog": {
                "type": "object",
                "allOf": [{"$ref": "#/components/schemas/Pet"}],
                "properties": {"tricks": {"type": "array", "items": {"type": "string"}}},
                "required": ["tricks"],
            },
        }
    },
}


@pytest.fixture
def synthetic_spec(tmp_path, monkeypatch):
    (tmp_path / "pets.json").write_text(json.dumps(SYNTHETIC))
    monkeypatch.setenv(conformance.SPEC_DIR_ENV, str(tmp_path))


def test_discriminator_mapping_is_pinned_by_const(synthetic_spec):
    pets = [
        {"kind": "CAT", "name": "Mici", "lives": 9},
        {"kind": "DOG", "name": "Rex", "tricks": ["sit"]},
    ]
    assert check_request("pets", "/pets", {"pets": pets}) == []
    # Pinned by its kind, a pet is checked as that subtype: a dog's key on a cat is unknown, a cat's own
    # keys follow the Cat schema, and a dog must have what Dog requires. Plain JSON Schema sees only Pet.
    assert check_request("pets", "/pets", {"pets": [{"kind": "CAT", "tricks": ["sit"]}]}) == [
        "$.pets[0].tricks: the spec declares no such key"
    ]
    assert check_request("pets", "/pets", {"pets": [{"kind": "CAT", "lives": 10}]}) == [
        "$.pets[0]: as kind 'CAT': $.pets[0].lives: 10 is greater than the maximum of 9"
    ]
    assert check_request("pets", "/pets", {"pets": [{"kind": "DOG"}]}) == [
        "$.pets[0]: as kind 'DOG': $.pets[0]: 'tricks' is a required property"
    ]
    assert check_request("pets", "/pets", {"pets": [{"kind": "FISH"}]}) == [
        "$.pets[0]: kind is 'FISH'; the spec knows CAT, DOG"
    ]


def test_maps_and_untyped_objects_take_any_key_but_maps_check_their_values(synthetic_spec):
    body = {"labels": {"colour": "black", "size": "small"}, "anything": {"x": {"y": 1}}}
    assert check_request("pets", "/pets", body) == []
    assert check_request("pets", "/pets", {"labels": {"colour": 1}}) == [
        "$.labels.colour: 1 is not of type 'string'"
    ]


def test_inline_webhook_schemas_and_their_examples(synthetic_spec):
    assert conformance.webhook_examples("pets", "pet-seen") == {
        "a cat": {"pet": {"kind": "CAT", "name": "Mici"}}
    }
    assert check_webhook("pets", "pet-seen", {"pet": {"kind": "CAT", "name": "Mici"}}) == []
    assert check_webhook("pets", "pet-seen", {"pet": {"kind": "CAT", "nmae": "Mici"}}) == [
        "$.pet.nmae: the spec declares no such key"
    ]


# --- the spec directory must be there -------------------------------------------------------------


def test_an_unset_spec_dir_is_an_error_not_a_skip(monkeypatch):
    monkeypatch.delenv(conformance.SPEC_DIR_ENV)
    with pytest.raises(SpecError, match="CHANNEL_ENGINE_SPEC_DIR is not set"):
        check_request("sms", SEND, good_body())


def test_a_missing_spec_dir_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv(conformance.SPEC_DIR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(SpecError, match="is not a directory"):
        check_request("sms", SEND, good_body())


def test_unknown_products_operations_and_webhooks_are_errors():
    with pytest.raises(SpecError, match="no spec for product 'telegraph'"):
        check_request("telegraph", SEND, {})
    with pytest.raises(SpecError, match="no operation POST /sms/9/messages"):
        check_request("sms", "/sms/9/messages", {})
    with pytest.raises(SpecError, match="no webhook 'receive-pigeons'"):
        check_webhook("sms", "receive-pigeons", {})
