"""The simulator's WhatsApp endpoints read the requests we build, answer like Infobip (template and free-form
answers differ), and render reports that conform to whatsapp.json and that our parser reads back."""

from __future__ import annotations

import pytest

from channel_engine.plugins import get_plugin_manager
from channel_engine.simulator import Outcome, RequestViolation, create_simulator
from channel_engine.testing.conformance import check_response, check_webhook
from channel_engine_whatsapp import plugin

build_payload = plugin.build_payload
normalize_report = plugin.normalize_report

DELIVERED = Outcome(
    group_id=3, group_name="DELIVERED", id=5, name="DELIVERED_TO_HANDSET", description="delivered"
)
PENDING = Outcome(group_id=1, group_name="PENDING", id=26, name="PENDING_ACCEPTED", description="accepted")
SENT_AT, DONE_AT = "2025-03-14T09:20:00.120+0000", "2025-03-14T09:20:04.860+0000"
TEXT = {"type": "TEXT", "text": "Your table is ready: https://bistro.example/t/7"}
PATHS = {
    "/whatsapp/1/message/template",
    "/whatsapp/1/message/text",
    "/whatsapp/1/message/image",
    "/whatsapp/1/message/document",
    "/whatsapp/1/message/video",
    "/whatsapp/1/message/audio",
    "/whatsapp/1/message/location",
}


@pytest.fixture
def endpoints():
    registered = []
    get_plugin_manager().hook.register_simulator_endpoints(register=registered.append)
    return {e.path: e for e in registered if e.path.startswith("/whatsapp/")}


def test_the_plugin_registers_every_endpoint_it_sends_to(endpoints):
    assert set(endpoints) == PATHS
    assert {e.channel for e in endpoints.values()} == {"whatsapp"}
    create_simulator(list(endpoints.values()), api_keys={"k"})  # no two endpoints share a path


def test_the_template_endpoint_reads_our_request(endpoints, make_message, template, webhooks):
    messages = [
        make_message(
            content=template(
                placeholders=["Ana", "https://bistro.example/booking/7781"],
                header={"type": "TEXT", "placeholder": "https://bistro.example/header"},
                buttons=[{"type": "URL", "parameter": "https://bistro.example/button"}],
            ),
            options={
                "urlOptions": {"removeProtocol": True},
                "callbackData": "guest=7781",
                "bulkId": "spring",
            },
        ),
        make_message(destination="385981112299", options={"bulkId": "spring"}),
    ]
    (request,) = build_payload("whatsapp", messages, webhooks)
    first, second = endpoints[request.path].parse(request.body)
    assert [first.message_id, second.message_id] == request.message_ids
    assert (first.to, first.sender, first.bulk_id, first.callback_data) == (
        "385981112233",
        "441134960000",
        "spring",
        "guest=7781",
    )
    assert first.delivery_url == first.seen_url == webhooks.reports
    assert (first.tracking_url, first.track_clicks, first.shorten_url, first.remove_protocol) == (
        webhooks.clicks,
        True,
        True,
        True,
    )
    # Links are shortened and clicked in the body placeholders only, never in the header or buttons.
    assert first.text == "Ana\nhttps://bistro.example/booking/7781"
    assert (second.track_clicks, second.shorten_url, second.tracking_url) == (False, False, None)


def test_a_free_form_endpoint_reads_one_message(endpoints, make_message, webhooks):
    message = make_message(content=TEXT, options={"urlOptions": {"trackClicks": False}})
    (request,) = build_payload("whatsapp", [message], webhooks)
    (send,) = endpoints[request.path].parse(request.body)
    assert (send.message_id, send.text, send.shorten_url, send.track_clicks) == (
        message.id,
        TEXT["text"],
        True,
        False,
    )
    image = make_message(content={"type": "IMAGE", "mediaUrl": "https://b.example/m.jpg", "caption": "Menu"})
    (request,) = build_payload("whatsapp", [image], webhooks)
    assert endpoints[request.path].parse(request.body)[0].text == "Menu"


@pytest.mark.parametrize(
    ("path", "body", "violations"),
    [
        ("/whatsapp/1/message/template", {}, [("messages", "must not be empty")]),
        (
            "/whatsapp/1/message/template",
            {"messages": [{"to": "385981112233", "content": {"templateName": "x", "language": "en"}}]},
            [
                ("messages[0].from", "must not be blank"),
                ("messages[0].content.templateData.body.placeholders", "must not be null"),
            ],
        ),
        (
            "/whatsapp/1/message/template",
            {
                "messages": [
                    {
                        "from": "441134960000",
                        "to": "385981112233",
                        "content": {
                            "templateName": "",
                            "language": "en",
                            "templateData": {"body": {"placeholders": [""]}},
                        },
                    }
                ]
            },
            [
                ("messages[0].content.templateName", "must not be blank"),
                ("messages[0].content.templateData.body.placeholders[0]", "must not be blank"),
            ],
        ),
        (
            "/whatsapp/1/message/text",
            {"from": "441134960000", "to": "385981112233"},
            [("content", "must not be null")],
        ),
        (
            "/whatsapp/1/message/image",
            {"from": "441134960000", "to": "385981112233", "messageId": "", "content": {"caption": "x"}},
            [("messageId", "size must be between 1 and 200"), ("content.mediaUrl", "must not be null")],
        ),
        (
            "/whatsapp/1/message/location",
            {"from": "441134960000", "to": "", "content": {"latitude": 1}, "callbackData": "x" * 4001},
            [
                ("to", "must not be blank"),
                ("content.longitude", "must not be null"),
                ("callbackData", "size must be between 0 and 4000"),
            ],
        ),
    ],
)
def test_malformed_requests_are_answered_with_violations(endpoints, path, body, violations):
    with pytest.raises(RequestViolation) as caught:
        endpoints[path].parse(body)
    assert caught.value.violations == violations


