"""Every validation rule of the rcs channel: code, JSON path and the SFMC messageStatus text."""

from __future__ import annotations

import msgspec
import pytest

from channel_engine import MessageOptions, UrlOptions
from channel_engine_rcs import plugin

validate_message = plugin.validate_message

MISSING_PHONE = "Error: Missing phone number in request"
INVALID_TEXT_LENGTH = "Error: Invalid text length"
MISSING_TRACK_CLICKS = "Error: Missing trackClicks flag"
MISSING_SHORTEN_URL = "Error: Missing shortenUrl flag"
INVALID_TRACKING_URL_LENGTH = "Error: Invalid tracking url length"
INVALID_CUSTOM_DOMAIN_LENGTH = "Error: Invalid custom domain length"

CARD = {
    "title": "Autumn tasting menu",
    "description": "Five courses of truffles and chestnuts.",
    "mediaUrl": "https://bistro-lipa.example/img/autumn.jpg",
}
REPLY = {"type": "REPLY", "text": "Book a table", "postbackData": "book"}
FUTURE = {"startTime": "2031-05-01T19:00:00.000+0200", "endTime": "2031-05-01T22:00:00+02:00"}


def found(message):
    """(code, path, status) of each problem, in order."""
    return [(p.code, p.path, p.status) for p in validate_message(message)]


def one(message):
    problems = validate_message(message)
    assert len(problems) == 1, problems
    return problems[0]


def text_with(make_message, *suggestions, text="Your table is ready."):
    return make_message(content={"text": text, "suggestions": list(suggestions)})


def with_url_options(message, **options):
    """Bypass the wire decoder (as a host building messages in Python would) to reach the plugin's checks."""
    return msgspec.structs.replace(message, options=MessageOptions(url_options=UrlOptions(**options)))


# --- good messages -------------------------------------------------------------------------------------

EVERY_SUGGESTION = [
    REPLY,
    {"type": "REPLY", "text": "x" * 25},  # postbackData defaults to the text
    {"type": "OPEN_URL", "text": "Menu", "url": "https://bistro-lipa.example/menu"},
    {
        "type": "OPEN_URL",
        "text": "Menu",
        "url": "https://b.example",
        "application": "WEBVIEW",
        "webviewViewMode": "HALF",
    },
    {"type": "DIAL_PHONE", "text": "Call us", "phoneNumber": "+385981112233", "postbackData": "p" * 2024},
    {"type": "SHOW_LOCATION", "text": "Find us", "latitude": -90, "longitude": 180.0, "label": "Bistro Lipa"},
    {"type": "REQUEST_LOCATION", "text": "Share your location"},
    {
        "type": "CREATE_CALENDAR_EVENT",
        "text": "Save the date",
        "title": "Truffle night",
        "description": "Dinner",
        **FUTURE,
    },
]

GOOD_CONTENTS = {
    "plain text": {"text": "Your table is ready."},
    "typed text at the limit": {
        "type": "TEXT",
        "text": "a" * 3072,
        "suggestions": EVERY_SUGGESTION + [REPLY] * 3,
    },
    "file": {"type": "FILE", "fileUrl": "https://b.example/menu.pdf"},
    "video with thumbnail": {
        "type": "FILE",
        "fileUrl": "https://b.example/v.mp4",
        "thumbnailUrl": "https://b.example/t.jpg",
        "suggestions": [REPLY],
    },
    "card with defaults": {"type": "CARD", "card": CARD},
    "card with title only": {"type": "CARD", "card": {"title": "t" * 200}},
    "card with media only": {
        "type": "CARD",
        "card": {"mediaUrl": "https://b.example/a.jpg", "mediaHeight": "TALL"},
    },
    "horizontal card": {
        "type": "CARD",
        "orientation": "HORIZONTAL",
        "alignment": "RIGHT",
        "card": {**CARD, "description": "d" * 2000, "suggestions": EVERY_SUGGESTION[:4]},
        "suggestions": EVERY_SUGGESTION,
    },
    "carousel of two": {"type": "CAROUSEL", "cards": [CARD, {"title": "Soup"}]},
    "carousel of ten": {
        "type": "CAROUSEL",
        "cardWidth": "SMALL",
        "cards": [CARD] * 10,
        "suggestions": [REPLY],
    },
    "sms failover and campaign": {
        "text": "hi",
        "smsFailover": {"text": "Your table is ready.", "sender": "BistroLipa"},
        "campaignReferenceId": "c" * 255,
    },
    "numeric failover sender": {"text": "hi", "smsFailover": {"text": "x", "sender": "+385981112233"}},
}


