"""NewGenEndpoint: reading the new-gen envelope and rendering Infobip's answers; SMS part counting;
the magic-destination table; URL shortening."""

from __future__ import annotations

import pytest

from channel_engine.segments import binary_sms_count, sms_count
from channel_engine.simulator import (
    MAGIC_DESTINATIONS,
    NewGenEndpoint,
    RequestViolation,
    magic_for,
    magic_table,
)
from channel_engine.simulator.links import Shortener, find_urls
from channel_engine.simulator.outcomes import (
    DELIVERED_TO_HANDSET,
    PENDING_ACCEPTED,
    UNDELIVERABLE_NOT_DELIVERED,
)

SMS = NewGenEndpoint("/sms/3/messages", "sms")


def body(*messages: dict, **options: dict) -> dict:
    out: dict = {"messages": list(messages)}
    if options:
        out["options"] = options
    return out


def message(*tos: str, text: str = "Hello", **extra: object) -> dict:
    return {
        "sender": "InfoSMS",
        "destinations": [{"to": to, "messageId": f"id-{to}"} for to in tos],
        "content": {"text": text},
        **extra,
    }


def test_one_send_per_destination_with_the_message_fields():
    sends = SMS.parse(
        body(
            message(
                "41793026727",
                "41793026834",
                webhooks={
                    "delivery": {"url": "http://r/dlr", "intermediateReport": True},
                    "contentType": "application/json",
                    "callbackData": "cb",
                },
            ),
            message("385911111111", text="Second"),
            schedule={"bulkId": "BULK-1"},
        )
    )
    assert [(s.to, s.message_id, s.text) for s in sends] == [
        ("41793026727", "id-41793026727", "Hello"),
        ("41793026834", "id-41793026834", "Hello"),
        ("385911111111", "id-385911111111", "Second"),
    ]
    first = sends[0]
    assert (
        first.sender,
        first.bulk_id,
        first.delivery_url,
        first.intermediate_report,
        first.callback_data,
    ) == (
        "InfoSMS",
        "BULK-1",
        "http://r/dlr",
        True,
        "cb",
    )
    assert sends[2].delivery_url is None and sends[2].callback_data is None


def test_a_missing_message_id_is_generated_and_unique():
    sends = SMS.parse(body({"destinations": [{"to": "1"}, {"to": "2"}], "content": {"text": "x"}}))
    ids = [s.message_id for s in sends]
    assert all(ids) and len(set(ids)) == 2


def test_notify_false_means_no_delivery_report():
    sends = SMS.parse(body(message("1", webhooks={"delivery": {"url": "http://r/dlr", "notify": False}})))
    assert sends[0].delivery_url is None


def test_the_seen_url_is_read_only_on_channels_with_read_receipts():
    hooks = {"delivery": {"url": "http://r/dlr"}, "seen": {"url": "http://r/seen"}}
    viber = NewGenEndpoint("/viber/2/messages", "viber")
    assert viber.parse(body(message("1", webhooks=hooks)))[0].seen_url == "http://r/seen"
    assert SMS.parse(body(message("1", webhooks=hooks)))[0].seen_url is None


def test_tracking_defaults_apply_once_the_block_is_present():
    plain = SMS.parse(body(message("1")))[0]
    assert (plain.shorten_url, plain.track_clicks, plain.tracking_url) == (False, False, None)
    tracked = SMS.parse(body(message("1"), tracking={"trackingUrl": "http://r/clicks"}))[0]
    assert (tracked.shorten_url, tracked.track_clicks, tracked.tracking_url) == (
        True,
        True,
        "http://r/clicks",
    )
    off = SMS.parse(body(message("1"), tracking={"shortenUrl": False, "trackClicks": False}))[0]
    assert (off.shorten_url, off.track_clicks) == (False, False)


@pytest.mark.parametrize(
    ("payload", "violations"),
    [
        ({}, [("messages", "must not be empty")]),
        ({"messages": []}, [("messages", "must not be empty")]),
        (
            body({"destinations": [{}], "content": {"text": "x"}}),
            [("messages[0].destinations[0].to", "must not be blank")],
        ),
        (
            body(message("1"), {"destinations": [{"to": " "}], "content": {"text": "x"}}),
            [("messages[1].destinations[0].to", "must not be blank")],
        ),
        (body({"destinations": [{"to": "1"}]}), [("messages[0].content", "must not be null")]),
        (
            body({"destinations": [{"to": "1"}], "content": {}}),
            [("messages[0].content.text", "must not be blank")],
        ),
        (
            body({"destinations": [], "content": {"text": "x"}}),
            [("messages[0].destinations", "must not be empty")],
        ),
        (
            body(message("1", webhooks={"callbackData": "x" * 4001})),
            [("messages[0].webhooks.callbackData", "size must be between 0 and 4000")],
        ),
    ],
)
def test_malformed_requests_name_the_property(payload, violations):
    with pytest.raises(RequestViolation) as caught:
        SMS.parse(payload)
    assert caught.value.violations == violations