def test_the_two_kinds_of_answer_follow_the_spec(endpoints, make_message, webhooks):
    messages = [make_message(), make_message(destination="385981112299")]
    (request,) = build_payload("whatsapp", messages, webhooks)
    endpoint = endpoints[request.path]
    sends = endpoint.parse(request.body)
    answer = endpoint.response(sends, [PENDING, PENDING], "bulk-1")
    assert check_response("whatsapp", request.path, 200, answer) == []
    assert [m["messageId"] for m in answer["messages"]] == request.message_ids
    assert answer["bulkId"] == "bulk-1"

    (request,) = build_payload("whatsapp", [make_message(content=TEXT)], webhooks)
    endpoint = endpoints[request.path]
    answer = endpoint.response(endpoint.parse(request.body), [PENDING], "bulk-2")
    assert check_response("whatsapp", request.path, 200, answer) == []
    assert set(answer) == {"to", "messageCount", "messageId", "status"}
    # a flat answer is not a bulk one
    assert check_response("whatsapp", "/whatsapp/1/message/template", 200, answer) != []


@pytest.mark.parametrize("content", [None, TEXT], ids=["template", "text"])
def test_what_the_simulator_sends_back_is_valid_and_parses(endpoints, make_message, webhooks, content):
    fields = {"content": content} if content else {}
    message = make_message(options={"callbackData": "guest=7781", "urlOptions": {}}, **fields)
    (request,) = build_payload("whatsapp", [message], webhooks)
    endpoint = endpoints[request.path]
    (send,) = endpoint.parse(request.body)

    delivery = {"results": [endpoint.delivery_report(send, DELIVERED, SENT_AT, DONE_AT)]}
    assert check_webhook("whatsapp", "receive-whatsapp-delivery-reports", delivery) == []
    (report,) = normalize_report("whatsapp", "reports", delivery)
    assert (report.kind, report.message_id, report.status_name, report.to) == (
        "DELIVERY",
        message.id,
        "DELIVERED_TO_HANDSET",
        "385981112233",
    )
    assert report.callback_data is None  # WhatsApp's delivery report has no callbackData

    seen = {"results": [endpoint.seen_report(send, SENT_AT, DONE_AT)]}
    assert check_webhook("whatsapp", "receive-whatsapp-seen-reports", seen) == []
    (report,) = normalize_report("whatsapp", "reports", seen)
    assert (report.kind, report.message_id, report.seen_at, report.status_name) == (
        "SEEN",
        message.id,
        DONE_AT,
        None,
    )

    click = endpoint.click_report(send, "https://bistro.example/t/7", 1741944413589)
    assert check_webhook("sms", "receive-sms-tracking-notification", click) == []
    (clicked,) = normalize_report("whatsapp", "clicks", click)
    assert (clicked.kind, clicked.message_id, clicked.url, clicked.callback_data) == (
        "CLICK",
        message.id,
        "https://bistro.example/t/7",
        "guest=7781",
    )

    inbound = {
        "results": [endpoint.inbound_message(send, "STOP", "wamid.mo-1", SENT_AT)],
        "messageCount": 1,
        "pendingMessageCount": 0,
    }
    assert check_webhook("whatsapp", "receive-inbound-whatsapp-messages", inbound) == []
    (reply,) = normalize_report("whatsapp", "inbound", inbound)
    assert (reply.kind, reply.sender, reply.to, reply.text, reply.message_id) == (
        "INBOUND",
        message.destination,
        "441134960000",
        "STOP",
        "wamid.mo-1",
    )
    assert reply.raw["pairedMessageId"] == message.id


def test_a_business_scoped_user_is_named_by_user_id(endpoints, make_message, webhooks):
    (request,) = build_payload("whatsapp", [make_message(destination="US.1349120865530274191")], webhooks)
    endpoint = endpoints[request.path]
    (send,) = endpoint.parse(request.body)
    entry = endpoint.delivery_report(send, DELIVERED, SENT_AT, DONE_AT)
    assert entry["contact"] == {"name": "Simulated User", "userId": "US.1349120865530274191"}
    assert check_webhook("whatsapp", "receive-whatsapp-delivery-reports", {"results": [entry]}) == []
