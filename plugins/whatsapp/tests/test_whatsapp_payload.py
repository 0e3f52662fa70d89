"""How validated whatsapp messages become Infobip requests (routing, batching, field mapping), and how
Infobip's two kinds of 200 answer are read."""

from __future__ import annotations

import pytest

from channel_engine import ChannelEngineError, ProviderRequest
from channel_engine_whatsapp import plugin
from channel_engine_whatsapp.payload import build_requests

build_payload = plugin.build_payload
parse_send_response = plugin.parse_send_response

TEXT = {"type": "TEXT", "text": "Your table is ready."}
IMAGE = {"type": "IMAGE", "mediaUrl": "https://bistro.example/menu.jpg", "caption": "Menu"}


def test_templates_share_one_request_and_keep_their_own_ids(make_message, webhooks):
    first = make_message(options={"callbackData": "guest=1"})
    second = make_message(destination="385981112299")
    (request,) = build_payload("whatsapp", [first, second], webhooks)
    assert request.path == "/whatsapp/1/message/template"
    assert request.message_ids == [first.id, second.id]
    assert "bulkId" not in request.body
    one, two = request.body["messages"]
    assert one == {
        "from": "441134960000",
        "to": "385981112233",
        "messageId": first.id,
        "content": {
            "templateName": "table_ready",
            "templateData": {"body": {"placeholders": ["Ana", "18:30"]}},
            "language": "en_GB",
        },
        "callbackData": "guest=1",
        "notifyUrl": webhooks.reports,
    }
    assert (two["to"], two["messageId"], "callbackData" in two) == ("385981112299", second.id, False)


def test_header_and_buttons_go_into_template_data_in_order(make_message, webhooks, template):
    header = {"type": "DOCUMENT", "mediaUrl": "https://bistro.example/menu.pdf", "filename": "menu.pdf"}
    buttons = [
        {"type": "URL", "parameter": "booking/1"},
        {"type": "QUICK_REPLY", "parameter": "cancel"},
        {"type": "COPY_CODE", "parameter": "TABLE15"},
    ]
    (request,) = build_payload(
        "whatsapp", [make_message(content=template(header=header, buttons=buttons))], webhooks
    )
    data = request.body["messages"][0]["content"]["templateData"]
    assert data == {"body": {"placeholders": ["Ana", "18:30"]}, "header": header, "buttons": buttons}


def test_an_empty_button_list_is_left_out(make_message, webhooks, template):
    (request,) = build_payload("whatsapp", [make_message(content=template(buttons=[]))], webhooks)
    assert "buttons" not in request.body["messages"][0]["content"]["templateData"]


def test_bulk_ids_split_template_requests(make_message, webhooks):
    messages = [
        make_message(options={"bulkId": "spring"}),
        make_message(),
        make_message(options={"bulkId": "spring"}),
        make_message(options={"bulkId": "autumn"}),
    ]
    requests = build_payload("whatsapp", messages, webhooks)
    assert [(r.body.get("bulkId"), r.message_ids) for r in requests] == [
        ("spring", [messages[0].id, messages[2].id]),
        (None, [messages[1].id]),
        ("autumn", [messages[3].id]),
    ]


def test_template_requests_hold_at_most_max_batch_messages(make_message, webhooks):
    messages = [make_message() for _ in range(5)]
    requests = build_requests("whatsapp", messages, webhooks, max_batch=2)
    assert [len(r.body["messages"]) for r in requests] == [2, 2, 1]
    assert [mid for r in requests for mid in r.message_ids] == [m.id for m in messages]


def test_the_channel_batches_a_hundred_templates(make_message, webhooks):
    requests = build_payload("whatsapp", [make_message() for _ in range(101)], webhooks)
    assert [len(r.message_ids) for r in requests] == [100, 1]


@pytest.mark.parametrize(
    ("content", "path", "infobip_content"),
    [
        (TEXT, "/whatsapp/1/message/text", {"text": "Your table is ready."}),
        (
            IMAGE,
            "/whatsapp/1/message/image",
            {"mediaUrl": "https://bistro.example/menu.jpg", "caption": "Menu"},
        ),
        (
            {"type": "DOCUMENT", "mediaUrl": "https://b.example/m.pdf", "filename": "m.pdf"},
            "/whatsapp/1/message/document",
            {"mediaUrl": "https://b.example/m.pdf", "filename": "m.pdf"},
        ),
        ({"type": "VIDEO", "mediaUrl": "https://b.example/t.mp4"}, "/whatsapp/1/message/video", None),
        (
            {"type": "AUDIO", "mediaUrl": "https://b.example/a.ogg", "voice": True},
            "/whatsapp/1/message/audio",
            None,
        ),
        ({"type": "LOCATION", "latitude": 45.81, "longitude": 15.97}, "/whatsapp/1/message/location", None),
    ],
)
def test_each_free_form_message_goes_alone_to_its_endpoint(
    make_message, webhooks, content, path, infobip_content
):
    message = make_message(content=content)
    (request,) = build_payload("whatsapp", [message], webhooks)
    assert (request.path, request.message_ids) == (path, [message.id])
    expected = infobip_content or {k: v for k, v in content.items() if k != "type"}
    assert request.body == {
        "from": "441134960000",
        "to": "385981112233",
        "messageId": message.id,
        "content": expected,
        "notifyUrl": webhooks.reports,
    }


