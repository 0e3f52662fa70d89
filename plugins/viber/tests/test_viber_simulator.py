"""The simulator serves `/viber/2/messages`, and everything it renders from our requests is a valid Infobip
Viber webhook that our parser reads back."""

from __future__ import annotations

import pytest

from channel_engine.plugins import get_plugin_manager
from channel_engine.simulator import NewGenEndpoint, Outcome, RequestViolation, collect_endpoints
from channel_engine.simulator.outcomes import DELIVERED_TO_HANDSET, UNDELIVERABLE_NOT_DELIVERED
from channel_engine.testing.conformance import check_request, check_webhook
from channel_engine_viber import plugin
from channel_engine_viber.simulator import ViberEndpoint

build_payload = plugin.build_payload
normalize_report = plugin.normalize_report


DELIVERY = "receive-outbound-viber-message-delivery-reports"
SEEN = "receive-viber-seen-reports"
INBOUND = "receive-inbound-viber-messages"
SMS_CLICKS = "receive-sms-tracking-notification"  # viber.json has no click webhook (see reports.py)
SENT_AT, DONE_AT = "2025-03-14T09:20:00.120+0000", "2025-03-14T09:20:04.860+0000"
SEEN_AT = "2025-03-14T09:31:12.004+0000"

IMAGE = "https://cdn.bistro.example/spring/dish.jpg"
CONTENTS = {
    "text": {"text": "Menu: https://bistro.example/menu"},
    "text with button": {"text": "Book now", "button": {"title": "Book", "url": "https://bistro.example/b"}},
    "image with caption": {"imageUrl": IMAGE, "text": "New dish https://bistro.example/dish"},
    "video": {
        "videoUrl": "https://cdn.example/tour.mp4",
        "thumbnailUrl": "https://cdn.example/tour.jpg",
        "videoDuration": 30,
    },
    "file": {"fileUrl": "https://cdn.example/menu.pdf", "fileName": "menu.pdf"},
}


@pytest.fixture
def endpoint():
    (found,) = [e for e in collect_endpoints(get_plugin_manager()) if e.path == "/viber/2/messages"]
    return found


def test_the_plugin_registers_a_new_gen_endpoint_for_viber(endpoint):
    assert isinstance(endpoint, ViberEndpoint) and isinstance(endpoint, NewGenEndpoint)
    assert endpoint.channel == "viber"


def test_the_simulator_reads_our_requests(endpoint, make_message, webhooks):
    messages = [
        make_message(options={"callbackData": "contact=1", "urlOptions": {}}),
        make_message(destination="385981112299", content=CONTENTS["file"], options={"urlOptions": {}}),
    ]
    (request,) = build_payload("viber", messages, webhooks)
    sends = endpoint.parse(request.body)
    assert [s.message_id for s in sends] == request.message_ids
    first, second = sends
    assert (first.to, first.sender, first.callback_data) == ("385981112233", "BistroLipa", "contact=1")
    assert first.delivery_url == first.seen_url == webhooks.reports
    assert (first.tracking_url, first.track_clicks, first.shorten_url) == (webhooks.clicks, True, True)
    assert first.intermediate_report is True
    assert first.text == "Your table at Bistro Lipa is ready."
    assert (second.to, second.text) == ("385981112299", None)  # a file has no text to shorten or click


def test_a_malformed_request_is_refused_like_infobip(endpoint):
    with pytest.raises(RequestViolation) as refused:
        endpoint.parse(
            {"messages": [{"sender": "BistroLipa", "destinations": [], "content": {"type": "TEXT"}}]}
        )
    assert ("messages[0].destinations", "must not be empty") in refused.value.violations


@pytest.mark.parametrize("case", CONTENTS)
@pytest.mark.parametrize("outcome", [DELIVERED_TO_HANDSET, UNDELIVERABLE_NOT_DELIVERED], ids=lambda o: o.name)
def test_what_the_simulator_sends_back_is_valid_and_parses(
    endpoint, make_message, webhooks, case, outcome: Outcome
):
    content = {**CONTENTS[case], "trackingData": "booking-77", "campaignReferenceId": "spring-menu"}
    message = make_message(content=content, options={"callbackData": "contact=7", "urlOptions": {}})
    (request,) = build_payload("viber", [message], webhooks)
    assert check_request("viber", "/viber/2/messages", request.body) == []
    (send,) = endpoint.parse(request.body)

    delivery = {"results": [endpoint.delivery_report(send, outcome, SENT_AT, DONE_AT)]}
    assert check_webhook("viber", DELIVERY, delivery) == []
    (report,) = normalize_report("viber", "reports", delivery)
    assert (report.kind, report.channel, report.message_id) == ("DELIVERY", "viber", message.id)
    assert (report.status_name, report.error_name) == (outcome.name, outcome.error_name)
    assert (report.callback_data, report.raw["campaignReferenceId"]) == ("contact=7", "spring-menu")

    seen = {"results": [endpoint.seen_report(send, SENT_AT, SEEN_AT)]}
    assert check_webhook("viber", SEEN, seen) == []
    (read,) = normalize_report("viber", "reports", seen)
    assert (read.kind, read.message_id, read.seen_at, read.status_name) == ("SEEN", message.id, SEEN_AT, None)
    assert (read.to, read.sender) == (message.destination, "BistroLipa")

    click = endpoint.click_report(send, "https://bistro.example/menu", 1741944413589)
    assert check_webhook("sms", SMS_CLICKS, click) == []
    (clicked,) = normalize_report("viber", "clicks", click)
    assert (clicked.kind, clicked.message_id, clicked.url) == (
        "CLICK",
        message.id,
        "https://bistro.example/menu",
    )

    inbound = {
        "results": [endpoint.inbound_message(send, "STOP", "mo-1", DONE_AT)],
        "messageCount": 1,
        "pendingMessageCount": 0,
    }
    assert check_webhook("viber", INBOUND, inbound) == []
    (reply,) = normalize_report("viber", "inbound", inbound)
    assert (reply.kind, reply.sender, reply.to, reply.text) == (
        "INBOUND",
        message.destination,
        "BistroLipa",
        "STOP",
    )
    assert reply.paired_message_id == message.id
    assert reply.raw["message"]["trackingData"] == "booking-77"  # Viber hands the tracking data back


def test_without_tracking_data_or_campaign_nothing_is_invented(endpoint, make_message, webhooks):
    (request,) = build_payload("viber", [make_message()], webhooks)
    (send,) = endpoint.parse(request.body)
    assert "campaignReferenceId" not in endpoint.delivery_report(send, DELIVERED_TO_HANDSET, SENT_AT, DONE_AT)
    assert "campaignReferenceId" not in endpoint.seen_report(send, SENT_AT, SEEN_AT)
    assert endpoint.inbound_message(send, "hi", "mo-2", DONE_AT)["message"] == {"text": "hi", "type": "TEXT"}
