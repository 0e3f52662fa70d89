"""Validation: the seed's exact messageStatus text for a missing phone number, and a precise path and
sentence for every other rule of the MMS content shape."""

from __future__ import annotations

import msgspec
import pytest

from channel_engine import MessageOptions, ValidityPeriod
from channel_engine_mms import plugin
from channel_engine_mms.validation import MAX_SEGMENTS, TEXT_MAX, TITLE_MAX

validate_message = plugin.validate_message

MISSING_PHONE = "Error: Missing phone number in request"


def only(message):
    problems = validate_message(message)
    assert len(problems) == 1, problems
    return problems[0]


def with_segments(make_message, *segments, **content):
    return make_message(content={"segments": list(segments), **content})


TEXT = {"type": "text", "text": "hello"}
IMAGE = {"type": "image", "url": "https://cdn.example.com/a.png"}


def test_the_default_message_is_fine(make_message):
    assert validate_message(make_message()) == []


def test_other_channels_are_not_ours(make_message):
    assert validate_message(make_message(channel="sms")) is None


# --- destination and sender ------------------------------------------------------------------------------


@pytest.mark.parametrize("destination", [None, "", "  "])
def test_a_missing_phone_number_has_the_seed_status(make_message, destination):
    problem = only(make_message(destination=destination))
    assert (problem.code, problem.path, problem.status) == (
        "missing_destination",
        "$.destination",
        MISSING_PHONE,
    )
    assert "phone number" in problem.message


def test_a_malformed_phone_number(make_message):
    problem = only(make_message(destination="0041 79 302"))
    assert (problem.code, problem.path, problem.status) == ("invalid_destination", "$.destination", None)


@pytest.mark.parametrize("sender", ["14155550100", "+14155550100", "25256", "BistroLipa", "Bistro 2"])
def test_good_senders(make_message, sender):
    assert validate_message(make_message(sender=sender)) == []


@pytest.mark.parametrize("sender", ["", "1" * 17, "BistroLipaSplit", "Bistro-Lipa", "12 34"])
def test_bad_senders(make_message, sender):
    problem = only(make_message(sender=sender))
    assert (problem.code, problem.path, problem.status) == ("invalid_field", "$.sender", None)
    assert "16 digits" in problem.message and "11 letters" in problem.message


# --- content keys and title ------------------------------------------------------------------------------


def test_unknown_content_keys_are_refused(make_message):
    problem = only(with_segments(make_message, TEXT, text="top-level text"))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.text")
    assert "'text'" in problem.message and "segments" in problem.message


@pytest.mark.parametrize("title", ["", "   ", "x" * (TITLE_MAX + 1)])
def test_title_length(make_message, title):
    problem = only(with_segments(make_message, TEXT, title=title))
    assert (problem.code, problem.path, problem.status) == ("invalid_title_length", "$.content.title", None)
    assert problem.message == f"title must have 1 to 66 characters (it has {len(title)})".replace(
        "title", "content.title", 1
    )


def test_a_title_must_be_text(make_message):
    problem = only(with_segments(make_message, TEXT, title=66))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.title")
    assert problem.message == "content.title must be text, not int"


def test_the_title_is_optional_and_may_have_66_characters(make_message):
    assert validate_message(with_segments(make_message, TEXT)) == []
    assert validate_message(with_segments(make_message, TEXT, title="ž" * TITLE_MAX)) == []


# --- segments --------------------------------------------------------------------------------------------


def test_segments_are_required(make_message):
    problem = only(make_message(content={"title": "Hi"}))
    assert (problem.code, problem.path) == ("missing_field", "$.content.segments")
    assert "at least one" in problem.message


