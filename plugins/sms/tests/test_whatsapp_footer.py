"""Conversational campaigns: `content.whatsAppFooter` appends a wa.me link to an SMS or LMS.

The footer is part of the text: it is what Infobip receives in `content.text`, what the parts are counted on
(by us and by the simulator, as by Infobip), what the length check refuses, and where URL shortening and
click tracking find the wa.me link. The end-to-end tests send through a whole engine and its simulator over
loopback HTTP and await the click report of the wa.me link.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from channel_engine import Report
from channel_engine.plugins import get_plugin_manager
from channel_engine.testing.conformance import check_request
from channel_engine.testing.harness import run_engine
from channel_engine_sms import count_segments, message_text, plugin, whatsapp_link
from channel_engine_sms.validation import MAX_SEGMENTS

build_payload = plugin.build_payload
validate_message = plugin.validate_message

SEND = "/sms/3/messages"
NUMBER = "14150000000"
LINK = "https://wa.me/14150000000"
QUESTIONS = "Questions? Chat with us on WhatsApp:"
FOOTER = {"number": NUMBER, "text": QUESTIONS}
# Written out by hand, not built with the code under test: what the footer adds to every text.
QUESTIONS_LINE = "\nQuestions? Chat with us on WhatsApp: https://wa.me/14150000000"
DEFAULT_LINE = "\nChat with us on WhatsApp: https://wa.me/14150000000"
NUMBER_SENTENCE = "must be the WhatsApp number in international format, digits only (e.g. 14150000000)"
INVALID_TEXT_LENGTH = "Error: Invalid text length"


def sent_text(body: dict) -> str:
    """The text of a request's one `messages[]` entry."""
    (entry,) = body["messages"]
    return str(entry["content"]["text"])


def only_body(requests: list) -> dict:
    (request,) = requests
    return dict(request.body)


def found(message) -> list[tuple[str, str, str | None]]:
    return [(p.code, p.path, p.status) for p in validate_message(message)]


@pytest.fixture
def endpoint():
    registered = []
    get_plugin_manager().hook.register_simulator_endpoints(register=registered.append)
    (sms,) = [e for e in registered if e.path == SEND]
    return sms


# --- the text Infobip gets ---------------------------------------------------------------------------


def test_the_footer_is_appended_to_the_text_exactly(make_message, webhooks):
    message = make_message(content={"text": "Spring sale ends Sunday.", "whatsAppFooter": FOOTER})
    assert validate_message(message) == []
    body = only_body(build_payload("sms", [message], webhooks))
    assert sent_text(body) == "Spring sale ends Sunday." + QUESTIONS_LINE
    # Nothing of the footer travels as a key of its own: Infobip only knows the text.
    assert body["messages"][0]["content"] == {"text": "Spring sale ends Sunday." + QUESTIONS_LINE}


def test_without_footer_text_the_default_line_is_used_and_a_plus_is_dropped(make_message, webhooks):
    message = make_message(content={"text": "Spring sale.", "whatsAppFooter": {"number": "+" + NUMBER}})
    assert validate_message(message) == []
    assert sent_text(only_body(build_payload("sms", [message], webhooks))) == "Spring sale." + DEFAULT_LINE
    assert whatsapp_link("+385981112233") == "https://wa.me/385981112233"


def test_an_lms_carries_the_footer_too(make_message, webhooks):
    content = {
        "text": "이번 주 특가 안내",
        "title": "주간 특가",
        "southKorea": {"resellerCode": 123456789},
        "whatsAppFooter": {"number": "821012345678", "text": "WhatsApp 상담:"},
    }
    message = make_message("lms", content=content)
    assert validate_message(message) == []
    body = only_body(build_payload("lms", [message], webhooks))
    assert sent_text(body) == "이번 주 특가 안내\nWhatsApp 상담: https://wa.me/821012345678"
    assert body["messages"][0]["options"]["regional"]["southKorea"]["title"] == "주간 특가"


def test_without_a_footer_the_text_is_unchanged(make_message, webhooks):
    message = make_message(content={"text": "Your table is ready."})
    assert message_text(message.content) == "Your table is ready."
    assert sent_text(only_body(build_payload("sms", [message], webhooks))) == "Your table is ready."


