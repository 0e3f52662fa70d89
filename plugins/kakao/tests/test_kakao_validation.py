"""Every validation rule of kakao-alim and kakao-chingu: code, JSON path and the SFMC messageStatus text."""

from __future__ import annotations

import msgspec
import pytest

from channel_engine import MessageOptions, UrlOptions
from channel_engine_kakao import plugin

validate_message = plugin.validate_message

MISSING_PHONE = "Error: Missing phone number in request"
INVALID_IMAGE_URL_LENGTH = "Error: Invalid image url length"
INVALID_FROM = "Error: Invalid from field"
INVALID_BUTTONS_LENGTH = "Error: Invalid buttons field length"
INVALID_BUTTON_TEXT_LENGTH = "Error: Invalid button text length"
INVALID_SCHEME_LENGTH = "Error: Invalid androidScheme and iosScheme length"
INVALID_BUTTON_URL_LENGTH = "Error: Invalid button url length"
INVALID_TEXT_LENGTH = "Error: Invalid text length"
INVALID_TEMPLATE_NAME = "Error: Invalid template name"
MISSING_SHORTEN_URL = "Error: Missing shortenUrl flag"
BOTH = ["kakao-alim", "kakao-chingu"]
B0 = "$.content.buttons[0]"
F = "$.content.smsFailover"


def errors(message):
    return [p for p in validate_message(message) if p.severity == "error"]


def one(message):
    problems = errors(message)
    assert len(problems) == 1, problems
    return problems[0]


def found(message):
    return [(p.code, p.path, p.status) for p in errors(message)]


def with_content(make_message, channel, **content):
    base = make_message(channel).content
    return make_message(channel, content={**base, **content})


def url_button(name="Menu", **fields):
    return {"type": "URL", "name": name, "urlMobile": "https://m.bistro-lipa.example/menu", **fields}


def app_button(**fields):
    return {"type": "APP_LINK", "name": "Open app", **fields}


def test_full_messages_of_both_channels_have_no_problems(make_message):
    alim = make_message(
        content={
            "templateCode": "TABLE_READY_01",
            "text": "[비스트로 리파] 예약하신 테이블이 준비되었습니다.",
            "title": "테이블 준비 완료",
            "buttons": [
                {"type": "APP_LINK", "name": "앱 열기", "schemeAndroid": "lipa://t", "schemeIos": "lipa://t",
                 "urlMobile": "https://m.bistro-lipa.example", "urlPc": "https://bistro-lipa.example"},
                {"type": "DELIVERY_TRACKING", "name": "배송 조회"},
                url_button(target="out", urlPc="https://bistro-lipa.example/menu"),
                {"type": "CHATBOT_SWITCH", "name": "상담", "chatExtra": "table=4", "chatEvent": "handover"},
                {"type": "BOT_KEYWORD", "name": "메뉴"},
            ],
            "groupKey": "lipa-group",
            "campaignReferenceId": "table-ready",
            "smsFailover": {"text": "테이블이 준비되었습니다.", "sender": "BistroLipa", "title": "예약 안내",
                            "resellerCode": "123456789", "validityPeriod": {"amount": 30}},
        },
        options={"validityPeriod": {"amount": 48, "timeUnit": "HOURS"}, "callbackData": "guest=17",
                 "bulkId": "dinner-1"},
    )  # fmt: skip
    assert validate_message(alim) == []
    others = [{"type": t, "name": "x"} for t in ("MESSAGE_DELIVERY", "ADD_CHANNEL")]
    assert validate_message(with_content(make_message, "kakao-alim", buttons=others)) == []
    chingu = make_message(
        "kakao-chingu",
        content={
            "text": "이번 주 브런치 메뉴 https://bistro-lipa.example/brunch",
            "image": {
                "url": "https://cdn.bistro-lipa.example/brunch.jpg",
                "link": "https://bistro-lipa.example",
            },
            "buttons": [url_button(target="OUT"), app_button(schemeAndroid="lipa://b", schemeIos="lipa://b")],
            "targeting": "ALL_CONSENT",
            "campaignReferenceId": "brunch",
            "smsFailover": {"text": "브런치 메뉴가 바뀌었습니다."},
        },
        options={"urlOptions": {"customDomain": "go.bistro-lipa.example"}, "callbackData": "guest=17"},
    )
    assert validate_message(chingu) == []