def test_other_channels_need_no_text():
    viber = NewGenEndpoint("/viber/2/messages", "viber")
    sends = viber.parse(
        body({"destinations": [{"to": "1"}], "content": {"type": "IMAGE", "mediaUrl": "http://i"}})
    )
    assert sends[0].text is None and sends[0].message_count == 1
    mms = NewGenEndpoint("/mms/2/messages", "mms")
    sends = mms.parse(
        body(
            {"destinations": [{"to": "1"}], "content": {"messageSegments": [{"type": "TEXT", "text": "hi"}]}}
        )
    )
    assert sends[0].text == "hi"


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters take two septets
        ("€" * 81, 2),
        ("ж" * 70, 1),
        ("ж" * 71, 2),
        ("ж" * 134, 2),
        ("ж" * 135, 3),
        ("a" * 150 + "😀", 3),  # one character outside GSM makes the text UCS-2; an emoji is two units
        ("a" * 152 + "{" + "a" * 152, 3),  # 306 septets, but the escape pair may not straddle two parts
        ("a" * 151 + "{" + "a" * 153, 2),
        ("ж" * 66 + "😀" + "ж" * 66, 3),  # 134 units, but the surrogate pair moves whole to part two
        ("ж" * 65 + "😀" + "ж" * 67, 2),
    ],
)
def test_sms_part_count(text, parts):
    assert sms_count(text) == parts


def test_binary_part_count_and_message_count_in_the_send():
    assert binary_sms_count("00" * 140) == 1
    assert binary_sms_count("00" * 141) == 2
    sends = SMS.parse(body({"destinations": [{"to": "1"}], "content": {"text": "a" * 200}}))
    assert sends[0].message_count == 2
    viber = NewGenEndpoint("/viber/2/messages", "viber")
    assert (
        viber.parse(body({"destinations": [{"to": "1"}], "content": {"text": "a" * 900, "type": "TEXT"}}))[
            0
        ].message_count
        == 1
    )


def test_response_is_the_v3_shape():
    sends = SMS.parse(body(message("41793026727")))
    out = SMS.response(sends, [PENDING_ACCEPTED], "B1")
    assert out == {
        "bulkId": "B1",
        "messages": [
            {
                "messageId": "id-41793026727",
                "status": {
                    "groupId": 1,
                    "groupName": "PENDING",
                    "id": 26,
                    "name": "PENDING_ACCEPTED",
                    "description": "Message sent to next instance",
                },
                "destination": "41793026727",
                "details": {"messageCount": 1},
            }
        ],
    }


def test_delivery_report_entry():
    send = SMS.parse(body(message("41793026727", webhooks={"callbackData": "cb"}), schedule={"bulkId": "B"}))[
        0
    ]
    entry = SMS.delivery_report(
        send, UNDELIVERABLE_NOT_DELIVERED, "2024-01-01T00:00:00.000+0000", "2024-01-01T00:00:01.000+0000"
    )
    assert entry["status"]["name"] == "UNDELIVERABLE_NOT_DELIVERED" and entry["status"]["groupId"] == 2
    assert entry["error"] == {
        "groupId": 1,
        "groupName": "HANDSET_ERRORS",
        "id": 1,
        "name": "EC_UNKNOWN_SUBSCRIBER",
        "description": "Unknown subscriber",
        "permanent": True,
    }
    assert (entry["bulkId"], entry["messageId"], entry["to"], entry["sender"], entry["callbackData"]) == (
        "B",
        "id-41793026727",
        "41793026727",
        "InfoSMS",
        "cb",
    )
    assert entry["messageCount"] == 1 and entry["doneAt"] == "2024-01-01T00:00:01.000+0000"


def test_click_and_inbound_shapes():
    send = SMS.parse(body(message("41793026727")))[0]
    click = SMS.click_report(send, "https://example.com", 1704106800000)
    assert click["notificationType"] == "CLICKED" and click["sendDateTime"] == 1704106800000
    assert (click["recipient"], click["url"], click["messageId"]) == (
        "41793026727",
        "https://example.com",
        send.message_id,
    )
    mo = SMS.inbound_message(send, "STOP now", "mo-1", "2024-01-01T00:00:00.000+0000")
    assert (mo["from"], mo["to"], mo["keyword"], mo["cleanText"], mo["smsCount"]) == (
        "41793026727",
        "InfoSMS",
        "STOP",
        "now",
        1,
    )
    viber = NewGenEndpoint("/viber/2/messages", "viber")
    vmo = viber.inbound_message(send, "STOP", "mo-2", "2024-01-01T00:00:00.000+0000")
    assert vmo["sender"] == "41793026727" and vmo["message"] == {"text": "STOP", "type": "TEXT"}


def test_magic_destinations_by_last_three_digits():
    assert magic_for("41793026991").final == UNDELIVERABLE_NOT_DELIVERED
    assert magic_for("41793026000").final == DELIVERED_TO_HANDSET
    assert magic_for("41793026994").final is None
    assert magic_for("41793026995").http_error == 429
    assert magic_for("41793026996").http_error == 500
    assert magic_for("41793026999").intermediate.name == "DELIVERED_TO_OPERATOR"
    assert magic_for("41793026990").seen and magic_for("41793026000").seen is False
    assert set(MAGIC_DESTINATIONS) == {str(n) for n in range(990, 1000)}
    rows = magic_table()
    assert rows[0]["ending"] == "any other" and [r["ending"] for r in rows[1:]] == sorted(MAGIC_DESTINATIONS)


def test_url_shortening_keeps_the_originals():
    text = "Sale! https://example.com/a?x=1, and http://example.org/b."
    assert find_urls(text) == ["https://example.com/a?x=1", "http://example.org/b"]
    short, links = Shortener().shorten(text)
    assert [link.url for link in links] == find_urls(text)
    assert "example.com" not in short and short.count("https://ibs.sh/") == 2
    assert short.endswith(".") and ", and" in short
    bare, links = Shortener().shorten(text, custom_domain="go.example.net", remove_protocol=True)
    assert all(link.short_url.startswith("go.example.net/") for link in links)
    assert "https://" not in bare and "http://" not in bare