def test_messages_with_different_footers_do_not_share_an_entry(make_message, webhooks):
    same = {"text": "Spring sale.", "whatsAppFooter": FOOTER}
    other = {"text": "Spring sale.", "whatsAppFooter": {"number": "385981112233"}}
    messages = [
        make_message(destination="385981110001", content=same),
        make_message(destination="385981110002", content=same),
        make_message(destination="385981110003", content=other),
    ]
    body = only_body(build_payload("sms", messages, webhooks))
    assert [len(e["destinations"]) for e in body["messages"]] == [2, 1]
    assert [e["content"]["text"] for e in body["messages"]] == [
        "Spring sale." + QUESTIONS_LINE,
        "Spring sale.\nChat with us on WhatsApp: https://wa.me/385981112233",
    ]


# --- parts ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("a" * (160 - len(QUESTIONS_LINE)), 1),  # exactly one GSM-7 SMS with the footer
        ("a" * (161 - len(QUESTIONS_LINE)), 2),  # one character more: the footer tips it into two parts
        ("a" * (306 - len(QUESTIONS_LINE)), 2),  # 2 x 153 septets
        ("a" * (307 - len(QUESTIONS_LINE)), 3),
        ("€" + "a" * (158 - len(QUESTIONS_LINE)), 1),  # an extension character costs two septets
        ("€" + "a" * (159 - len(QUESTIONS_LINE)), 2),
    ],
)
def test_gsm7_parts_include_the_footer(make_message, webhooks, endpoint, text, parts):
    content = {"text": text, "whatsAppFooter": FOOTER}
    assert validate_message(make_message(content=content)) == []
    count = count_segments(message_text(content))
    assert (count.encoding, count.segments) == ("GSM7", parts)
    assert count.units == count_segments(text).units + len(QUESTIONS_LINE)  # every footer septet counts
    # The simulator counts parts on the text it received, as Infobip does for messageCount.
    (send,) = endpoint.parse(only_body(build_payload("sms", [make_message(content=content)], webhooks)))
    assert send.message_count == parts


UCS2_LINE = "\nPišite nam na WhatsApp: https://wa.me/385981112233"  # 'š' is not GSM-7


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("a" * (70 - len(UCS2_LINE)), 1),  # a GSM-7 text becomes UCS-2 through its footer: 70 units
        ("a" * (71 - len(UCS2_LINE)), 2),  # then 67 per part
        ("a" * (134 - len(UCS2_LINE)), 2),
        ("a" * (135 - len(UCS2_LINE)), 3),
        ("😀" + "a" * (68 - len(UCS2_LINE)), 1),  # an emoji is two UTF-16 units
        ("😀" + "a" * (69 - len(UCS2_LINE)), 2),
    ],
)
def test_ucs2_parts_include_the_footer(make_message, webhooks, endpoint, text, parts):
    content = {"text": text, "whatsAppFooter": {"number": "385981112233", "text": "Pišite nam na WhatsApp:"}}
    assert validate_message(make_message(content=content)) == []
    assert message_text(content) == text + UCS2_LINE
    count = count_segments(message_text(content))
    assert (count.encoding, count.segments) == ("UCS2", parts)
    (send,) = endpoint.parse(only_body(build_payload("sms", [make_message(content=content)], webhooks)))
    assert send.message_count == parts


def test_a_text_that_only_fits_without_the_footer_is_refused_at_the_text(make_message):
    longest = "a" * (MAX_SEGMENTS * 153)  # exactly 255 GSM-7 parts
    assert validate_message(make_message(content={"text": longest})) == []
    problems = validate_message(make_message(content={"text": longest, "whatsAppFooter": FOOTER}))
    assert [(p.code, p.path, p.status) for p in problems] == [
        ("invalid_text_length", "$.content.text", INVALID_TEXT_LENGTH)
    ]
    assert "footer" in problems[0].message and "256 SMS parts" in problems[0].message
    assert f"at most {MAX_SEGMENTS} parts" in problems[0].message


def test_a_ucs2_footer_can_push_a_gsm7_text_over_the_limit(make_message):
    text = "a" * (MAX_SEGMENTS * 67)  # 112 GSM-7 parts, but 255 full UCS-2 parts once its footer is UCS-2
    assert validate_message(make_message(content={"text": text, "whatsAppFooter": FOOTER})) == []
    footer = {"number": NUMBER, "text": "Pišite nam:"}
    assert found(make_message(content={"text": text, "whatsAppFooter": footer})) == [
        ("invalid_text_length", "$.content.text", INVALID_TEXT_LENGTH)
    ]


