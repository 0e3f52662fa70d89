"""Every validation rule of the viber channel: code, JSON path and the SFMC messageStatus text."""

from __future__ import annotations

import msgspec
import pytest

from channel_engine import MessageOptions, UrlOptions
from channel_engine_viber import plugin
from channel_engine_viber.validation import video_duration

validate_message = plugin.validate_message


MISSING_PHONE = "Error: Missing phone number in request"
INVALID_TEXT_LENGTH = "Error: Invalid text length"
INVALID_PROMOTIONAL_FLAG = "Error: Invalid promotional flag"
INVALID_IMAGE_URL_LENGTH = "Error: Invalid image url length"
INVALID_FROM = "Error: Invalid from field"
INVALID_BUTTON_URL_LENGTH = "Error: Invalid button url length"
INVALID_BUTTON_TEXT_LENGTH = "Error: Invalid button text length"
MISSING_SHORTEN_URL = "Error: Missing shortenUrl flag"

IMAGE = "https://cdn.bistro.example/spring/dish.jpg"
VIDEO = {
    "videoUrl": "https://cdn.bistro.example/tour.mp4",
    "thumbnailUrl": "https://cdn.bistro.example/tour.jpg",
    "videoDuration": 42,
}
BUTTON = {"title": "Book a table", "url": "https://bistro.example/book"}


def found(message):
    """(code, path, status) of each problem, in order."""
    return [(p.code, p.path, p.status) for p in validate_message(message)]


def one(message):
    problems = validate_message(message)
    assert len(problems) == 1, problems
    return problems[0]


def test_every_content_kind_with_all_its_options_is_fine(make_message):
    common = {
        "label": "TRANSACTIONAL",
        "trackingData": "table-42",
        "campaignReferenceId": "spring-menu",
        "smsFailover": {
            "text": "Your table is ready",
            "sender": "BistroLipa",
            "validityPeriod": {"amount": 30, "timeUnit": "MINUTES"},
        },
    }
    contents = [
        {"text": "Your table is ready"},
        {"text": "Spring menu is out", "button": BUTTON},
        {"imageUrl": IMAGE},
        {"imageUrl": IMAGE, "text": "Our new dish", "button": BUTTON, "showImageInFullScreen": False},
        VIDEO,
        {**VIDEO, "videoDuration": "PT1M30S", "text": "Take the tour", "button": {"title": "Watch"}},
        {"fileUrl": "https://cdn.bistro.example/menu.pdf", "fileName": "menu.pdf"},
    ]
    options = {
        "urlOptions": {"trackingUrl": "https://clicks.example.org/in", "customDomain": "go.example.org"},
        "validityPeriod": {"amount": 2, "timeUnit": "HOURS"},
        "callbackData": "contact=0031",
        "bulkId": "spring-menu-1",
    }
    for content in contents:
        assert validate_message(make_message(content=content)) == [], content
        assert validate_message(make_message(content={**content, **common}, options=options)) == [], content


@pytest.mark.parametrize("destination", [None, "", "   "])
def test_a_missing_phone_number(make_message, destination):
    problem = one(make_message(destination=destination))
    assert (problem.code, problem.path, problem.status) == (
        "missing_destination",
        "$.destination",
        MISSING_PHONE,
    )


def test_a_destination_that_is_no_phone_number(make_message):
    problem = one(make_message(destination="viber:user-17"))
    assert (problem.code, problem.path, problem.status) == ("invalid_destination", "$.destination", None)
    assert "international format" in problem.message


@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        (None, "sender is missing"),
        ("", "sender is missing"),
        ("  ", "sender is missing"),
        ("B", "2 to 20 characters"),
        ("Bistro Lipa Zagreb Centre", "2 to 20 characters"),
        ("Bistro\nLipa", "on one line"),
    ],
)
def test_the_viber_sender_is_required_and_a_registered_name(make_message, sender, reason):
    problem = one(make_message(sender=sender))
    assert (problem.code, problem.path, problem.status) == ("invalid_sender", "$.sender", INVALID_FROM)
    assert reason in problem.message


