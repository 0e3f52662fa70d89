"""The simulator serves `/rcs/2/messages` with the core's new-gen endpoint taught RCS's ways, and what it
renders from our requests is valid Infobip RCS webhooks that our parser reads back."""

from __future__ import annotations

import pytest

from channel_engine import click_report
from channel_engine.plugins import get_plugin_manager
from channel_engine.simulator import NewGenEndpoint, Outcome, RequestViolation
from channel_engine.simulator.links import find_urls
from channel_engine.simulator.outcomes import (
    DELIVERED_TO_HANDSET,
    REJECTED_DESTINATION,
    UNDELIVERABLE_NOT_DELIVERED,
)
from channel_engine.testing.conformance import check_request, check_webhook
from channel_engine_rcs import plugin

build_payload = plugin.build_payload
normalize_report = plugin.normalize_report

SENT_AT, DONE_AT = "2025-10-02T16:04:09.100+0000", "2025-10-02T16:04:11.512+0000"
MENU = "https://bistro-lipa.example/menu"
CARD = {
    "title": "Autumn menu",
    "description": f"All of it at {MENU}/autumn",
    "mediaUrl": "https://b.example/a.jpg",
}
OPEN_MENU = {"type": "OPEN_URL", "text": "Menu", "url": MENU}


@pytest.fixture
def endpoint():
    registered = []
    get_plugin_manager().hook.register_simulator_endpoints(register=registered.append)
    (found,) = [e for e in registered if e.path == "/rcs/2/messages"]
    return found


def sends_for(endpoint, make_message, webhooks, *fields):
    messages = [make_message(**f) for f in fields]
    (request,) = build_payload("rcs", messages, webhooks)
    assert check_request("rcs", "/rcs/2/messages", request.body) == []
    sends = endpoint.parse(request.body)
    assert [s.message_id for s in sends] == request.message_ids
    return sends


def test_the_plugin_registers_the_rcs_endpoint(endpoint):
    assert isinstance(endpoint, NewGenEndpoint)
    assert endpoint.channel == "rcs"


def test_the_simulator_reads_our_requests(endpoint, make_message, webhooks):
    text, card, carousel = sends_for(
        endpoint,
        make_message,
        webhooks,
        {
            "options": {"callbackData": "contact=1", "urlOptions": {}},
            "content": {"text": "hi", "suggestions": [OPEN_MENU]},
        },
        {"options": {"urlOptions": {}}, "content": {"type": "CARD", "card": CARD}},
        {
            "options": {"urlOptions": {}},
            "content": {"type": "CAROUSEL", "cards": [CARD, {**CARD, "suggestions": [OPEN_MENU]}]},
        },
    )
    assert (text.to, text.sender, text.callback_data) == ("385981112233", "BistroLipa", "contact=1")
    assert text.delivery_url == text.seen_url == webhooks.reports
    assert text.tracking_url == webhooks.clicks
    # Tracked links of every content type can be clicked: the text, card descriptions, OPEN_URL suggestions.
    assert find_urls(text.text) == [MENU]
    assert find_urls(card.text) == [f"{MENU}/autumn"]
    assert find_urls(carousel.text) == [f"{MENU}/autumn", f"{MENU}/autumn", MENU]
    assert (text.interaction_type, card.interaction_type) == ("RICH_MESSAGE", "RICH_MEDIA_MESSAGE")


@pytest.mark.parametrize(
    ("content", "interaction"),
    [
        ({"text": "a" * 160}, "BASIC_MESSAGE"),
        ({"text": "a" * 161}, "RICH_MESSAGE"),
        ({"text": "hi", "suggestions": [{"type": "REPLY", "text": "ok"}]}, "RICH_MESSAGE"),
        ({"type": "FILE", "fileUrl": "https://b.example/m.pdf"}, "RICH_MEDIA_MESSAGE"),
    ],
)
def test_the_interaction_type_follows_the_content(endpoint, make_message, webhooks, content, interaction):
    (send,) = sends_for(endpoint, make_message, webhooks, {"content": content})
    delivery = {"results": [endpoint.delivery_report(send, DELIVERED_TO_HANDSET, SENT_AT, DONE_AT)]}
    assert delivery["results"][0]["interactionType"] == interaction
    assert delivery["results"][0]["price"]["trafficType"] == interaction.removesuffix("_MESSAGE")


@pytest.mark.parametrize("outcome", [DELIVERED_TO_HANDSET, UNDELIVERABLE_NOT_DELIVERED, REJECTED_DESTINATION])
def test_delivery_reports_are_valid_and_parse_back(endpoint, make_message, webhooks, outcome: Outcome):
    (send,) = sends_for(endpoint, make_message, webhooks, {"options": {"callbackData": "contact=7"}})
    delivery = {"results": [endpoint.delivery_report(send, outcome, SENT_AT, DONE_AT)]}
    assert check_webhook("rcs", "receive-outbound-rcs-message-delivery-reports", delivery) == []
    (report,) = normalize_report("rcs", "reports", delivery)
    assert (report.kind, report.message_id, report.to, report.callback_data) == (
        "DELIVERY",
        send.message_id,
        "385981112233",
        "contact=7",
    )
    assert (report.status_group, report.status_name, report.error_name) == (
        outcome.group_name,
        outcome.name,
        outcome.error_name,
    )
    assert report.is_final
    # A refused message is not charged, and an uncharged one has no traffic type.
    assert ("trafficType" in delivery["results"][0]["price"]) is (outcome.group_name != "REJECTED")