# --- destination and sender -----------------------------------------------------------------------------


@pytest.mark.parametrize("channel", BOTH)
@pytest.mark.parametrize("destination", [None, "", "  "])
def test_missing_destination(make_message, channel, destination):
    problem = one(make_message(channel, destination=destination))
    assert (problem.code, problem.path, problem.status) == (
        "missing_destination",
        "$.destination",
        MISSING_PHONE,
    )


@pytest.mark.parametrize("destination", ["821012345678", "+821012345678", "66855538125", "385981112233"])
def test_korean_and_other_international_numbers_are_accepted(make_message, destination):
    """The spec refuses no country (its own examples send to a Thai number)."""
    assert validate_message(make_message(destination=destination)) == []


@pytest.mark.parametrize("destination", ["01012345678", "82 10 1234 5678", "kakao"])
def test_a_number_not_in_international_format(make_message, destination):
    problem = one(make_message("kakao-chingu", destination=destination))
    assert (problem.code, problem.path, problem.status) == ("invalid_destination", "$.destination", None)


@pytest.mark.parametrize("channel", BOTH)
@pytest.mark.parametrize(
    ("sender", "says"),
    [(None, "missing"), ("", "blank"), ("   ", "blank"), ("LIPA KEY", "one word"), ("key\n2", "one word")],
)
def test_a_kakao_message_needs_a_sender_key(make_message, channel, sender, says):
    problem = one(make_message(channel, sender=sender))
    assert (problem.code, problem.path, problem.status) == ("invalid_sender", "$.sender", INVALID_FROM)
    assert says in problem.message


# --- text, template code, title -------------------------------------------------------------------------


@pytest.mark.parametrize(("channel", "limit"), [("kakao-alim", 1000), ("kakao-chingu", 1300)])
def test_text_length_limits_from_the_spec(make_message, channel, limit):
    assert validate_message(with_content(make_message, channel, text="가" * limit)) == []
    problem = one(with_content(make_message, channel, text="가" * (limit + 1)))
    assert (problem.code, problem.path, problem.status) == (
        "invalid_text_length",
        "$.content.text",
        INVALID_TEXT_LENGTH,
    )
    assert f"1 to {limit} characters (it has {limit + 1})" in problem.message


@pytest.mark.parametrize("channel", BOTH)
@pytest.mark.parametrize("text", [None, "", "   "])
def test_a_missing_or_blank_text(make_message, channel, text):
    content = {k: v for k, v in make_message(channel).content.items() if k != "text"}
    if text is not None:
        content["text"] = text
    problem = one(make_message(channel, content=content))
    assert (problem.path, problem.status) == ("$.content.text", INVALID_TEXT_LENGTH)


@pytest.mark.parametrize("code", [None, "", "T" * 31])
def test_template_code(make_message, code):
    content = {"text": "hi"} if code is None else {"text": "hi", "templateCode": code}
    problem = one(make_message(content=content))
    assert (problem.code, problem.path, problem.status) == (
        "invalid_template_name",
        "$.content.templateCode",
        INVALID_TEMPLATE_NAME,
    )
    assert validate_message(make_message(content={"text": "hi", "templateCode": "T" * 30})) == []


def test_alim_title_has_at_most_50_characters(make_message):
    assert validate_message(with_content(make_message, "kakao-alim", title="제" * 50)) == []
    problem = one(with_content(make_message, "kakao-alim", title="제" * 51))
    assert (problem.code, problem.path, problem.status) == ("invalid_title_length", "$.content.title", None)


# --- image ----------------------------------------------------------------------------------------------


