"""The simulator serves `/mms/2/messages` with the core's new-gen endpoint: it reads our requests, and what
it renders from them is valid Infobip MMS webhooks that our parser reads back."""

from __future__ import annotations

import pytest

from channel_engine.plugins import get_plugin_manager
from channel_engine.simulator import NewGenEndpoint
from channel_engine.simulator.outcomes import (
    DELIVERED_TO_HANDSET,
    PENDING_ACCEPTED,
    UNDELIVERABLE_NOT_DELIVERED,
)
from channel_engine.testing.conformance import check_request, check_webhook
from channel_engine_mms import plugin

build_payload = plugin.build_payload
normalize_report = plugin.normalize_report

SEND = "/mms/2/messages"
SENT_AT, DONE_AT = "2025-04-02T17:05:00.120+0000", "2025-04-02T17:05:03.480+0000"
LINK = "https://bistro.example.com/book"


@pytest.fixture
def endpoint() -> NewGenEndpoint:
    registered = []
    get_plugin_manager().hook.register_simulator_endpoints(register=registered.append)
    (found,) = [e for e in registered if e.path == SEND]
    return found


def test_the_plugin_registers_the_mms_endpoint(endpoint):
    assert isinstance(endpoint, NewGenEndpoint)
    assert endpoint.channel == "mms"


@pytest.fixture
def sent(endpoint, make_message, webhooks):
    """Two messages of ours, built, checked against the spec, and read by the simulator."""
    content = {
        "title": "Spring menu",
        "segments": [
            {"type": "image", "url": "https://cdn.example.com/menu.jpg"},
            {"type": "text", "text": f"Book a table: {LINK}"},
            {"type": "text", "text": "See you soon!"},
        ],
    }
    messages = [
        make_message(
            content=content, options={"callbackData": "contact=1", "urlOptions": {}, "bulkId": "b-1"}
        ),
        make_message(destination="14155550991", options={"urlOptions": {}, "bulkId": "b-1"}),
    ]
    (request,) = build_payload("mms", messages, webhooks)
    assert check_request("mms", SEND, request.body) == []
    sends = endpoint.parse(request.body)
    assert [s.message_id for s in sends] == request.message_ids
    return messages, sends


def test_the_simulator_reads_our_requests(sent, webhooks):
    _, (first, second) = sent
    assert (first.to, first.sender, first.callback_data, first.bulk_id) == (
        "14155550123",
        "14155550100",
        "contact=1",
        "b-1",
    )
    assert first.text == f"Book a table: {LINK}\nSee you soon!"  # the text segments; media are not text
    assert (first.delivery_url, first.intermediate_report) == (webhooks.reports, True)
    assert (first.tracking_url, first.track_clicks, first.shorten_url) == (webhooks.clicks, True, True)
    assert first.message_count == second.message_count == 1  # an MMS is one message, whatever its size
    assert second.to == "14155550991"


def test_the_answer_and_the_delivery_reports_are_valid_and_parse(endpoint, sent):
    messages, sends = sent
    answer = endpoint.response(sends, [PENDING_ACCEPTED, PENDING_ACCEPTED], "b-1")
    assert [m["messageId"] for m in answer["messages"]] == [m.id for m in messages]
    body = {
        "results": [
            endpoint.delivery_report(sends[0], DELIVERED_TO_HANDSET, SENT_AT, DONE_AT),
            endpoint.delivery_report(sends[1], UNDELIVERABLE_NOT_DELIVERED, SENT_AT, DONE_AT),
        ]
    }
    assert check_webhook("mms", "receive-outbound-mms-message-delivery-reports", body) == []
    delivered, failed = normalize_report("mms", "reports", body)
    assert (delivered.kind, delivered.message_id, delivered.status_name, delivered.callback_data) == (
        "DELIVERY",
        messages[0].id,
        "DELIVERED_TO_HANDSET",
        "contact=1",
    )
    assert (failed.message_id, failed.status_group, failed.error_name) == (
        messages[1].id,
        "UNDELIVERABLE",
        "EC_UNKNOWN_SUBSCRIBER",
    )
    assert (delivered.to, delivered.sender, delivered.bulk_id) == ("14155550123", "14155550100", "b-1")


def test_a_click_is_valid_and_parses(endpoint, sent):
    messages, sends = sent
    body = endpoint.click_report(sends[0], LINK, 1743613513589)
    assert check_webhook("mms", "receive-mms-tracking-notification", body) == []
    (click,) = normalize_report("mms", "clicks", body)
    assert (click.kind, click.message_id, click.url, click.to) == (
        "CLICK",
        messages[0].id,
        LINK,
        "14155550123",
    )
    assert (click.received_at, click.callback_data) == ("2025-04-02T17:05:13.589+0000", "contact=1")


def test_an_inbound_reply_is_valid_and_parses(endpoint, sent):
    messages, sends = sent
    body = {
        "results": [endpoint.inbound_message(sends[0], "STOP", "mo-1", SENT_AT)],
        "messageCount": 1,
        "pendingMessageCount": 0,
    }
    assert check_webhook("mms", "receive-inbound-mms-messages", body) == []
    (reply,) = normalize_report("mms", "inbound", body)
    assert (reply.kind, reply.sender, reply.to, reply.text) == (
        "INBOUND",
        "14155550123",
        "14155550100",
        "STOP",
    )
    assert (reply.message_id, reply.raw["pairedMessageId"]) == ("mo-1", messages[0].id)


def test_mms_has_no_seen_reports(endpoint, sent):
    _, sends = sent
    with pytest.raises(NotImplementedError):
        endpoint.seen_report(sends[0], SENT_AT, DONE_AT)