def test_an_invalid_footer_is_reported_once_and_the_text_is_checked_alone(make_message):
    longest = "a" * (MAX_SEGMENTS * 153)
    message = make_message(content={"text": longest, "whatsAppFooter": {"number": "0415 000 0000"}})
    assert found(message) == [("invalid_field", "$.content.whatsAppFooter.number", None)]


# --- validation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [NUMBER, "+" + NUMBER, "6831234", "123456789012345", "+385981112233"])
def test_numbers_in_international_format_are_accepted(make_message, number):
    assert validate_message(make_message(content={"text": "hi", "whatsAppFooter": {"number": number}})) == []


@pytest.mark.parametrize(
    "number",
    [
        "04150000000",  # a national trunk prefix, not a country code
        "0014150000000",
        "1 415 000 0000",
        "+1-415-000-0000",
        "(415) 0000000",
        "123456",  # too short
        "1234567890123456",  # longer than E.164 allows
        "wa.me/14150000000",
        "",
        "\uff11\uff14\uff11\uff15" + "\uff10" * 7,  # full-width digits are not ASCII digits
        14150000000,  # a number, not a string
    ],
)
def test_a_number_not_in_international_format_is_refused(make_message, number):
    message = make_message(content={"text": "hi", "whatsAppFooter": {"number": number}})
    (problem,) = validate_message(message)
    assert (problem.code, problem.path, problem.status) == (
        "invalid_field",
        "$.content.whatsAppFooter.number",
        None,
    )
    assert NUMBER_SENTENCE in problem.message
    assert problem.message.startswith("content.whatsAppFooter.number ")


def test_a_missing_number_is_refused(make_message):
    message = make_message(content={"text": "hi", "whatsAppFooter": {"text": QUESTIONS}})
    (problem,) = validate_message(message)
    assert (problem.code, problem.path) == ("missing_field", "$.content.whatsAppFooter.number")
    assert NUMBER_SENTENCE in problem.message


def test_footer_text_of_100_characters_is_accepted(make_message):
    footer = {"number": NUMBER, "text": "x" * 100}
    assert validate_message(make_message(content={"text": "hi", "whatsAppFooter": footer})) == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("x" * 101, "at most 100 characters (it has 101)"),
        ("Chat: https://example.com/chat", "must not contain a URL"),
        ("Chat: HTTP://example.com", "must not contain a URL"),
        ("or visit www.example.com", "must not contain a URL"),
        ("", "blank"),
        ("   ", "blank"),
        (42, "must be a string, not int"),
        (None, "must be a string, not NoneType"),
    ],
)
def test_a_bad_footer_text_is_refused(make_message, text, reason):
    footer = {"number": NUMBER, "text": text}
    (problem,) = validate_message(make_message(content={"text": "hi", "whatsAppFooter": footer}))
    assert (problem.code, problem.path, problem.status) == (
        "invalid_field",
        "$.content.whatsAppFooter.text",
        None,
    )
    assert reason in problem.message


