"""The simulator serves `/sms/3/messages` with the core's new-gen endpoint, and what it renders from our
requests is valid Infobip SMS webhooks that our parser reads back."""

from __future__ import annotations

import pytest

from channel_engine import click_report
from channel_engine.plugins import get_plugin_manager
from channel_engine.simulator import Outcome
from channel_engine.testing.conformance import check_request, check_webhook
from channel_engine_sms import count_segments, plugin

build_payload = plugin.build_payload
normalize_report = plugin.normalize_report


try:
    from channel_engine.simulator import NewGenEndpoint
except ImportError:  # the core's generic endpoint is written by another team; until it lands, say so
    NewGenEndpoint = None

needs_newgen = pytest.mark.skipif(
    NewGenEndpoint is None, reason="channel_engine.simulator.NewGenEndpoint is not in this core version yet"
)
DELIVERED = Outcome(
    group_id=3, group_name="DELIVERED", id=5, name="DELIVERED_TO_HANDSET", description="delivered"
)
SENT_AT, DONE_AT = "2025-03-14T09:20:00.120+0000", "2025-03-14T09:20:04.860+0000"


@needs_newgen
def test_the_plugin_registers_the_sms_endpoint():
    registered = []
    get_plugin_manager().hook.register_simulator_endpoints(register=registered.append)
    (endpoint,) = [e for e in registered if e.path == "/sms/3/messages"]
    assert isinstance(endpoint, NewGenEndpoint)
    assert endpoint.channel == "sms"


@pytest.fixture
def endpoint():
    if NewGenEndpoint is None:
        pytest.skip("channel_engine.simulator.NewGenEndpoint is not in this core version yet")
    registered = []
    get_plugin_manager().hook.register_simulator_endpoints(register=registered.append)
    (found,) = [e for e in registered if e.path == "/sms/3/messages"]
    return found


def test_the_simulator_reads_our_requests(endpoint, make_message, webhooks):
    messages = [
        make_message(sender="BistroLipa", options={"callbackData": "contact=1", "urlOptions": {}}),
        make_message(destination="385981112299", content={"text": "a" * 161}, options={"urlOptions": {}}),
    ]
    (request,) = build_payload("sms", messages, webhooks)
    assert check_request("sms", "/sms/3/messages", request.body) == []
    sends = endpoint.parse(request.body)
    assert [s.message_id for s in sends] == request.message_ids
    first, second = sends
    assert (first.to, first.sender, first.callback_data) == ("385981112233", "BistroLipa", "contact=1")
    assert first.delivery_url == webhooks.reports
    assert first.tracking_url == webhooks.clicks
    assert second.message_count == 2  # 161 GSM-7 characters


def test_what_the_simulator_sends_back_is_valid_and_parses(endpoint, make_message, webhooks):
    message = make_message("lms", options={"callbackData": "contact=7", "urlOptions": {}})
    (request,) = build_payload("lms", [message], webhooks)
    (send,) = endpoint.parse(request.body)

    delivery = {"results": [endpoint.delivery_report(send, DELIVERED, SENT_AT, DONE_AT)]}
    assert check_webhook("sms", "receive-outbound-sms-message-reports-v3", delivery) == []
    (report,) = normalize_report("lms", "reports", delivery)
    assert (report.kind, report.channel, report.message_id) == ("DELIVERY", "lms", message.id)
    assert (report.status_group, report.status_name, report.callback_data) == (
        "DELIVERED",
        "DELIVERED_TO_HANDSET",
        "contact=7",
    )

    click = endpoint.click_report(send, "https://bistro-lipa.example/menu", 1741944413589)
    assert check_webhook("sms", "receive-sms-tracking-notification", click) == []
    (clicked,) = normalize_report("lms", "clicks", click)
    assert clicked == click_report("lms", click)
    assert (clicked.message_id, clicked.received_at) == (message.id, "2025-03-14T09:26:53.589+0000")

    inbound = {
        "results": [endpoint.inbound_message(send, "STOP please", "mo-1", SENT_AT)],
        "messageCount": 1,
        "pendingMessageCount": 0,
    }
    assert check_webhook("sms", "receive-inbound-sms-messages", inbound) == []
    (reply,) = normalize_report("lms", "inbound", inbound)
    assert (reply.kind, reply.sender, reply.text) == ("INBOUND", message.destination, "STOP please")


@pytest.mark.parametrize(
    "text",
    ["a" * 160, "a" * 161, "a" * 158 + "€", "a" * 159 + "€", "ž" * 70, "ž" * 71, "😀" * 35, "a" * 69 + "😀",
     "ž" * 66 + "😀" + "ž" * 5,
     "a" * 152 + "{" + "a" * 152,
     ],
)  # fmt: skip
def test_the_simulator_counts_sms_parts_as_we_do(endpoint, make_message, webhooks, text):
    (request,) = build_payload("sms", [make_message(content={"text": text})], webhooks)
    (send,) = endpoint.parse(request.body)
    assert send.message_count == count_segments(text).segments
