"""Request building: the body of `/sms/3/messages`, message ids, batching and splitting."""

from __future__ import annotations

import pytest

from channel_engine import ChannelEngineError, ProviderRequest
from channel_engine.plugins import get_plugin_manager
from channel_engine_sms import plugin
from channel_engine_sms.payload import build_requests

build_payload = plugin.build_payload


def only(requests: list[ProviderRequest]) -> dict:
    assert len(requests) == 1
    return requests[0].body


def test_a_plain_sms(make_message, webhooks):
    message = make_message(sender="BistroLipa")
    requests = build_payload("sms", [message], webhooks)
    assert requests == [
        ProviderRequest(
            path="/sms/3/messages",
            body={
                "messages": [
                    {
                        "sender": "BistroLipa",
                        "destinations": [{"to": "385981112233", "messageId": "sms-0001"}],
                        "content": {"text": "Your table at Bistro Lipa is ready."},
                        "webhooks": {
                            "delivery": {"url": webhooks.reports, "intermediateReport": True},
                            "contentType": "application/json",
                        },
                    }
                ],
                "options": {"includeSmsCountInResponse": True},
            },
            message_ids=["sms-0001"],
        )
    ]


def test_without_a_sender_the_account_default_applies(make_message, webhooks):
    body = only(build_payload("sms", [make_message()], webhooks))
    assert "sender" not in body["messages"][0]


def test_an_lms_carries_title_and_reseller_code_in_regional_options(make_message, webhooks):
    body = only(build_payload("lms", [make_message("lms")], webhooks))
    entry = body["messages"][0]
    assert entry["content"] == {"text": "이번 주 특가 안내: 모든 원두 20% 할인"}
    assert entry["options"] == {"regional": {"southKorea": {"title": "주간 특가", "resellerCode": 123456789}}}
    assert entry["destinations"] == [{"to": "821012345678", "messageId": "lms-0001"}]


def test_a_reseller_code_given_as_digits_is_sent_as_a_number(make_message, webhooks):
    message = make_message(content={"text": "hi", "southKorea": {"resellerCode": "000123456"}})
    entry = only(build_payload("sms", [message], webhooks))["messages"][0]
    assert entry["options"] == {"regional": {"southKorea": {"resellerCode": 123456}}}


def test_india_dlt_language_transliteration_campaign_validity_and_callback_data(make_message, webhooks):
    message = make_message(
        content={
            "text": "Aapka OTP 4411 hai",
            "indiaDlt": {"principalEntityId": "1201159100000000001", "telemarketerId": "1702000000000001"},
            "transliteration": "NON_UNICODE",
            "language": {"languageCode": "AUTODETECT"},
            "campaignReferenceId": "otp-login",
        },
        options={"validityPeriod": {"amount": 15}, "callbackData": "contact=0042"},
    )
    entry = only(build_payload("sms", [message], webhooks))["messages"][0]
    assert entry["content"] == {
        "text": "Aapka OTP 4411 hai",
        "transliteration": "NON_UNICODE",
        "language": {"languageCode": "AUTODETECT"},
    }
    assert entry["options"] == {
        "validityPeriod": {"amount": 15, "timeUnit": "MINUTES"},
        "regional": {
            "indiaDlt": {"principalEntityId": "1201159100000000001", "telemarketerId": "1702000000000001"}
        },
        "campaignReferenceId": "otp-login",
    }
    assert entry["webhooks"]["callbackData"] == "contact=0042"


def test_click_tracking_goes_to_the_engine_unless_the_message_names_its_own_url(make_message, webhooks):
    ours = only(build_payload("sms", [make_message(options={"urlOptions": {}})], webhooks))
    assert ours["options"] == {
        "tracking": {
            "shortenUrl": True,
            "trackClicks": True,
            "trackingUrl": webhooks.clicks,
            "removeProtocol": False,
        },
        "includeSmsCountInResponse": True,
    }
    own = {
        "trackingUrl": "https://clicks.example.org/in",
        "removeProtocol": True,
        "customDomain": "go.example.org",
    }
    theirs = only(build_payload("sms", [make_message(options={"urlOptions": own})], webhooks))
    assert theirs["options"]["tracking"] == {
        "shortenUrl": True,
        "trackClicks": True,
        "trackingUrl": "https://clicks.example.org/in",
        "removeProtocol": True,
        "customDomain": "go.example.org",
    }


def test_shortening_without_tracking_sends_no_tracking_url(make_message, webhooks):
    message = make_message(options={"urlOptions": {"trackClicks": False}})
    tracking = only(build_payload("sms", [message], webhooks))["options"]["tracking"]
    assert tracking == {"shortenUrl": True, "trackClicks": False, "removeProtocol": False}


def test_bulk_id_goes_to_the_schedule_and_no_sending_speed_limit_is_sent(make_message, webhooks):
    message = make_message(
        options={"bulkId": "autumn-menu-1", "speedLimit": {"amount": 10, "timeUnit": "MINUTE"}}
    )
    body = only(build_payload("sms", [message], webhooks))
    assert body["options"] == {"schedule": {"bulkId": "autumn-menu-1"}, "includeSmsCountInResponse": True}
    assert "sendingSpeedLimit" not in str(body)