@pytest.mark.parametrize(
    ("segments", "says"),
    [
        ([], "1 to 20 segments (it has 0)"),
        ([TEXT] * (MAX_SEGMENTS + 1), "1 to 20 segments (it has 21)"),
        ({"type": "text"}, "must be a list, not dict"),
    ],
)
def test_segment_count(make_message, segments, says):
    problem = only(make_message(content={"segments": segments}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.segments")
    assert says in problem.message


def test_twenty_segments_are_fine(make_message):
    assert validate_message(with_segments(make_message, *([TEXT, IMAGE] * 10))) == []


@pytest.mark.parametrize(
    ("segment", "code", "path", "says"),
    [
        ("hello", "invalid_field", "$.content.segments[1]", "must be an object"),
        ({"text": "hi"}, "missing_field", "$.content.segments[1].type", "type is missing"),
        ({"type": "TEXT", "text": "hi"}, "invalid_field", "$.content.segments[1].type", "not a segment type"),
        ({"type": "sticker", "url": "https://x.example/a"}, "invalid_field", "$.content.segments[1].type",
         "text, image, video, audio, file"),
        ({"type": "text"}, "invalid_field", "$.content.segments[1].text", "is missing"),
        ({"type": "text", "text": " "}, "invalid_field", "$.content.segments[1].text", "1 to 4096"),
        ({"type": "text", "text": "x" * (TEXT_MAX + 1)}, "invalid_field", "$.content.segments[1].text",
         "(it has 4097)"),
        ({"type": "text", "text": "hi", "url": "https://x.example"}, "invalid_field",
         "$.content.segments[1].url", "a text segment has no field 'url'"),
        ({"type": "image"}, "invalid_field", "$.content.segments[1].url", "is missing"),
        ({"type": "image", "url": "ftp://cdn.example.com/a.png"}, "invalid_field",
         "$.content.segments[1].url", "http:// or https://"),
        ({"type": "image", "url": "https://cdn.example.com/" + "a" * 2030 + ".png"}, "invalid_field",
         "$.content.segments[1].url", "1 to 2048"),
        ({"type": "image", "url": "https://x.example/a.png", "text": "caption"}, "invalid_field",
         "$.content.segments[1].text", "an image segment has no field 'text'"),
        ({"type": "video", "url": "https://x.example/a", "contentType": "mp4"}, "invalid_field",
         "$.content.segments[1].contentType", "not a MIME type"),
        ({"type": "video", "url": "https://x.example/a", "contentType": "image/png"}, "invalid_field",
         "$.content.segments[1].contentType", "a video must be video/*"),
        ({"type": "image", "url": "https://x.example/clip.mp4"}, "invalid_field",
         "$.content.segments[1].type", "names a file of type video or audio"),
        ({"type": "image", "url": "https://x.example/a.png", "contentId": "has space"}, "invalid_field",
         "$.content.segments[1].contentId", "1 to 20 letters"),
        ({"type": "image", "url": "https://x.example/a.png", "contentId": "a" * 21}, "invalid_field",
         "$.content.segments[1].contentId", "1 to 20 letters"),
    ],
)  # fmt: skip
def test_bad_segments(make_message, segment, code, path, says):
    problem = only(with_segments(make_message, TEXT, segment))
    assert (problem.code, problem.path, problem.status) == (code, path, None)
    assert says in problem.message, problem.message


@pytest.mark.parametrize(
    "segment",
    [
        {
            "type": "image",
            "url": "https://cdn.example.com/menu?id=7",
        },  # no extension: Infobip asks the server
        {"type": "image", "url": "http://cdn.example.com/a.GIF"},
        {"type": "video", "url": "https://cdn.example.com/clip.mp4"},
        {"type": "video", "url": "https://cdn.example.com/clip", "contentType": "video/3gpp"},
        {"type": "audio", "url": "https://cdn.example.com/jingle.mp4"},  # an MP4 may be audio too
        {"type": "audio", "url": "https://cdn.example.com/jingle.mp3", "contentId": "jingle.mp3"},
        {"type": "file", "url": "https://cdn.example.com/card.vcf", "contentId": "card.vcf"},
        {"type": "file", "url": "https://cdn.example.com/x", "contentType": "text/plain; charset=utf-8"},
        {"type": "file", "url": "https://cdn.example.com/photo.png"},  # a picture sent as a file
    ],
)
def test_good_media_segments(make_message, segment):
    assert validate_message(with_segments(make_message, segment)) == []


def test_content_ids_are_unique(make_message):
    first = {**IMAGE, "contentId": "menu"}
    second = {"type": "image", "url": "https://cdn.example.com/b.png", "contentId": "menu"}
    problem = only(with_segments(make_message, first, TEXT, second))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.segments[2].contentId")
    assert "segments[0]" in problem.message


# --- SMS failover, South Korea, campaign reference ------------------------------------------------------


def test_sms_failover(make_message):
    good = {"text": "Our spring menu: https://bistro.example.com", "sender": "BistroLipa"}
    assert validate_message(with_segments(make_message, TEXT, smsFailover=good)) == []
    assert validate_message(with_segments(make_message, TEXT, smsFailover={"text": "hi"})) == []


@pytest.mark.parametrize(
    ("failover", "code", "path", "says"),
    [
        ({"sender": "Bistro"}, "missing_field", "$.content.smsFailover.text", "is missing"),
        ({"text": "  "}, "invalid_field", "$.content.smsFailover.text", "blank"),
        ({"text": 5}, "invalid_field", "$.content.smsFailover.text", "must be text"),
        ({"text": "ž" * (67 * 255 + 1)}, "invalid_field", "$.content.smsFailover.text", "at most 255 parts"),
        ({"text": "hi", "sender": "WayTooLongSender"}, "invalid_field", "$.content.smsFailover.sender",
         "11 letters"),
        ({"text": "hi", "sender": 12}, "invalid_field", "$.content.smsFailover.sender", "must be text"),
        ({"text": "hi", "validity": 5}, "invalid_field", "$.content.smsFailover.validity", "no field"),
        ("hi", "invalid_field", "$.content.smsFailover", "must be an object"),
    ],
)  # fmt: skip
def test_bad_sms_failover(make_message, failover, code, path, says):
    problem = only(with_segments(make_message, TEXT, smsFailover=failover))
    assert (problem.code, problem.path) == (code, path)
    assert says in problem.message, problem.message


@pytest.mark.parametrize(
    ("south_korea", "code", "path"),
    [
        ({}, "missing_field", "$.content.southKorea.resellerCode"),
        ({"resellerCode": "12a"}, "invalid_field", "$.content.southKorea.resellerCode"),
        ({"resellerCode": 10**9}, "invalid_field", "$.content.southKorea.resellerCode"),
        ({"resellerCode": True}, "invalid_field", "$.content.southKorea.resellerCode"),
        ({"resellerCode": 1, "title": "x"}, "invalid_field", "$.content.southKorea.title"),
        (123, "invalid_field", "$.content.southKorea"),
    ],
)
def test_bad_south_korea(make_message, south_korea, code, path):
    problem = only(with_segments(make_message, TEXT, southKorea=south_korea))
    assert (problem.code, problem.path) == (code, path)


def test_good_reseller_codes(make_message):
    for code in (123456789, "123456789", 1):
        assert validate_message(with_segments(make_message, TEXT, southKorea={"resellerCode": code})) == []


@pytest.mark.parametrize("reference", ["", "x" * 256, 17])
def test_bad_campaign_reference(make_message, reference):
    problem = only(with_segments(make_message, TEXT, campaignReferenceId=reference))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.campaignReferenceId")


# --- options the core checks for every channel ----------------------------------------------------------


def test_url_options_use_the_shared_checks_and_their_seed_texts(make_message):
    problem = only(make_message(options={"urlOptions": {"shortenUrl": False}}))
    assert (problem.code, problem.path, problem.status) == (
        "missing_shorten_url",
        "$.options.urlOptions.shortenUrl",
        "Error: Missing shortenUrl flag",
    )


def test_callback_data_over_4000_characters(make_message):
    message = msgspec.structs.replace(make_message(), options=MessageOptions(callback_data="x" * 4001))
    problem = only(message)
    assert (problem.code, problem.path) == ("invalid_callback_data", "$.options.callbackData")


@pytest.mark.parametrize(
    ("amount", "unit", "warned"),
    [(48, "HOURS", False), (2880, "MINUTES", False), (172800, "SECONDS", False), (49, "HOURS", True)],
)
def test_a_validity_over_48_hours_is_a_warning_not_a_refusal(make_message, amount, unit, warned):
    problems = validate_message(
        make_message(options={"validityPeriod": {"amount": amount, "timeUnit": unit}})
    )
    if not warned:
        assert problems == []
        return
    (problem,) = problems
    assert (problem.code, problem.path, problem.severity) == (
        "invalid_field",
        "$.options.validityPeriod",
        "warning",
    )
    assert "49 hours" in problem.message and "48 hours" in problem.message


def test_a_validity_amount_of_zero_is_refused(make_message):
    message = msgspec.structs.replace(
        make_message(), options=MessageOptions(validity_period=ValidityPeriod(0))
    )
    problem = only(message)
    assert (problem.code, problem.path, problem.severity) == (
        "invalid_field",
        "$.options.validityPeriod.amount",
        "error",
    )


def test_every_problem_is_reported_in_field_order(make_message):
    message = make_message(
        destination=None,
        sender="Bistro-Lipa",
        content={"title": "", "segments": [{"type": "text"}, {"type": "image"}], "colour": "red"},
        options={"urlOptions": {"shortenUrl": False}},
    )
    assert [(p.code, p.path) for p in validate_message(message)] == [
        ("missing_destination", "$.destination"),
        ("invalid_field", "$.sender"),
        ("invalid_field", "$.content.colour"),
        ("invalid_title_length", "$.content.title"),
        ("invalid_field", "$.content.segments[0].text"),
        ("invalid_field", "$.content.segments[1].url"),
        ("missing_shorten_url", "$.options.urlOptions.shortenUrl"),
    ]