def test_image_url_and_link_have_at_most_250_characters(make_message):
    url = "https://cdn.bistro-lipa.example/" + "a" * (250 - 32)
    assert len(url) == 250
    assert validate_message(with_content(make_message, "kakao-chingu", image={"url": url, "link": url})) == []
    long = url + "b"
    problems = found(with_content(make_message, "kakao-chingu", image={"url": long, "link": long}))
    assert problems == [
        ("invalid_image_url_length", "$.content.image.url", INVALID_IMAGE_URL_LENGTH),
        ("invalid_image_url_length", "$.content.image.link", INVALID_IMAGE_URL_LENGTH),
    ]


@pytest.mark.parametrize(
    ("image", "path", "code"),
    [
        ({"link": "https://bistro-lipa.example"}, "$.content.image.url", "invalid_image_url_length"),
        ({"url": ""}, "$.content.image.url", "invalid_image_url_length"),
        ({"url": "ftp://cdn.example/a.jpg"}, "$.content.image.url", "invalid_field"),
        ({"url": "https://cdn.example/a.jpg", "alt": "x"}, "$.content.image.alt", "invalid_field"),
        ("https://cdn.example/a.jpg", "$.content.image", "invalid_field"),
    ],
)
def test_bad_images(make_message, image, path, code):
    problem = one(with_content(make_message, "kakao-chingu", image=image))
    assert (problem.code, problem.path) == (code, path)