def test_a_message_with_sms_failover_is_reported_for_the_rcs_channel(endpoint, make_message, webhooks):
    (send,) = sends_for(
        endpoint, make_message, webhooks, {"content": {"text": "hi", "smsFailover": {"text": "hi"}}}
    )
    delivery = {"results": [endpoint.delivery_report(send, DELIVERED_TO_HANDSET, SENT_AT, DONE_AT)]}
    assert check_webhook("rcs", "receive-outbound-rcs-message-delivery-reports", delivery) == []
    assert delivery["results"][0]["channel"] == "RCS"


def test_seen_reports_clicks_and_replies_are_valid_and_parse_back(endpoint, make_message, webhooks):
    card = {"type": "CARD", "card": {**CARD, "suggestions": [OPEN_MENU]}}
    (send,) = sends_for(endpoint, make_message, webhooks, {"content": card, "options": {"urlOptions": {}}})

    seen = {"results": [endpoint.seen_report(send, SENT_AT, DONE_AT)]}
    assert check_webhook("rcs", "receive-rcs-seen-reports", seen) == []
    (report,) = normalize_report("rcs", "reports", seen)
    assert (report.kind, report.message_id, report.to, report.seen_at) == (
        "SEEN",
        send.message_id,
        send.to,
        DONE_AT,
    )
    assert report.status_name is None

    click = endpoint.click_report(send, MENU, 1759421051000)
    assert check_webhook("sms", "receive-sms-tracking-notification", click) == []  # rcs.json defines none
    (clicked,) = normalize_report("rcs", "clicks", click)
    assert clicked == click_report("rcs", click)
    assert (clicked.message_id, clicked.url) == (send.message_id, MENU)

    inbound = {
        "results": [endpoint.inbound_message(send, "STOP", "mo-1", DONE_AT)],
        "messageCount": 1,
        "pendingMessageCount": 0,
    }
    assert check_webhook("rcs", "receive-inbound-rcs-messages", inbound) == []
    (reply,) = normalize_report("rcs", "inbound", inbound)
    assert (reply.kind, reply.sender, reply.to, reply.text) == ("INBOUND", send.to, "BistroLipa", "STOP")
    assert reply.raw["pairedMessageId"] == send.message_id


# --- what Infobip refuses, the simulator refuses -------------------------------------------------------


def body(*contents, options=None):
    messages = [
        {"sender": "BistroLipa", "destinations": [{"to": f"38598111223{i}"}], "content": content}
        for i, content in enumerate(contents)
    ]
    out = {"messages": messages}
    if options is not None:
        out["options"] = options
    return out


TEXT = {"text": "hi", "type": "TEXT"}


@pytest.mark.parametrize(
    ("request_body", "violation"),
    [
        (body({"text": "hi", "type": "VIDEO"}), ("messages[0].content.type", "must be one of")),
        (body({"text": " ", "type": "TEXT"}), ("messages[0].content.text", "must not be blank")),
        (
            body({"text": "a" * 3073, "type": "TEXT"}),
            ("messages[0].content.text", "size must be between 0 and 3072"),
        ),
        (body({**TEXT, "suggestions": [{}] * 12}), ("messages[0].content.suggestions", "between 0 and 11")),
        (body({"type": "FILE", "file": {}}), ("messages[0].content.file.url", "must not be blank")),
        (
            body({"type": "CARD", "alignment": "LEFT", "content": {"title": "t"}}),
            ("messages[0].content.orientation", "must not be null"),
        ),
        (
            body(
                {
                    "type": "CARD",
                    "orientation": "VERTICAL",
                    "alignment": "LEFT",
                    "content": {"description": "d"},
                }
            ),
            ("messages[0].content.content", "must contain media or title"),
        ),
        (
            body({"type": "CAROUSEL", "cardWidth": "SMALL", "contents": [{"title": "t"}]}),
            ("messages[0].content.contents", "size must be between 2 and 10"),
        ),
        (
            body({"type": "CAROUSEL", "contents": [{"title": "t"}] * 2}),
            ("messages[0].content.cardWidth", "must not be null"),
        ),
        (
            body(
                {
                    "type": "CAROUSEL",
                    "cardWidth": "SMALL",
                    "contents": [{"title": "t", "suggestions": [{}] * 5}] * 2,
                }
            ),
            ("messages[0].content.contents[1].suggestions", "between 0 and 4"),
        ),
        (body(TEXT, TEXT), ("messages", "same sender and destinations")),
        (body(TEXT, TEXT, options={"messageOrdering": {"respectOrder": True}}), ("messages", "same sender")),
        (body(*[TEXT] * 11, options={"messageOrdering": {}}), ("messages", "between 2 and 10")),
    ],
)
def test_the_simulator_refuses_what_infobip_refuses(endpoint, request_body, violation):
    with pytest.raises(RequestViolation) as caught:
        endpoint.parse(request_body)
    path, says = violation
    assert any(p == path and says in v for p, v in caught.value.violations), caught.value.violations


def test_unordered_messages_may_go_anywhere_and_ordered_ones_to_one_destination(endpoint):
    assert len(endpoint.parse(body(TEXT, TEXT, options={"messageOrdering": {"respectOrder": False}}))) == 2
    same = body(TEXT, TEXT)
    same["messages"][1]["destinations"] = same["messages"][0]["destinations"]
    assert len(endpoint.parse(same)) == 2
