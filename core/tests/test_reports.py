"""The core's readers of Infobip's shared shapes, through the hooks' fallbacks."""

from __future__ import annotations

import pytest

from channel_engine import ProviderRequest, is_final_status
from channel_engine.plugins import get_plugin_manager
from channel_engine.problems import MESSAGE_STATUS, from_decode_error, problem


@pytest.fixture
def core_only():
    return get_plugin_manager(entry_points=False)


def test_parse_send_response_reads_the_common_answer(core_only):
    request = ProviderRequest(path="/x/1/messages", body={}, message_ids=["a", "b"])
    body = {
        "bulkId": "B",
        "messages": [
            {
                "messageId": "a",
                "destination": "41793026727",
                "status": {"groupId": 1, "groupName": "PENDING", "id": 26, "name": "PENDING_ACCEPTED"},
                "details": {"messageCount": 2},
            },
            {
                "messageId": "b",
                "status": {
                    "groupId": 5,
                    "groupName": "REJECTED",
                    "id": 23,
                    "name": "REJECTED_DUPLICATE_MESSAGE_ID",
                },
            },
        ],
    }
    a, b = core_only.hook.parse_send_response(channel="pigeon", request=request, body=body)
    assert (a.message_id, a.accepted, a.status_name, a.message_count) == ("a", True, "PENDING_ACCEPTED", 2)
    assert (b.message_id, b.accepted, b.status_group) == ("b", False, "REJECTED")


def test_generic_normalize_report_reads_delivery_seen_click_and_inbound(core_only):
    normalize = core_only.hook.normalize_report
    dlr = {
        "results": [
            {
                "messageId": "m1",
                "to": "385",
                "doneAt": "2026-01-01T00:00:00.000+0000",
                "status": {"groupId": 3, "groupName": "Delivered", "id": 5, "name": "DELIVERED_TO_HANDSET"},
                "error": {"groupId": 0, "groupName": "Ok", "id": 0, "name": "NO_ERROR", "permanent": False},
                "price": {"pricePerMessage": 0.01, "currency": "EUR"},
                "smsCount": 2,
            },
            {"messageId": "m1", "to": "385", "seenAt": "2026-01-01T00:01:00.000+0000"},
        ]
    }
    delivery, seen = normalize(channel="pigeon", kind="reports", payload=dlr)
    assert (delivery.kind, delivery.status_group, delivery.error_group) == ("DELIVERY", "DELIVERED", "OK")
    assert delivery.is_final and delivery.message_count == 2 and delivery.price.currency == "EUR"
    assert seen.kind == "SEEN" and not seen.is_final
    (click,) = normalize(
        channel="pigeon", kind="clicks", payload={"messageId": "m1", "sendDateTime": 0, "url": "u"}
    )
    assert (click.kind, click.received_at, click.url) == ("CLICK", "1970-01-01T00:00:00.000+0000", "u")
    (mo,) = normalize(
        channel="pigeon", kind="inbound", payload={"results": [{"messageId": "i", "from": "1", "text": "hi"}]}
    )
    assert (mo.kind, mo.sender, mo.text) == ("INBOUND", "1", "hi")
    with pytest.raises(ValueError, match="results"):
        normalize(channel="pigeon", kind="reports", payload={"nothing": True})


def test_replays_have_one_dedupe_key_and_operator_delivery_is_not_final(core_only):
    body = {
        "results": [
            {
                "messageId": "m",
                "doneAt": "t",
                "status": {"groupName": "DELIVERED", "id": 2, "name": "DELIVERED_TO_OPERATOR"},
            }
        ]
    }
    (one,) = core_only.hook.normalize_report(channel="sms", kind="reports", payload=body)
    (two,) = core_only.hook.normalize_report(channel="sms", kind="reports", payload=body)
    assert one.dedupe_key() == two.dedupe_key()
    assert not one.is_final
    assert is_final_status("EXPIRED", "EXPIRED_EXPIRED") and not is_final_status("PENDING", "PENDING_ENROUTE")


def test_problems_carry_the_seed_texts_and_decode_paths():
    assert (
        problem("missing_destination", "$.destination", "x").status
        == "Error: Missing phone number in request"
    )
    assert MESSAGE_STATUS["invalid_text_length"] == "Error: Invalid text length"
    with pytest.raises(KeyError):
        problem("made_up", "$", "x")
    import msgspec

    from channel_engine import OutboundMessage

    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.convert(
            {"channel": "sms", "options": {"speedLimit": {"amount": 0, "timeUnit": "DAY"}}}, OutboundMessage
        )
    p = from_decode_error(caught.value, "$.messages[3]")
    assert p.path == "$.messages[3].options.speedLimit.amount"
    assert p.code == "invalid_field" and ">= 1" in p.message