def test_a_mixed_batch_is_routed_and_split(make_message, webhooks):
    messages = [make_message(), make_message(content=TEXT), make_message(), make_message(content=IMAGE)]
    requests = build_payload("whatsapp", messages, webhooks)
    assert [(r.path, r.message_ids) for r in requests] == [
        ("/whatsapp/1/message/template", [messages[0].id, messages[2].id]),
        ("/whatsapp/1/message/text", [messages[1].id]),
        ("/whatsapp/1/message/image", [messages[3].id]),
    ]


def test_a_reply_carries_its_context(make_message, webhooks):
    message = make_message(content={**TEXT, "replyToMessageId": "wamid.HBgLMzg1"})
    (request,) = build_payload("whatsapp", [message], webhooks)
    assert request.body["context"] == {"replyToMessageId": "wamid.HBgLMzg1"}
    assert "replyToMessageId" not in request.body["content"]


def test_tracked_links_report_clicks_to_the_engine(make_message, webhooks):
    (request,) = build_payload("whatsapp", [make_message(options={"urlOptions": {}})], webhooks)
    assert request.body["messages"][0]["urlOptions"] == {
        "shortenUrl": True,
        "trackClicks": True,
        "trackingUrl": webhooks.clicks,
        "removeProtocol": False,
    }


def test_the_hosts_tracking_url_and_domain_are_kept(make_message, webhooks):
    options = {
        "urlOptions": {
            "trackingUrl": "https://clicks.bistro.example/in",
            "removeProtocol": True,
            "customDomain": "go.bistro.example",
        }
    }
    (request,) = build_payload("whatsapp", [make_message(content=TEXT, options=options)], webhooks)
    assert request.body["urlOptions"] == {
        "shortenUrl": True,
        "trackClicks": True,
        "trackingUrl": "https://clicks.bistro.example/in",
        "removeProtocol": True,
        "customDomain": "go.bistro.example",
    }


def test_shortening_without_tracking_names_no_tracking_url(make_message, webhooks):
    options = {"urlOptions": {"trackClicks": False}}
    (request,) = build_payload("whatsapp", [make_message(content=IMAGE, options=options)], webhooks)
    assert request.body["urlOptions"] == {"shortenUrl": True, "trackClicks": False, "removeProtocol": False}


def test_options_the_endpoint_lacks_are_not_sent(make_message, webhooks):
    options = {"urlOptions": {}, "validityPeriod": {"amount": 2, "timeUnit": "HOURS"}, "bulkId": "spring"}
    audio = make_message(content={"type": "AUDIO", "mediaUrl": "https://b.example/a.ogg"}, options=options)
    (request,) = build_payload("whatsapp", [audio], webhooks)
    assert set(request.body) == {"from", "to", "messageId", "content", "notifyUrl"}


def test_a_message_without_an_id_fails_the_batch(make_message, webhooks):
    message = make_message()
    message.id = None
    with pytest.raises(ChannelEngineError, match="without an id"):
        build_payload("whatsapp", [message], webhooks)


PENDING = {"groupId": 1, "groupName": "PENDING", "id": 7, "name": "PENDING_ENROUTE", "description": "sent"}
REJECTED = {"groupId": 5, "groupName": "REJECTED", "id": 52, "name": "REJECTED_DESTINATION"}


def test_the_template_answer_lists_every_message():
    request = ProviderRequest(path="/whatsapp/1/message/template", body={}, message_ids=["a", "b"])
    body = {
        "messages": [
            {"to": "385981112233", "messageCount": 1, "messageId": "a", "status": PENDING},
            {"to": "385981112299", "messageCount": 1, "status": REJECTED},
        ],
        "bulkId": "2034072219640523073",
    }
    first, second = parse_send_response("whatsapp", request, body)
    assert (first.message_id, first.accepted, first.status_name, first.message_count) == (
        "a",
        True,
        "PENDING_ENROUTE",
        1,
    )
    assert (second.message_id, second.accepted, second.status_group) == ("b", False, "REJECTED")


def test_a_free_form_answer_is_one_flat_message():
    request = ProviderRequest(path="/whatsapp/1/message/text", body={}, message_ids=["m-1"])
    body = {"to": "385981112233", "messageCount": 1, "messageId": "m-1", "status": PENDING}
    (outcome,) = parse_send_response("whatsapp", request, body)
    assert (outcome.message_id, outcome.accepted, outcome.status_id) == ("m-1", True, 7)
    (unnamed,) = parse_send_response("whatsapp", request, {"to": "385981112233", "status": PENDING})
    assert unnamed.message_id == "m-1"


def test_parse_send_response_declines_other_channels():
    request = ProviderRequest(path="/sms/3/messages", body={}, message_ids=["a"])
    assert parse_send_response("sms", request, {"messages": []}) is None