@pytest.mark.parametrize(
    ("content", "path", "reason"),
    [
        ({}, "$.content.text", "content.text is missing"),
        ({"text": ""}, "$.content.text", "1 to 1000 characters (it has 0)"),
        ({"text": " \n "}, "$.content.text", "1 to 1000 characters"),
        ({"text": "x" * 1001}, "$.content.text", "(it has 1001)"),
        ({"imageUrl": IMAGE, "text": "x" * 1001}, "$.content.text", "(it has 1001)"),
        ({**VIDEO, "text": "x" * 1001}, "$.content.text", "(it has 1001)"),
        ({"imageUrl": IMAGE, "button": BUTTON}, "$.content.text", "only together with a text"),
        ({"text": "hi", "smsFailover": {"text": ""}}, "$.content.smsFailover.text", "1 to 4096"),
        ({"text": "hi", "smsFailover": {"sender": "Bistro"}}, "$.content.smsFailover.text", "is missing"),
        ({"text": "hi", "smsFailover": {"text": "y" * 4097}}, "$.content.smsFailover.text", "(it has 4097)"),
    ],
)
def test_invalid_text_length(make_message, content, path, reason):
    problem = one(make_message(content=content))
    assert (problem.code, problem.path, problem.status) == ("invalid_text_length", path, INVALID_TEXT_LENGTH)
    assert reason in problem.message


def test_a_text_of_exactly_1000_characters_is_fine(make_message):
    assert validate_message(make_message(content={"text": "x" * 1000})) == []


