"""Request building: the bodies of `/kakao-alim/1/messages` and `/kakao-chingu/1/messages`, message ids,
batching and splitting."""

from __future__ import annotations

import pytest

from channel_engine import ChannelEngineError, ProviderRequest
from channel_engine.plugins import get_plugin_manager
from channel_engine_kakao import plugin
from channel_engine_kakao.payload import build_requests

from .conftest import SENDER_KEY

build_payload = plugin.build_payload


def only(requests: list[ProviderRequest]) -> dict:
    assert len(requests) == 1
    return requests[0].body


def test_a_plain_alimtalk_message(make_message, webhooks):
    message = make_message()
    assert build_payload("kakao-alim", [message], webhooks) == [
        ProviderRequest(
            path="/kakao-alim/1/messages",
            body={
                "messages": [
                    {
                        "sender": SENDER_KEY,
                        "destinations": [{"to": "821012345678", "messageId": "kakao-alim-0001"}],
                        "content": {
                            "type": "TEMPLATE",
                            "templateCode": "TABLE_READY_01",
                            "text": "[비스트로 리파] 예약하신 테이블이 준비되었습니다.",
                        },
                        "webhooks": {
                            "delivery": {"url": webhooks.reports, "intermediateReport": True},
                            "contentType": "application/json",
                        },
                    }
                ]
            },
            message_ids=["kakao-alim-0001"],
        )
    ]


def test_an_alimtalk_message_with_everything(make_message, webhooks):
    buttons = [
        {"type": "DELIVERY_TRACKING", "name": "배송 조회"},
        {"name": "상담", "chatEvent": "handover", "type": "CHATBOT_SWITCH"},
    ]
    message = make_message(
        content={
            "templateCode": "ORDER_SHIPPED_01",
            "text": "주문 1042번이 발송되었습니다.",
            "title": "배송 시작",
            "buttons": buttons,
            "groupKey": "lipa-group",
            "campaignReferenceId": "orders",
            "smsFailover": {
                "text": "주문 1042번 발송",
                "sender": "BistroLipa",
                "title": "배송 안내",
                "resellerCode": "000123456",
                "validityPeriod": {"amount": 2, "timeUnit": "HOURS"},
            },
        },
        options={"validityPeriod": {"amount": 30}, "callbackData": "order=1042", "bulkId": "orders-1"},
    )
    body = only(build_payload("kakao-alim", [message], webhooks))
    assert body["options"] == {"schedule": {"bulkId": "orders-1"}}
    entry = body["messages"][0]
    assert entry["content"] == {
        "type": "TEMPLATE",
        "templateCode": "ORDER_SHIPPED_01",
        "text": "주문 1042번이 발송되었습니다.",
        "title": "배송 시작",
        "buttons": [
            {"type": "DELIVERY_TRACKING", "name": "배송 조회"},
            {"type": "CHATBOT_SWITCH", "name": "상담", "chatEvent": "handover"},
        ],
        "groupKey": "lipa-group",
    }
    assert entry["options"] == {
        "validityPeriod": {"amount": 30, "timeUnit": "MINUTES"},
        "campaignReferenceId": "orders",
        "smsFailover": {
            "sender": "BistroLipa",
            "text": "주문 1042번 발송",
            "validityPeriod": {"amount": 2, "timeUnit": "HOURS"},
            "regional": {"southKorea": {"title": "배송 안내", "resellerCode": 123456}},
        },
    }
    assert entry["webhooks"]["callbackData"] == "order=1042"


def test_a_chingutalk_text_message_and_an_image_message(make_message, webhooks):
    button = {"type": "URL", "name": "메뉴", "urlMobile": "https://m.bistro-lipa.example", "target": "OUT"}
    text = make_message(
        "kakao-chingu", content={"text": "브런치", "buttons": [button], "targeting": "NON_FRIENDS"}
    )
    image = make_message(
        "kakao-chingu",
        content={"text": "브런치", "image": {"url": "https://cdn.bistro-lipa.example/b.jpg"}},
    )
    body = only(build_payload("kakao-chingu", [text, image], webhooks))
    assert "options" not in body
    first, second = body["messages"]
    assert first["content"] == {"type": "TEXT_FREE_FORM", "text": "브런치", "buttons": [button]}
    assert first["options"] == {"targeting": "NON_FRIENDS"}
    assert second["content"] == {
        "type": "IMAGE_FREE_FORM",
        "text": "브런치",
        "image": {"url": "https://cdn.bistro-lipa.example/b.jpg"},
    }
    assert "options" not in second