@pytest.mark.parametrize("case", sorted(GOOD_CONTENTS))
def test_good_messages_have_no_problems(make_message, case):
    assert validate_message(make_message(content=GOOD_CONTENTS[case])) == []


def test_every_option_together(make_message):
    message = make_message(
        options={
            "urlOptions": {"trackingUrl": "https://clicks.example.org/in", "customDomain": "go.example.org"},
            "validityPeriod": {"amount": 48, "timeUnit": "HOURS"},
            "callbackData": "contact=0031",
            "bulkId": "autumn-1",
            "speedLimit": {"amount": 10, "timeUnit": "MINUTE"},
        }
    )
    assert validate_message(message) == []


def test_other_channels_are_not_ours(make_message):
    assert validate_message(make_message(channel="sms")) is None


# --- destination, sender, message options -----------------------------------------------------------


@pytest.mark.parametrize("destination", [None, "", "   "])
def test_missing_destination(make_message, destination):
    problem = one(make_message(destination=destination))
    assert (problem.code, problem.path, problem.status) == (
        "missing_destination",
        "$.destination",
        MISSING_PHONE,
    )


def test_destination_not_in_international_format(make_message):
    problem = one(make_message(destination="098 111 2233"))
    assert (problem.code, problem.path, problem.status) == ("invalid_destination", "$.destination", None)


@pytest.mark.parametrize("sender", ["", "  "])
def test_a_blank_sender(make_message, sender):
    problem = one(make_message(sender=sender))
    assert (problem.code, problem.path) == ("invalid_field", "$.sender")
    assert "blank" in problem.message


def test_callback_data_over_4000_characters(make_message):
    problem = one(msgspec.structs.replace(make_message(), options=MessageOptions(callback_data="x" * 4001)))
    assert (problem.code, problem.path) == ("invalid_callback_data", "$.options.callbackData")


def test_a_validity_over_48_hours_is_a_warning_not_a_refusal(make_message):
    problem = one(make_message(options={"validityPeriod": {"amount": 2881, "timeUnit": "MINUTES"}}))
    assert (problem.code, problem.path, problem.severity) == (
        "invalid_field",
        "$.options.validityPeriod",
        "warning",
    )
    assert "48 hours" in problem.message
    assert (
        validate_message(make_message(options={"validityPeriod": {"amount": 172800, "timeUnit": "SECONDS"}}))
        == []
    )


@pytest.mark.parametrize(
    ("options", "code", "field", "status"),
    [
        (
            {"track_clicks": False, "tracking_url": "https://c.example"},
            "missing_track_clicks",
            "trackClicks",
            MISSING_TRACK_CLICKS,
        ),
        ({"shorten_url": False}, "missing_shorten_url", "shortenUrl", MISSING_SHORTEN_URL),
        (
            {"tracking_url": "https://c.example/" + "x" * 2040},
            "invalid_tracking_url_length",
            "trackingUrl",
            INVALID_TRACKING_URL_LENGTH,
        ),
        (
            {"custom_domain": "d" * 254},
            "invalid_custom_domain_length",
            "customDomain",
            INVALID_CUSTOM_DOMAIN_LENGTH,
        ),
    ],
)
def test_url_shortening_and_tracking_mistakes(make_message, options, code, field, status):
    problem = one(with_url_options(make_message(), **options))
    assert (problem.code, problem.path, problem.status) == (code, f"$.options.urlOptions.{field}", status)