def test_an_alimtalk_image_belongs_to_the_registered_template(make_message):
    problem = one(with_content(make_message, "kakao-alim", image={"url": "https://cdn.example/a.jpg"}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.image")
    assert "registered at Kakao" in problem.message


# --- buttons --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", BOTH)
def test_at_most_five_buttons(make_message, channel):
    assert validate_message(with_content(make_message, channel, buttons=[url_button()] * 5)) == []
    problem = one(with_content(make_message, channel, buttons=[url_button()] * 6))
    assert (problem.code, problem.path, problem.status) == (
        "invalid_buttons_length",
        "$.content.buttons",
        INVALID_BUTTONS_LENGTH,
    )
    assert "6 buttons" in problem.message


@pytest.mark.parametrize(("channel", "limit"), [("kakao-alim", 28), ("kakao-chingu", 14)])
def test_button_name_length(make_message, channel, limit):
    assert validate_message(with_content(make_message, channel, buttons=[url_button("가" * limit)])) == []
    for name in ("가" * (limit + 1), "", " "):
        problem = one(with_content(make_message, channel, buttons=[url_button(), url_button(name)]))
        assert (problem.code, problem.path, problem.status) == (
            "invalid_button_text_length",
            "$.content.buttons[1].name",
            INVALID_BUTTON_TEXT_LENGTH,
        )


def test_a_button_without_a_name(make_message):
    problem = one(with_content(make_message, "kakao-alim", buttons=[{"type": "BOT_KEYWORD"}]))
    assert (problem.path, problem.status) == ("$.content.buttons[0].name", INVALID_BUTTON_TEXT_LENGTH)


@pytest.mark.parametrize("channel", BOTH)
def test_app_scheme_lengths(make_message, channel):
    good = app_button(schemeAndroid="lipa://" + "a" * 493, schemeIos="lipa://t")
    assert validate_message(with_content(make_message, channel, buttons=[good])) == []
    long = app_button(schemeAndroid="lipa://" + "a" * 494, schemeIos="")
    assert found(with_content(make_message, channel, buttons=[long])) == [
        ("invalid_app_scheme_length", "$.content.buttons[0].schemeAndroid", INVALID_SCHEME_LENGTH),
        ("invalid_app_scheme_length", "$.content.buttons[0].schemeIos", INVALID_SCHEME_LENGTH),
    ]


@pytest.mark.parametrize("channel", BOTH)
@pytest.mark.parametrize(
    "fields",
    [{}, {"schemeAndroid": "lipa://t"}, {"urlMobile": "https://m.example"}, {"urlPc": "https://x.example"}],
)
def test_an_app_link_needs_two_of_its_targets(make_message, channel, fields):
    problem = one(with_content(make_message, channel, buttons=[app_button(**fields)]))
    assert (problem.code, problem.path, problem.status) == (
        "invalid_app_scheme_length",
        "$.content.buttons[0]",
        INVALID_SCHEME_LENGTH,
    )
    assert "at least two" in problem.message


def test_an_app_link_with_a_scheme_and_a_mobile_url_is_enough(make_message):
    button = app_button(schemeIos="lipa://t", urlMobile="https://m.bistro-lipa.example")
    assert validate_message(with_content(make_message, "kakao-chingu", buttons=[button])) == []


@pytest.mark.parametrize("channel", BOTH)
def test_button_urls(make_message, channel):
    long = "https://m.example/" + "a" * 483
    assert len(long) == 501
    buttons = [url_button(urlMobile=long[:-1]), url_button(urlPc=long), {"type": "URL", "name": "x"}]
    assert found(with_content(make_message, channel, buttons=buttons)) == [
        ("invalid_button_url_length", "$.content.buttons[1].urlPc", INVALID_BUTTON_URL_LENGTH),
        ("invalid_button_url_length", "$.content.buttons[2].urlMobile", INVALID_BUTTON_URL_LENGTH),
    ]
    problem = one(with_content(make_message, channel, buttons=[url_button(urlMobile="m.example/x")]))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.buttons[0].urlMobile")


@pytest.mark.parametrize(
    ("channel", "button", "path", "says"),
    [
        ("kakao-alim", {"name": "x"}, B0 + ".type", "missing"),
        ("kakao-alim", {"type": "WEB_LINK", "name": "x"}, B0 + ".type", "not one of URL, APP"),
        ("kakao-chingu", {"type": "BOT_KEYWORD", "name": "x"}, B0 + ".type", "AlimTalk button"),
        ("kakao-chingu", {"type": "BUSINESS_FORM", "name": "x"}, B0 + ".type", "URL, APP_LINK"),
        ("kakao-alim", {"type": "BOT_KEYWORD", "name": "x", "urlMobile": "https://m.example"},
         B0 + ".urlMobile", "BOT_KEYWORD button has no field"),
        ("kakao-alim", url_button(target="_blank"), B0 + ".target", "1 to 3 characters"),
        ("kakao-chingu", url_button(target="out"), B0 + ".target", "only 'OUT'"),
        ("kakao-alim", {"type": "CHATBOT_SWITCH", "name": "x", "chatExtra": "e" * 51},
         B0 + ".chatExtra", "1 to 50"),
        ("kakao-alim", "Menu", B0, "must be an object"),
    ],
)  # fmt: skip
def test_bad_buttons(make_message, channel, button, path, says):
    problem = one(with_content(make_message, channel, buttons=[button]))
    assert (problem.code, problem.path) == ("invalid_field", path)
    assert says in problem.message


def test_buttons_must_be_a_list(make_message):
    problem = one(with_content(make_message, "kakao-chingu", buttons=url_button()))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.buttons")


# --- other content fields -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "key", "says"),
    [
        ("kakao-alim", "targeting", "its fields are templateCode"),
        ("kakao-chingu", "templateCode", "its fields are text"),
        ("kakao-chingu", "groupKey", "no field 'groupKey'"),
        ("kakao-chingu", "type", "chosen by the engine"),
        ("kakao-alim", "Text", "no field 'Text'"),
    ],
)
def test_unknown_content_keys_are_refused(make_message, channel, key, says):
    problem = one(with_content(make_message, channel, **{key: "TARGETED_FRIENDS"}))
    assert (problem.code, problem.path) == ("invalid_field", f"$.content.{key}")
    assert says in problem.message


def test_targeting_campaign_reference_and_group_key(make_message):
    assert found(
        with_content(make_message, "kakao-chingu", targeting="EVERYONE", campaignReferenceId="c" * 256)
    ) == [
        ("invalid_field", "$.content.targeting", None),
        ("invalid_field", "$.content.campaignReferenceId", None),
    ]
    assert found(with_content(make_message, "kakao-alim", groupKey=" ")) == [
        ("invalid_field", "$.content.groupKey", None)
    ]


# --- SMS failover ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failover", "expected"),
    [
        ({}, [("invalid_text_length", F + ".text", INVALID_TEXT_LENGTH)]),
        ({"text": " "}, [("invalid_text_length", F + ".text", INVALID_TEXT_LENGTH)]),
        ({"text": "a" * (153 * 255 + 1)}, [("invalid_text_length", F + ".text", INVALID_TEXT_LENGTH)]),
        ({"text": "hi", "sender": "BistroLipa12"}, [("invalid_sender", F + ".sender", INVALID_FROM)]),
        ({"text": "hi", "sender": "1" * 17}, [("invalid_sender", F + ".sender", INVALID_FROM)]),
        ({"text": "hi", "title": "제" * 67}, [("invalid_title_length", F + ".title", None)]),
        ({"text": "hi", "resellerCode": "12345678901"}, [("invalid_field", F + ".resellerCode", None)]),
        ({"text": "hi", "validityPeriod": {"amount": 0}},
         [("invalid_field", F + ".validityPeriod.amount", None)]),
        ({"text": "hi", "validityPeriod": {"amount": 1, "timeUnit": "DAYS"}},
         [("invalid_field", F + ".validityPeriod.timeUnit", None)]),
        ({"text": "hi", "from": "Bistro"}, [("invalid_field", F + ".from", None)]),
        ("hi", [("invalid_field", F, None)]),
    ],
)  # fmt: skip
def test_sms_failover(make_message, failover, expected):
    for channel in BOTH:
        assert found(with_content(make_message, channel, smsFailover=failover)) == expected