def test_many_messages_share_one_request_and_keep_their_own_ids(make_message, webhooks):
    messages = [
        make_message(destination=f"38598111{i:04d}", options={"callbackData": f"contact={i}"})
        for i in range(5)
    ]
    (request,) = build_payload("sms", messages, webhooks)
    assert request.message_ids == [m.id for m in messages]
    assert [e["destinations"] for e in request.body["messages"]] == [
        [{"to": m.destination, "messageId": m.id}] for m in messages
    ]
    assert [e["webhooks"]["callbackData"] for e in request.body["messages"]] == [
        f"contact={i}" for i in range(5)
    ]


def test_identical_messages_become_one_entry_with_many_destinations(make_message, webhooks):
    same = [make_message(destination=f"38598111{i:04d}") for i in range(3)]
    different = make_message(destination="385981119999", content={"text": "Another text"})
    (request,) = build_payload("sms", [same[0], different, same[1], same[2]], webhooks)
    first, second = request.body["messages"]
    assert first["destinations"] == [{"to": m.destination, "messageId": m.id} for m in same]
    assert second["destinations"] == [{"to": "385981119999", "messageId": different.id}]
    # ids in the order Infobip answers: destination by destination, entry by entry
    assert request.message_ids == [same[0].id, same[1].id, same[2].id, different.id]


def test_request_level_options_split_the_batch(make_message, webhooks):
    plain_1 = make_message()
    tracked_1 = make_message(options={"urlOptions": {}})
    bulk_a = make_message(options={"bulkId": "a"})
    plain_2 = make_message()
    tracked_2 = make_message(options={"urlOptions": {}})
    own_url = make_message(options={"urlOptions": {"trackingUrl": "https://clicks.example.org/in"}})
    bulk_b = make_message(options={"bulkId": "b"})
    requests = build_payload(
        "sms", [plain_1, tracked_1, bulk_a, plain_2, tracked_2, own_url, bulk_b], webhooks
    )
    assert [r.message_ids for r in requests] == [
        [plain_1.id, plain_2.id],
        [tracked_1.id, tracked_2.id],
        [bulk_a.id],
        [own_url.id],
        [bulk_b.id],
    ]
    assert [r.body["options"].get("schedule") for r in requests] == [
        None,
        None,
        {"bulkId": "a"},
        None,
        {"bulkId": "b"},
    ]


def test_message_level_options_do_not_split_the_batch(make_message, webhooks):
    messages = [
        make_message(),
        make_message(sender="Other"),
        make_message(options={"validityPeriod": {"amount": 1, "timeUnit": "HOURS"}}),
        make_message(content={"text": "x", "indiaDlt": {"principalEntityId": "1"}}),
    ]
    (request,) = build_payload("sms", messages, webhooks)
    assert len(request.body["messages"]) == 4


def test_batches_never_exceed_max_batch(make_message, webhooks):
    messages = [make_message(destination=f"3859811{i:05d}") for i in range(7)]
    requests = build_requests("sms", messages, webhooks, max_batch=3)
    assert [len(r.message_ids) for r in requests] == [3, 3, 1]
    assert [i for r in requests for i in r.message_ids] == [m.id for m in messages]
    for request in requests:
        (entry,) = request.body["messages"]  # identical messages share an entry, still at most 3 per request
        assert len(entry["destinations"]) == len(request.message_ids)


def test_the_channel_max_batch_applies(make_message, webhooks):
    messages = [
        make_message(destination=f"3859811{i:05d}", options={"callbackData": str(i)}) for i in range(1001)
    ]
    requests = build_payload("sms", messages, webhooks)
    assert [len(r.message_ids) for r in requests] == [1000, 1]


def test_a_message_without_an_id_is_a_bug_the_engine_hears_about(make_message, webhooks):
    message = make_message(id=None)
    with pytest.raises(ChannelEngineError, match="without an id"):
        build_payload("sms", [message], webhooks)


def test_no_messages_no_requests(webhooks):
    assert build_payload("sms", [], webhooks) == []


def test_infobips_answer_to_our_request_gives_one_outcome_per_message(make_message, webhooks):
    """The core's `parse_send_response` reads the v3 answer (`destination`, `details.messageCount`)."""
    plugins = get_plugin_manager()
    messages = [make_message(), make_message(destination="385981112299", content={"text": "a" * 200})]
    (request,) = build_payload("sms", messages, webhooks)
    pending = {
        "groupId": 1,
        "groupName": "PENDING",
        "id": 26,
        "name": "PENDING_ACCEPTED",
        "description": "sent",
    }
    rejected = {
        "groupId": 5,
        "groupName": "REJECTED",
        "id": 52,
        "name": "REJECTED_DESTINATION",
        "description": "x",
    }
    answer = {
        "bulkId": "41872209661230001",
        "messages": [
            {"messageId": request.message_ids[0], "status": pending, "destination": "385981112233",
             "details": {"messageCount": 1}},
            {"messageId": request.message_ids[1], "status": rejected, "destination": "385981112299",
             "details": {"messageCount": 2}},
        ],
    }  # fmt: skip
    outcomes = plugins.hook.parse_send_response(channel="sms", request=request, body=answer)
    assert [(o.message_id, o.accepted, o.message_count) for o in outcomes] == [
        (messages[0].id, True, 1),
        (messages[1].id, False, 2),
    ]