# --- content type and keys ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["VIDEO", "PROVIDER_TEMPLATE", "text", 3, ["TEXT"], {"TEXT": 1}])
def test_an_unknown_content_type(make_message, kind):
    problem = one(make_message(content={"type": kind, "text": "hi"}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.type")
    assert "TEXT, FILE, CARD, CAROUSEL" in problem.message


def test_unknown_content_keys_are_refused(make_message):
    problem = one(make_message(content={"text": "hi", "txet": "typo"}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.txet")
    assert "its fields are type, suggestions, smsFailover, campaignReferenceId, text" in problem.message


def test_a_key_of_another_type_says_which_type_it_belongs_to(make_message):
    problem = one(make_message(content={"text": "hi", "card": CARD}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.card")
    assert problem.message == "content.card belongs to type CARD, and this content's type is TEXT"


# --- text ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [{}, {"text": ""}, {"text": " \n "}, {"text": "a" * 3073}])
def test_missing_empty_or_long_text(make_message, content):
    problem = one(make_message(content=content))
    assert (problem.code, problem.path, problem.status) == (
        "invalid_text_length",
        "$.content.text",
        INVALID_TEXT_LENGTH,
    )
    assert "3072" in problem.message


def test_text_that_is_not_a_string(make_message):
    problem = one(make_message(content={"text": ["hi"]}))
    assert (problem.code, problem.path, problem.status) == ("invalid_field", "$.content.text", None)


# --- suggestions ---------------------------------------------------------------------------------------


def test_at_most_eleven_suggestions_on_a_message(make_message):
    problem = one(text_with(make_message, *[REPLY] * 12))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.suggestions")
    assert "at most 11 suggestions; it has 12" in problem.message


def test_suggestions_must_be_a_list(make_message):
    problem = one(make_message(content={"text": "hi", "suggestions": REPLY}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.suggestions")


@pytest.mark.parametrize(
    ("suggestion", "code", "field", "says"),
    [
        ("Book", "invalid_field", "", "must be an object"),
        ({"text": "Book"}, "missing_field", ".type", "needs a type"),
        ({"type": "BUY", "text": "Book"}, "invalid_field", ".type", "'BUY' is not one of REPLY, OPEN_URL"),
        ({"type": ["REPLY"], "text": "Book"}, "invalid_field", ".type", "is not one of REPLY, OPEN_URL"),
        (
            {**REPLY, "url": "https://b.example"},
            "invalid_field",
            ".url",
            "a REPLY suggestion has no field 'url'",
        ),
        ({"type": "REPLY"}, "invalid_field", ".text", "missing"),
        ({**REPLY, "text": "x" * 26}, "invalid_field", ".text", "1 to 25 characters (it has 26)"),
        ({**REPLY, "postbackData": "p" * 2025}, "invalid_field", ".postbackData", "1 to 2024"),
        ({**REPLY, "postbackData": ""}, "invalid_field", ".postbackData", "1 to 2024"),
        ({"type": "OPEN_URL", "text": "Menu"}, "invalid_field", ".url", "missing"),
        ({"type": "OPEN_URL", "text": "Menu", "url": "ftp://b.example"}, "invalid_field", ".url", "http://"),
        (
            {"type": "OPEN_URL", "text": "M", "url": "https://b.example/" + "x" * 2031},
            "invalid_field",
            ".url",
            "1 to 2048",
        ),
        (
            {"type": "OPEN_URL", "text": "M", "url": "https://b.example", "application": "APP"},
            "invalid_field",
            ".application",
            "BROWSER, WEBVIEW",
        ),
        (
            {"type": "OPEN_URL", "text": "M", "url": "https://b.example", "application": "WEBVIEW"},
            "missing_field",
            ".webviewViewMode",
            "FULL, HALF, TALL",
        ),
        (
            {"type": "OPEN_URL", "text": "M", "url": "https://b.example", "webviewViewMode": "FULL"},
            "invalid_field",
            ".webviewViewMode",
            'only for application "WEBVIEW"',
        ),
        (
            {
                "type": "OPEN_URL",
                "text": "M",
                "url": "https://b.example",
                "application": "WEBVIEW",
                "webviewViewMode": "WIDE",
            },
            "invalid_field",
            ".webviewViewMode",
            "'WIDE' is not one of",
        ),
        ({"type": "DIAL_PHONE", "text": "Call"}, "missing_field", ".phoneNumber", "needs a phoneNumber"),
        (
            {"type": "DIAL_PHONE", "text": "Call", "phoneNumber": "+385 98 111"},
            "invalid_field",
            ".phoneNumber",
            "not a phone number",
        ),
        (
            {"type": "DIAL_PHONE", "text": "Call", "phoneNumber": "12345678901234567"},
            "invalid_field",
            ".phoneNumber",
            "not a phone number",
        ),
        (
            {"type": "SHOW_LOCATION", "text": "Map", "longitude": 15.9},
            "missing_field",
            ".latitude",
            "needs a latitude",
        ),
        (
            {"type": "SHOW_LOCATION", "text": "Map", "latitude": 90.5, "longitude": 15.9},
            "invalid_field",
            ".latitude",
            "from -90 to 90",
        ),
        (
            {"type": "SHOW_LOCATION", "text": "Map", "latitude": 45, "longitude": True},
            "invalid_field",
            ".longitude",
            "from -180 to 180",
        ),
        (
            {"type": "SHOW_LOCATION", "text": "Map", "latitude": 45, "longitude": "15"},
            "invalid_field",
            ".longitude",
            "from -180 to 180",
        ),
        (
            {"type": "SHOW_LOCATION", "text": "Map", "latitude": 45, "longitude": 15, "label": "l" * 101},
            "invalid_field",
            ".label",
            "1 to 100",
        ),
        ({"type": "CREATE_CALENDAR_EVENT", "text": "Save", **FUTURE}, "invalid_field", ".title", "missing"),
        (
            {
                "type": "CREATE_CALENDAR_EVENT",
                "text": "Save",
                "title": "T",
                "description": "d" * 501,
                **FUTURE,
            },
            "invalid_field",
            ".description",
            "1 to 500",
        ),
        (
            {"type": "CREATE_CALENDAR_EVENT", "text": "Save", "title": "T", "endTime": FUTURE["endTime"]},
            "missing_field",
            ".startTime",
            "needs its startTime",
        ),
        (
            {
                "type": "CREATE_CALENDAR_EVENT",
                "text": "Save",
                "title": "T",
                **FUTURE,
                "startTime": "2031-05-01T19:00:00",
            },
            "invalid_field",
            ".startTime",
            "with its UTC offset",
        ),
        (
            {"type": "CREATE_CALENDAR_EVENT", "text": "Save", "title": "T", **FUTURE, "endTime": "tomorrow"},
            "invalid_field",
            ".endTime",
            "with its UTC offset",
        ),
        (
            {
                "type": "CREATE_CALENDAR_EVENT",
                "text": "Save",
                "title": "T",
                **FUTURE,
                "endTime": "2031-05-01T17:00:00.000+0000",
            },
            "invalid_field",
            ".endTime",
            "after startTime",
        ),
        (
            {
                "type": "CREATE_CALENDAR_EVENT",
                "text": "Save",
                "title": "T",
                "startTime": "2020-01-01T10:00:00Z",
                "endTime": "2020-01-01T11:00:00Z",
            },
            "invalid_field",
            ".startTime",
            "in the future",
        ),
    ],
)
def test_suggestion_mistakes(make_message, suggestion, code, field, says):
    problem = one(text_with(make_message, REPLY, suggestion))
    assert (problem.code, problem.path) == (code, f"$.content.suggestions[1]{field}")
    assert says in problem.message


def test_suggestions_of_several_places_each_name_their_path(make_message):
    bad = {"type": "REPLY", "text": "x" * 26}
    content = {
        "type": "CAROUSEL",
        "cards": [CARD, {**CARD, "suggestions": [REPLY, bad]}],
        "suggestions": [bad],
    }
    assert [p for _, p, _ in found(make_message(content=content))] == [
        "$.content.cards[1].suggestions[1].text",
        "$.content.suggestions[0].text",
    ]


# --- file ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "code", "path"),
    [
        ({"type": "FILE"}, "invalid_field", "$.content.fileUrl"),
        ({"type": "FILE", "fileUrl": "menu.pdf"}, "invalid_field", "$.content.fileUrl"),
        (
            {"type": "FILE", "fileUrl": "https://b.example/" + "x" * 2031},
            "invalid_field",
            "$.content.fileUrl",
        ),
        (
            {"type": "FILE", "fileUrl": "https://b.example/v.mp4", "thumbnailUrl": ""},
            "invalid_field",
            "$.content.thumbnailUrl",
        ),
        (
            {"type": "FILE", "fileUrl": "https://b.example/v.mp4", "text": "hi"},
            "invalid_field",
            "$.content.text",
        ),
    ],
)
def test_file_mistakes(make_message, content, code, path):
    problem = one(make_message(content=content))
    assert (problem.code, problem.path) == (code, path)


# --- cards and carousels -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("card", "code", "field", "status", "says"),
    [
        ({"description": "Only words"}, "missing_field", "", None, "a title or a mediaUrl"),
        ({}, "missing_field", "", None, "a title or a mediaUrl"),
        ({**CARD, "title": "t" * 201}, "invalid_title_length", ".title", None, "1 to 200"),
        (
            {**CARD, "description": "d" * 2001},
            "invalid_text_length",
            ".description",
            INVALID_TEXT_LENGTH,
            "1 to 2000",
        ),
        ({**CARD, "mediaUrl": "//b.example/a.jpg"}, "invalid_field", ".mediaUrl", None, "http://"),
        (
            {"title": "T", "thumbnailUrl": "https://b.example/t.jpg"},
            "invalid_field",
            ".thumbnailUrl",
            None,
            "needs a mediaUrl",
        ),
        ({"title": "T", "mediaHeight": "TALL"}, "invalid_field", ".mediaHeight", None, "needs a mediaUrl"),
        ({**CARD, "mediaHeight": "HUGE"}, "invalid_field", ".mediaHeight", None, "SHORT, MEDIUM, TALL"),
        (
            {**CARD, "suggestions": [REPLY] * 5},
            "invalid_field",
            ".suggestions",
            None,
            "at most 4 suggestions",
        ),
        (
            {**CARD, "image": "https://b.example/a.jpg"},
            "invalid_field",
            ".image",
            None,
            "a card has no field",
        ),
        ("Autumn menu", "invalid_field", "", None, "must be an object"),
    ],
)
def test_card_mistakes_alone_and_in_a_carousel(make_message, card, code, field, status, says):
    alone = one(make_message(content={"type": "CARD", "card": card}))
    assert (alone.code, alone.path, alone.status) == (code, f"$.content.card{field}", status)
    assert says in alone.message
    carousel = one(make_message(content={"type": "CAROUSEL", "cards": [CARD, card]}))
    assert (carousel.code, carousel.path, carousel.status) == (code, f"$.content.cards[1]{field}", status)


@pytest.mark.parametrize(
    ("content", "code", "path", "says"),
    [
        ({"type": "CARD"}, "missing_field", "$.content.card", "needs its card"),
        (
            {"type": "CARD", "card": CARD, "orientation": "DIAGONAL"},
            "invalid_field",
            "$.content.orientation",
            "VERTICAL, HORIZONTAL",
        ),
        (
            {"type": "CARD", "card": CARD, "alignment": "CENTER"},
            "invalid_field",
            "$.content.alignment",
            "LEFT, RIGHT",
        ),
        (
            {"type": "CARD", "card": CARD, "cards": [CARD, CARD]},
            "invalid_field",
            "$.content.cards",
            "belongs to type CAROUSEL",
        ),
        ({"type": "CAROUSEL"}, "missing_field", "$.content.cards", "2 to 10"),
        ({"type": "CAROUSEL", "cards": CARD}, "invalid_field", "$.content.cards", "a list of cards"),
        ({"type": "CAROUSEL", "cards": [CARD]}, "invalid_field", "$.content.cards", "this one has 1"),
        ({"type": "CAROUSEL", "cards": [CARD] * 11}, "invalid_field", "$.content.cards", "this one has 11"),
        (
            {"type": "CAROUSEL", "cards": [CARD] * 2, "cardWidth": "LARGE"},
            "invalid_field",
            "$.content.cardWidth",
            "SMALL, MEDIUM",
        ),
    ],
)
def test_card_and_carousel_layout_mistakes(make_message, content, code, path, says):
    problem = one(make_message(content=content))
    assert (problem.code, problem.path) == (code, path)
    assert says in problem.message


# --- SMS failover and campaign ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failover", "code", "path", "status"),
    [
        ({}, "invalid_text_length", "$.content.smsFailover.text", INVALID_TEXT_LENGTH),
        ({"text": "  "}, "invalid_text_length", "$.content.smsFailover.text", INVALID_TEXT_LENGTH),
        (
            {"text": "a" * 153 * 255 + "a"},
            "invalid_text_length",
            "$.content.smsFailover.text",
            INVALID_TEXT_LENGTH,
        ),
        ({"text": 7}, "invalid_field", "$.content.smsFailover.text", None),
        ({"text": "hi", "sender": "BistroLipa12"}, "invalid_field", "$.content.smsFailover.sender", None),
        (
            {"text": "hi", "sender": "12345678901234567"},
            "invalid_field",
            "$.content.smsFailover.sender",
            None,
        ),
        ({"text": "hi", "sender": " "}, "invalid_field", "$.content.smsFailover.sender", None),
        (
            {"text": "hi", "validityPeriod": {"amount": 1}},
            "invalid_field",
            "$.content.smsFailover.validityPeriod",
            None,
        ),
        ("Your table is ready", "invalid_field", "$.content.smsFailover", None),
    ],
)
def test_sms_failover_mistakes(make_message, failover, code, path, status):
    problem = one(make_message(content={"text": "hi", "smsFailover": failover}))
    assert (problem.code, problem.path, problem.status) == (code, path, status)


def test_the_longest_failover_text_one_sms_can_carry(make_message):
    assert (
        validate_message(make_message(content={"text": "hi", "smsFailover": {"text": "a" * 153 * 255}})) == []
    )


@pytest.mark.parametrize("reference", ["", "r" * 256, 12])
def test_campaign_reference_id(make_message, reference):
    problem = one(make_message(content={"text": "hi", "campaignReferenceId": reference}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.campaignReferenceId")


def test_problems_come_together_in_field_order(make_message):
    message = make_message(
        destination="",
        sender=" ",
        content={"type": "CARD", "card": {"title": ""}, "suggestions": [{"type": "REPLY"}], "extra": 1},
        options={"callbackData": "c"},
    )
    assert found(message) == [
        ("missing_destination", "$.destination", MISSING_PHONE),
        ("invalid_field", "$.sender", None),
        ("invalid_field", "$.content.extra", None),
        ("invalid_title_length", "$.content.card.title", None),
        ("invalid_field", "$.content.suggestions[0].text", None),
    ]