def test_a_failover_sender_may_be_numeric_or_alphanumeric(make_message):
    for sender in ("BistroLipa", "821012345678", "+1234567890123456"):
        message = with_content(make_message, "kakao-chingu", smsFailover={"text": "hi", "sender": sender})
        assert validate_message(message) == []


# --- options --------------------------------------------------------------------------------------------


def test_alimtalk_tracks_no_urls(make_message):
    problem = one(make_message(options={"urlOptions": {"shortenUrl": True}}))
    assert (problem.code, problem.path) == ("invalid_field", "$.options.urlOptions")
    assert "no tracking options" in problem.message


def test_chingutalk_url_options_are_checked_like_every_channels(make_message):
    message = make_message("kakao-chingu")
    bad = msgspec.structs.replace(
        message, options=MessageOptions(url_options=UrlOptions(shorten_url=False, track_clicks=True))
    )
    assert found(bad) == [("missing_shorten_url", "$.options.urlOptions.shortenUrl", MISSING_SHORTEN_URL)]


@pytest.mark.parametrize("channel", BOTH)
def test_callback_data_and_validity(make_message, channel):
    message = make_message(channel)
    bad = msgspec.structs.replace(message, options=MessageOptions(callback_data="x" * 4001))
    assert found(bad) == [("invalid_callback_data", "$.options.callbackData", None)]


@pytest.mark.parametrize("channel", BOTH)
def test_a_validity_beyond_48_hours_is_a_warning_not_a_refusal(make_message, channel):
    message = make_message(
        channel,
        options={"validityPeriod": {"amount": 49, "timeUnit": "HOURS"}},
        content={
            **make_message(channel).content,
            "smsFailover": {"text": "hi", "validityPeriod": {"amount": 2881}},
        },
    )
    problems = validate_message(message)
    assert [(p.severity, p.path) for p in problems] == [
        ("warning", "$.content.smsFailover.validityPeriod"),
        ("warning", "$.options.validityPeriod"),
    ]
    assert "48 hours" in problems[1].message
    ok = make_message(channel, options={"validityPeriod": {"amount": 172800, "timeUnit": "SECONDS"}})
    assert validate_message(ok) == []