def test_chingutalk_tracking_goes_to_the_engine_unless_the_message_names_its_own_url(make_message, webhooks):
    ours = only(
        build_payload("kakao-chingu", [make_message("kakao-chingu", options={"urlOptions": {}})], webhooks)
    )
    assert ours["options"] == {
        "tracking": {
            "shortenUrl": True,
            "trackClicks": True,
            "trackingUrl": webhooks.clicks,
            "removeProtocol": False,
        }
    }
    own = {
        "trackingUrl": "https://clicks.example.org/in",
        "customDomain": "go.example.org",
        "trackClicks": True,
    }
    theirs = only(
        build_payload("kakao-chingu", [make_message("kakao-chingu", options={"urlOptions": own})], webhooks)
    )
    assert theirs["options"]["tracking"] == {
        "shortenUrl": True,
        "trackClicks": True,
        "trackingUrl": "https://clicks.example.org/in",
        "removeProtocol": False,
        "customDomain": "go.example.org",
    }
    quiet = make_message("kakao-chingu", options={"urlOptions": {"trackClicks": False}})
    assert only(build_payload("kakao-chingu", [quiet], webhooks))["options"]["tracking"] == {
        "shortenUrl": True,
        "trackClicks": False,
        "removeProtocol": False,
    }


def test_no_sending_speed_limit_is_sent(make_message, webhooks):
    message = make_message(options={"speedLimit": {"amount": 10, "timeUnit": "MINUTE"}})
    assert "sendingSpeedLimit" not in str(build_payload("kakao-alim", [message], webhooks))


def test_identical_messages_share_an_entry_and_keep_their_own_ids(make_message, webhooks):
    same = [make_message(destination=f"8210111{i:05d}") for i in range(3)]
    different = make_message(destination="821099999999", options={"callbackData": "vip"})
    (request,) = build_payload("kakao-alim", [same[0], different, same[1], same[2]], webhooks)
    first, second = request.body["messages"]
    assert first["destinations"] == [{"to": m.destination, "messageId": m.id} for m in same]
    assert second["destinations"] == [{"to": "821099999999", "messageId": different.id}]
    assert request.message_ids == [same[0].id, same[1].id, same[2].id, different.id]


def test_request_level_options_split_the_batch(make_message, webhooks):
    plain_1 = make_message("kakao-chingu")
    tracked = make_message("kakao-chingu", options={"urlOptions": {}})
    bulk = make_message("kakao-chingu", options={"bulkId": "b"})
    plain_2 = make_message("kakao-chingu", options={"validityPeriod": {"amount": 5}})
    requests = build_payload("kakao-chingu", [plain_1, tracked, bulk, plain_2], webhooks)
    assert [r.message_ids for r in requests] == [[plain_1.id, plain_2.id], [tracked.id], [bulk.id]]
    assert all(r.path == "/kakao-chingu/1/messages" for r in requests)


def test_batches_never_exceed_max_batch(make_message, webhooks):
    messages = [make_message(destination=f"8210111{i:05d}") for i in range(7)]
    requests = build_requests("kakao-alim", messages, webhooks, max_batch=3)
    assert [len(r.message_ids) for r in requests] == [3, 3, 1]
    assert [i for r in requests for i in r.message_ids] == [m.id for m in messages]


def test_the_channel_max_batch_applies(make_message, webhooks):
    messages = [make_message("kakao-chingu", destination=f"8210{i:08d}") for i in range(1001)]
    assert [len(r.message_ids) for r in build_payload("kakao-chingu", messages, webhooks)] == [1000, 1]


def test_a_message_without_an_id_is_a_bug_the_engine_hears_about(make_message, webhooks):
    with pytest.raises(ChannelEngineError, match="without an id"):
        build_payload("kakao-alim", [make_message(id=None)], webhooks)


def test_infobips_answer_gives_one_outcome_per_message(make_message, webhooks):
    """The core's `parse_send_response` reads Kakao's 200 answer (the spec's example shape)."""
    messages = [make_message(), make_message(destination="821099999999")]
    (request,) = build_payload("kakao-alim", messages, webhooks)
    pending = {"groupId": 1, "groupName": "PENDING", "id": 7, "name": "PENDING_ENROUTE", "description": "x"}
    rejected = {"groupId": 5, "groupName": "REJECTED", "id": 52, "name": "REJECTED_DESTINATION"}
    answer = {
        "bulkId": "2034072219640523072",
        "messages": [
            {"messageId": request.message_ids[0], "status": pending, "destination": "821012345678"},
            {"messageId": request.message_ids[1], "status": rejected, "destination": "821099999999"},
        ],
    }
    outcomes = get_plugin_manager().hook.parse_send_response(
        channel="kakao-alim", request=request, body=answer
    )
    assert [(o.message_id, o.accepted, o.status_name) for o in outcomes] == [
        (messages[0].id, True, "PENDING_ENROUTE"),
        (messages[1].id, False, "REJECTED_DESTINATION"),
    ]
