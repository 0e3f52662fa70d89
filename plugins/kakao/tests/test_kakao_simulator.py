"""The simulator serves both Kakao paths with a `NewGenEndpoint` subclass, and what it renders from our
requests is valid Kakao webhooks (and answers) that our parser reads back."""

from __future__ import annotations

import pytest

from channel_engine.plugins import get_plugin_manager
from channel_engine.simulator import NewGenEndpoint, RequestViolation
from channel_engine.simulator.outcomes import (
    DELIVERED_TO_HANDSET,
    DELIVERED_TO_OPERATOR,
    EXPIRED_EXPIRED,
    PENDING_ACCEPTED,
    REJECTED_DESTINATION,
    UNDELIVERABLE_NOT_DELIVERED,
)
from channel_engine.testing.conformance import check_request, check_response, check_webhook
from channel_engine_kakao import plugin

build_payload = plugin.build_payload
normalize_report = plugin.normalize_report

PATHS = {"kakao-alim": "/kakao-alim/1/messages", "kakao-chingu": "/kakao-chingu/1/messages"}
WEBHOOKS = {
    "kakao-alim": "receive-outbound-kakao-alim-message-delivery-reports",
    "kakao-chingu": "receive-outbound-kakao-chingu-message-delivery-reports",
}
SENT_AT, DONE_AT = "2025-05-02T18:30:00.120+0000", "2025-05-02T18:30:01.480+0000"
OUTCOMES = [
    DELIVERED_TO_HANDSET,
    DELIVERED_TO_OPERATOR,
    UNDELIVERABLE_NOT_DELIVERED,
    EXPIRED_EXPIRED,
    REJECTED_DESTINATION,
]


@pytest.fixture
def endpoints():
    registered = []
    get_plugin_manager().hook.register_simulator_endpoints(register=registered.append)
    return {e.channel: e for e in registered if e.path in PATHS.values()}


def test_the_plugin_registers_one_new_gen_endpoint_per_path(endpoints):
    assert {channel: e.path for channel, e in endpoints.items()} == PATHS
    assert all(isinstance(e, NewGenEndpoint) for e in endpoints.values())


@pytest.mark.parametrize("channel", sorted(PATHS))
def test_the_simulator_reads_our_requests_and_answers_like_the_spec(
    endpoints, make_message, webhooks, channel
):
    messages = [
        make_message(channel, options={"callbackData": "guest=1", "bulkId": "dinner-1"}),
        make_message(channel, destination="66855538125", options={"bulkId": "dinner-1"}),
    ]
    (request,) = build_payload(channel, messages, webhooks)
    assert check_request("kakao", PATHS[channel], request.body) == []
    sends = endpoints[channel].parse(request.body)
    assert [s.message_id for s in sends] == request.message_ids
    first, second = sends
    assert (first.to, first.sender, first.callback_data) == ("821012345678", messages[0].sender, "guest=1")
    assert (first.bulk_id, first.delivery_url, first.intermediate_report) == (
        "dinner-1",
        webhooks.reports,
        True,
    )
    assert (first.message_count, first.text) == (1, messages[0].content["text"])
    assert second.to == "66855538125"
    answer = endpoints[channel].response(sends, [PENDING_ACCEPTED, REJECTED_DESTINATION], "dinner-1")
    assert check_response("kakao", PATHS[channel], 200, answer) == []
    assert [m["messageId"] for m in answer["messages"]] == request.message_ids


@pytest.mark.parametrize("channel", sorted(PATHS))
@pytest.mark.parametrize("outcome", OUTCOMES, ids=lambda o: o.name)
def test_every_delivery_report_is_valid_and_parses(endpoints, make_message, webhooks, channel, outcome):
    message = make_message(channel, options={"callbackData": "guest=7"})
    (request,) = build_payload(channel, [message], webhooks)
    (send,) = endpoints[channel].parse(request.body)
    body = {"results": [endpoints[channel].delivery_report(send, outcome, SENT_AT, DONE_AT)]}
    assert check_webhook("kakao", WEBHOOKS[channel], body) == []
    (report,) = normalize_report(channel, "reports", body)
    assert (report.kind, report.channel, report.message_id) == ("DELIVERY", channel, message.id)
    assert (report.status_group, report.status_name, report.error_name) == (
        outcome.group_name,
        outcome.name,
        outcome.error_name,
    )
    assert (report.callback_data, report.sender, report.to) == (
        "guest=7",
        message.sender,
        message.destination,
    )
    assert (report.sent_at, report.done_at) == (SENT_AT, DONE_AT)


def test_a_tracked_chingutalk_link_renders_a_click_that_parses(endpoints, make_message, webhooks):
    message = make_message(
        "kakao-chingu",
        content={"text": "브런치 https://bistro-lipa.example/brunch"},
        options={"urlOptions": {}, "callbackData": "guest=9"},
    )
    (request,) = build_payload("kakao-chingu", [message], webhooks)
    (send,) = endpoints["kakao-chingu"].parse(request.body)
    assert (send.tracking_url, send.track_clicks, send.shorten_url) == (webhooks.clicks, True, True)
    click = endpoints["kakao-chingu"].click_report(send, "https://bistro-lipa.example/brunch", 1746210613589)
    assert check_webhook("sms", "receive-sms-tracking-notification", click) == []  # none in kakao.json
    (report,) = normalize_report("kakao-chingu", "clicks", click)
    assert (report.kind, report.message_id, report.url) == (
        "CLICK",
        message.id,
        "https://bistro-lipa.example/brunch",
    )
    assert (report.callback_data, report.received_at) == ("guest=9", "2025-05-02T18:30:13.589+0000")


@pytest.mark.parametrize("channel", sorted(PATHS))
def test_kakao_renders_no_seen_report_no_inbound_and_alimtalk_no_click(
    endpoints, make_message, webhooks, channel
):
    (request,) = build_payload(channel, [make_message(channel)], webhooks)
    endpoint = endpoints[channel]
    (send,) = endpoint.parse(request.body)
    with pytest.raises(NotImplementedError):
        endpoint.inbound_message(send, "STOP", "mo-1", SENT_AT)
    with pytest.raises(NotImplementedError):
        endpoint.seen_report(send, SENT_AT, DONE_AT)
    if channel == "kakao-alim":
        with pytest.raises(NotImplementedError):
            endpoint.click_report(send, "https://bistro-lipa.example", 0)


@pytest.mark.parametrize("channel", sorted(PATHS))
def test_a_request_the_spec_refuses_is_a_400_naming_the_property(endpoints, make_message, webhooks, channel):
    (request,) = build_payload(channel, [make_message(channel)], webhooks)
    body = request.body
    del body["messages"][0]["sender"]
    del body["messages"][0]["content"]["type"]
    body["messages"][0]["destinations"][0]["to"] = " "
    with pytest.raises(RequestViolation) as refused:
        endpoints[channel].parse(body)
    assert [p for p, _ in refused.value.violations] == [
        "messages[0].destinations[0].to",
        "messages[0].sender",
        "messages[0].content.type",
    ]