@pytest.mark.parametrize("footer", ["14150000000", None, ["14150000000"], 14150000000])
def test_a_footer_that_is_not_an_object_is_refused(make_message, footer):
    (problem,) = validate_message(make_message(content={"text": "hi", "whatsAppFooter": footer}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.whatsAppFooter")
    assert "must be an object" in problem.message


def test_an_unknown_footer_key_is_refused(make_message):
    footer = {"number": NUMBER, "txt": "typo"}
    (problem,) = validate_message(make_message(content={"text": "hi", "whatsAppFooter": footer}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.whatsAppFooter.txt")
    assert "number, text" in problem.message


def test_the_footer_problems_come_after_the_other_content_problems(make_message):
    content = {"text": "", "campaignReferenceId": "", "whatsAppFooter": {"number": "x", "text": "y" * 101}}
    assert [p.path for p in validate_message(make_message(content=content))] == [
        "$.content.text",
        "$.content.campaignReferenceId",
        "$.content.whatsAppFooter.number",
        "$.content.whatsAppFooter.text",
    ]


# --- conformance -------------------------------------------------------------------------------------

CONFORMANCE = {
    "no url options": {},
    "tracked": {"urlOptions": {"shortenUrl": True, "trackClicks": True}},
    "shortened only": {"urlOptions": {"trackClicks": False}},
    "host tracking, no protocol, own domain": {
        "urlOptions": {
            "trackingUrl": "https://clicks.example.org/in",
            "removeProtocol": True,
            "customDomain": "go.example.org",
        }
    },
}


@pytest.mark.parametrize("case", sorted(CONFORMANCE))
def test_requests_with_a_footer_conform_to_the_spec(make_message, webhooks, case):
    messages = [
        make_message(content={"text": "Spring sale.", "whatsAppFooter": FOOTER}, options=CONFORMANCE[case]),
        make_message(
            "lms",
            content={
                "text": "봄 세일",
                "title": "주간 특가",
                "southKorea": {"resellerCode": 123456789},
                "whatsAppFooter": {"number": "821012345678"},
            },
            options=CONFORMANCE[case],
        ),
    ]
    for message in messages:
        (request,) = build_payload(message.channel, [message], webhooks)
        assert check_request("sms", SEND, request.body) == []
        assert sent_text(request.body).endswith(whatsapp_link(message.content["whatsAppFooter"]["number"]))


# --- end to end through the simulator ------------------------------------------------------------------


def footer_sms(destination: str, url_options: dict | None, text: str = "Spring sale ends Sunday.") -> dict:
    message: dict = {
        "channel": "sms",
        "destination": destination,
        "sender": "ShopSpring",
        "content": {"text": text, "whatsAppFooter": FOOTER},
        "host": {"name": "recorder"},
    }
    if url_options is not None:
        message["options"] = {"urlOptions": url_options}
    return message


def clicked(message_id: str, url: str) -> Callable[[Report], bool]:
    """Matches the click report of `url` in message `message_id`."""
    return lambda r: r.kind == "CLICK" and r.message_id == message_id and r.url == url


async def test_the_tracked_wa_me_link_is_shortened_and_its_click_reported(tmp_path):
    shop = "https://shop.example.com/spring"
    async with run_engine(tmp_path) as h:
        # 997: the simulator clicks every URL of the text it delivered.
        mid = await h.send(
            footer_sms("41793026997", {"shortenUrl": True, "trackClicks": True}, f"Spring sale: {shop}")
        )
        click = await h.recorder.wait_for(clicked(mid, LINK))
        assert (click.channel, click.to, click.message_id) == ("sms", "41793026997", mid)
        other = await h.recorder.wait_for(clicked(mid, shop))
        assert other.url == shop  # the text's own link is tracked beside the footer's

        delivered = h.simulator.delivered_text[mid]
        # Shortened as Infobip shortens every URL of the text: the footer line keeps its words.
        assert LINK not in delivered and shop not in delivered
        first, footer = delivered.split("\n")
        assert first.startswith("Spring sale: https://ibs.sh/")
        assert footer.startswith(f"{QUESTIONS} https://ibs.sh/")
        await h.simulator.wait_reported([mid])
        view = await h.view(mid)
        assert view["state"] == "DELIVERED"
        assert view["messageCount"] == count_segments(delivered).segments


async def test_without_url_options_the_wa_me_link_travels_as_is(tmp_path):
    async with run_engine(tmp_path) as h:
        mid = await h.send(footer_sms("41793026000", None))
        await h.recorder.wait_final(mid)
        send = h.simulator.accepted[mid]
        assert send.text == "Spring sale ends Sunday." + QUESTIONS_LINE
        assert mid not in h.simulator.delivered_text  # nothing to shorten: shortening was not asked for


async def test_remove_protocol_and_a_custom_domain_apply_to_the_wa_me_link(tmp_path):
    options = {"trackClicks": True, "removeProtocol": True, "customDomain": "go.shop.example"}
    async with run_engine(tmp_path) as h:
        mid = await h.send(footer_sms("41793026997", options))
        click = await h.recorder.wait_for(lambda r: r.kind == "CLICK" and r.message_id == mid)
        assert click.url == LINK  # the click names the original link, never the short one
        footer = h.simulator.delivered_text[mid].split("\n")[-1]
        assert footer.startswith(f"{QUESTIONS} go.shop.example/")
        assert "https://" not in footer and "wa.me" not in footer


async def test_a_refused_footer_names_the_field_over_the_api(tmp_path):
    async with run_engine(tmp_path) as h:
        message = footer_sms("41793026000", None)
        message["content"]["whatsAppFooter"] = {"number": "+1 415 000 0000"}
        response = await h.http.post("/v1/messages", json=message)
        assert response.status_code == 400
        (problem,) = response.json()["problems"]
        assert problem["path"] == "$.content.whatsAppFooter.number"
        assert NUMBER_SENTENCE in problem["message"]