def test_text_that_is_not_a_string(make_message):
    problem = one(make_message(content={"text": 42}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.text")
    assert "must be text, not int" in problem.message


@pytest.mark.parametrize("label", ["MARKETING", "", 1, True, None, ["PROMOTIONAL"]])
def test_invalid_promotional_flag(make_message, label):
    problem = one(make_message(content={"text": "hi", "label": label}))
    assert (problem.code, problem.path, problem.status) == (
        "invalid_promotional_flag",
        "$.content.label",
        INVALID_PROMOTIONAL_FLAG,
    )
    assert "PROMOTIONAL or TRANSACTIONAL" in problem.message


@pytest.mark.parametrize("label", ["PROMOTIONAL", "transactional", "Promotional"])
def test_a_label_in_any_case_is_fine(make_message, label):
    assert validate_message(make_message(content={"text": "hi", "label": label})) == []


@pytest.mark.parametrize(
    ("content", "path", "reason"),
    [
        ({"imageUrl": ""}, "$.content.imageUrl", "1 to 1000 characters (it has 0)"),
        ({"imageUrl": "https://cdn.example/" + "a" * 981}, "$.content.imageUrl", "(it has 1001)"),
        ({**VIDEO, "thumbnailUrl": "https://cdn.example/" + "t" * 981}, "$.content.thumbnailUrl", "preview"),
        ({**VIDEO, "thumbnailUrl": None}, "$.content.thumbnailUrl", "is missing"),
    ],
)
def test_invalid_image_url_length(make_message, content, path, reason):
    problem = one(make_message(content=content))
    assert (problem.code, problem.path, problem.status) == (
        "invalid_image_url_length",
        path,
        INVALID_IMAGE_URL_LENGTH,
    )
    assert reason in problem.message


def test_an_image_url_of_exactly_1000_characters_is_fine(make_message):
    url = "https://cdn.example/" + "a" * 980
    assert len(url) == 1000
    assert validate_message(make_message(content={"imageUrl": url})) == []


def test_an_image_url_must_be_a_web_address(make_message):
    problem = one(make_message(content={"imageUrl": "ftp://cdn.example/dish.jpg"}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.imageUrl")
    assert "http:// or https://" in problem.message


@pytest.mark.parametrize(
    ("button", "reason"),
    [
        ({"title": "Book"}, "is missing"),
        ({"title": "Book", "url": ""}, "(it has 0)"),
        ({"title": "Book", "url": "https://bistro.example/" + "b" * 978}, "(it has 1001)"),
    ],
)
def test_invalid_button_url_length(make_message, button, reason):
    problem = one(make_message(content={"text": "hi", "button": button}))
    assert (problem.code, problem.path, problem.status) == (
        "invalid_button_url_length",
        "$.content.button.url",
        INVALID_BUTTON_URL_LENGTH,
    )
    assert reason in problem.message


@pytest.mark.parametrize(
    ("button", "reason"),
    [
        ({"url": "https://bistro.example/book"}, "is missing"),
        ({"title": "", "url": "https://bistro.example/book"}, "(it has 0)"),
        ({"title": "   ", "url": "https://bistro.example/book"}, "(it has 3)"),
        ({"title": "B" * 31, "url": "https://bistro.example/book"}, "1 to 30 characters (it has 31)"),
    ],
)
def test_invalid_button_text_length(make_message, button, reason):
    for content in ({"text": "hi"}, {"imageUrl": IMAGE, "text": "hi"}, VIDEO):
        problem = one(make_message(content={**content, "button": button}))
        assert (problem.code, problem.path, problem.status) == (
            "invalid_button_text_length",
            "$.content.button.title",
            INVALID_BUTTON_TEXT_LENGTH,
        )
        assert reason in problem.message


def test_a_button_with_an_unknown_key_or_of_the_wrong_type(make_message):
    problem = one(make_message(content={"text": "hi", "button": {**BUTTON, "action": "x"}}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.button.action")
    assert "its fields are title, url" in problem.message
    problem = one(make_message(content={"text": "hi", "button": "Book"}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.button")


def test_a_video_button_may_go_without_a_url(make_message):
    assert validate_message(make_message(content={**VIDEO, "button": {"title": "Watch"}})) == []


def test_there_is_no_scenario_key_on_viber_v2(make_message):
    """ "Error: Invalid scenario key" belonged to Infobip's OMNI API: on /viber/2/messages a scenarioKey is
    just an unknown field."""
    problem = one(make_message(content={"text": "hi", "scenarioKey": "ABC123"}))
    assert (problem.code, problem.path, problem.status) == ("invalid_field", "$.content.scenarioKey", None)
    assert "has no field 'scenarioKey'" in problem.message


def test_unknown_content_keys_are_refused(make_message):
    problems = validate_message(make_message(content={"text": "hi", "mediaUrl": IMAGE, "Text": "x"}))
    assert [(p.code, p.path) for p in problems] == [
        ("invalid_field", "$.content.mediaUrl"),
        ("invalid_field", "$.content.Text"),
    ]


def test_one_medium_per_message(make_message):
    problem = one(make_message(content={"imageUrl": IMAGE, "fileUrl": "https://x.example/a.pdf"}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.fileUrl")
    assert "both imageUrl and fileUrl" in problem.message


@pytest.mark.parametrize(
    ("key", "value", "medium"),
    [
        ("showImageInFullScreen", True, "imageUrl"),
        ("thumbnailUrl", "https://x.example/t.jpg", "videoUrl"),
        ("videoDuration", 10, "videoUrl"),
        ("fileName", "menu.pdf", "fileUrl"),
    ],
)
def test_keys_of_a_medium_need_the_medium(make_message, key, value, medium):
    problem = one(make_message(content={"text": "hi", key: value}))
    assert (problem.code, problem.path) == ("invalid_field", f"$.content.{key}")
    assert f"add content.{medium}" in problem.message


def test_show_image_in_full_screen_is_a_flag(make_message):
    problem = one(make_message(content={"imageUrl": IMAGE, "showImageInFullScreen": "yes"}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.showImageInFullScreen")


@pytest.mark.parametrize(
    ("duration", "code"),
    [(None, "missing_field"), (0, "invalid_field"), (601, "invalid_field"), ("PT11M", "invalid_field"),
     ("42", "invalid_field"), ("P1D", "invalid_field"), (4.5, "invalid_field"), (True, "invalid_field")],
)  # fmt: skip
def test_a_video_needs_its_duration(make_message, duration, code):
    problem = one(make_message(content={**VIDEO, "videoDuration": duration}))
    assert (problem.code, problem.path) == (code, "$.content.videoDuration")
    assert "1 to 600" in problem.message


@pytest.mark.parametrize(
    ("value", "iso"),
    [(1, "PT1S"), (600, "PT600S"), ("PT10M", "PT10M"), ("PT1M30S", "PT1M30S"), ("PT2.5S", "PT2.5S"),
     ("PT10M1S", None), ("PT", None), ("PT0S", None), ("1M", None)],
)  # fmt: skip
def test_video_durations_in_seconds_or_iso_8601(value, iso):
    assert video_duration(value) == iso


def test_a_video_url_longer_than_the_spec_allows(make_message):
    problem = one(make_message(content={**VIDEO, "videoUrl": "https://cdn.example/" + "v" * 981}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.videoUrl")
    assert "(it has 1001)" in problem.message


@pytest.mark.parametrize(
    ("name", "reason"),
    [(None, "is missing"), ("menu.exe", "must end in a file type"), ("menu", "must end in a file type"),
     ("a" * 22 + ".pdf", "1 to 25 characters (it has 26)")],
)  # fmt: skip
def test_a_file_needs_a_name_of_a_type_viber_delivers(make_message, name, reason):
    problem = one(make_message(content={"fileUrl": "https://cdn.example/menu", "fileName": name}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.fileName")
    assert reason in problem.message


def test_a_file_has_no_text_and_no_button(make_message):
    content = {
        "fileUrl": "https://x.example/menu.pdf",
        "fileName": "menu.pdf",
        "text": "Menu",
        "button": BUTTON,
    }
    assert found(make_message(content=content)) == [
        ("invalid_field", "$.content.text", None),
        ("invalid_field", "$.content.button", None),
    ]


@pytest.mark.parametrize(
    ("key", "value", "limit"),
    [("trackingData", "t" * 101, "1 to 100"), ("trackingData", "", "1 to 100"),
     ("campaignReferenceId", "c" * 256, "1 to 255")],
)  # fmt: skip
def test_tracking_data_and_campaign_reference(make_message, key, value, limit):
    problem = one(make_message(content={"text": "hi", key: value}))
    assert (problem.code, problem.path) == ("invalid_field", f"$.content.{key}")
    assert limit in problem.message


def test_sms_failover_shape(make_message):
    def failover(value):
        return found(make_message(content={"text": "hi", "smsFailover": value}))

    assert failover("SMS text") == [("invalid_field", "$.content.smsFailover", None)]
    assert failover({"text": "t", "from": "Bistro"}) == [
        ("invalid_field", "$.content.smsFailover.from", None)
    ]
    assert failover({"text": "t", "sender": "S" * 25}) == [
        ("invalid_sender", "$.content.smsFailover.sender", INVALID_FROM)
    ]
    for validity in ({"amount": 0}, {"amount": 5, "timeUnit": "DAYS"}, 30, {"amount": 5, "unit": "HOURS"}):
        assert failover({"text": "t", "validityPeriod": validity}) == [
            ("invalid_field", "$.content.smsFailover.validityPeriod", None)
        ]


def test_problems_come_in_field_order(make_message):
    message = make_message(
        destination="",
        sender=None,
        content={"text": "", "label": "ADS", "button": {"title": "", "url": ""}},
    )
    assert [p.status for p in validate_message(message)] == [
        MISSING_PHONE,
        INVALID_FROM,
        INVALID_TEXT_LENGTH,
        INVALID_BUTTON_TEXT_LENGTH,
        INVALID_BUTTON_URL_LENGTH,
        INVALID_PROMOTIONAL_FLAG,
    ]


def test_url_options_use_the_shared_checks(make_message):
    message = make_message(content={"text": "Menu: https://bistro.example/menu"})
    message = msgspec.structs.replace(
        message, options=MessageOptions(url_options=UrlOptions(shorten_url=False, track_clicks=True))
    )
    problem = one(message)
    assert (problem.code, problem.path, problem.status) == (
        "missing_shorten_url",
        "$.options.urlOptions.shortenUrl",
        MISSING_SHORTEN_URL,
    )


def test_a_validity_over_48_hours_is_a_warning_not_a_refusal(make_message):
    assert (
        validate_message(make_message(options={"validityPeriod": {"amount": 48, "timeUnit": "HOURS"}})) == []
    )
    problem = one(make_message(options={"validityPeriod": {"amount": 2881, "timeUnit": "MINUTES"}}))
    assert (problem.severity, problem.code, problem.path) == (
        "warning",
        "invalid_field",
        "$.options.validityPeriod",
    )
    assert "cuts a longer one to 48 hours" in problem.message


def test_callback_data_is_limited(make_message):
    message = make_message()
    message = msgspec.structs.replace(message, options=MessageOptions(callback_data="x" * 4001))
    problem = one(message)
    assert (problem.code, problem.path) == ("invalid_callback_data", "$.options.callbackData")
