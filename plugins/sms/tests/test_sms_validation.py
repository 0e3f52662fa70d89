"""Every validation rule of the sms and lms channels: code, JSON path and the SFMC messageStatus text."""

from __future__ import annotations

import msgspec
import pytest

from channel_engine import MessageOptions, UrlOptions, ValidityPeriod
from channel_engine_sms import plugin
from channel_engine_sms.validation import MAX_SEGMENTS

validate_message = plugin.validate_message


MISSING_PHONE = "Error: Missing phone number in request"
INVALID_TEXT_LENGTH = "Error: Invalid text length"
INVALID_FROM = "Error: Invalid from field"
MISSING_TRACK_CLICKS = "Error: Missing trackClicks flag"
MISSING_SHORTEN_URL = "Error: Missing shortenUrl flag"
INVALID_TRACKING_URL_LENGTH = "Error: Invalid tracking url length"
INVALID_CUSTOM_DOMAIN_LENGTH = "Error: Invalid custom domain length"


def found(message):
    """(code, path, status) of each problem, in order."""
    return [(p.code, p.path, p.status) for p in validate_message(message)]


def one(message):
    problems = validate_message(message)
    assert len(problems) == 1, problems
    return problems[0]


def with_url_options(message, **options):
    """Bypass the wire decoder (as a host building messages in Python would) to reach the plugin's checks."""
    return msgspec.structs.replace(message, options=MessageOptions(url_options=UrlOptions(**options)))


def test_a_good_sms_and_a_good_lms_have_no_problems(make_message):
    assert validate_message(make_message()) == []
    assert validate_message(make_message("lms")) == []
    full = make_message(
        sender="BistroLipa",
        content={
            "text": "Stol je spreman. Vidimo se!",
            "indiaDlt": {
                "principalEntityId": "1201159100000000001",
                "contentTemplateId": "1207161700000000002",
            },
            "southKorea": {"resellerCode": "987654321"},
            "transliteration": "CENTRAL_EUROPEAN",
            "language": {"languageCode": "AUTODETECT", "singleShift": True, "lockingShift": False},
            "campaignReferenceId": "autumn-menu",
        },
        options={
            "urlOptions": {"trackingUrl": "https://clicks.example.org/in", "customDomain": "go.example.org"},
            "validityPeriod": {"amount": 2, "timeUnit": "HOURS"},
            "callbackData": "contact=0031",
            "bulkId": "autumn-menu-1",
        },
    )
    assert validate_message(full) == []


# --- destination ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("destination", [None, "", "   "])
def test_missing_destination(make_message, destination):
    problem = one(make_message(destination=destination))
    assert (problem.code, problem.path, problem.status) == (
        "missing_destination",
        "$.destination",
        MISSING_PHONE,
    )
    assert "destination" in problem.message


@pytest.mark.parametrize("destination", ["385981112233", "+385981112233", "6831234", "123456789012345"])
def test_international_numbers_are_accepted(make_message, destination):
    assert validate_message(make_message(destination=destination)) == []


@pytest.mark.parametrize(
    "destination",
    [
        "0385981112233",
        "00385981112233",
        "385 98 111 2233",
        "385-98-1112233",
        "12345",
        "1234567890123456",
        "bistro",
    ],
)
def test_destination_not_in_international_format(make_message, destination):
    problem = one(make_message(destination=destination))
    assert (problem.code, problem.path, problem.status) == ("invalid_destination", "$.destination", None)
    assert "international format" in problem.message


# --- sender ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sender",
    [
        None,
        "Kavana",
        "BistroLipa1",
        "Bistro Lipa",
        " 1 2 3 a",
        "X",
        "385981112233",
        "+1234567890123456",
        "Ünal&Co",
    ],
)
def test_good_senders(make_message, sender):
    assert validate_message(make_message(sender=sender)) == []


@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        ("BistroLipa12", "at most 11 characters"),
        ("", "blank"),
        ("   ", "blank"),
        ("12345678901234567", "at most 16 digits"),
        ("Café™", "GSM 7-bit alphabet"),
        ("Bistro\nLipa", "on one line"),
        ("€uro€uro€u", "at most 11 characters"),  # 10 characters, 13 septets
        ("+", "no letter or digit"),
        ("--", "no letter or digit"),
    ],
)
def test_bad_senders(make_message, sender, reason):
    problem = one(make_message(sender=sender))
    assert (problem.code, problem.path, problem.status) == ("invalid_sender", "$.sender", INVALID_FROM)
    assert reason in problem.message


# --- text --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [{}, {"text": ""}, {"text": " \n "}])
def test_missing_or_empty_text(make_message, content):
    problem = one(make_message(content=content))
    assert (problem.code, problem.path, problem.status) == (
        "invalid_text_length",
        "$.content.text",
        INVALID_TEXT_LENGTH,
    )
    assert "content.text" in problem.message


def test_text_that_is_not_a_string(make_message):
    problem = one(make_message(content={"text": 42}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.text")


def test_text_longer_than_the_most_parts_an_sms_can_have(make_message):
    assert validate_message(make_message(content={"text": "a" * 153 * MAX_SEGMENTS})) == []
    problem = one(make_message(content={"text": "a" * (153 * MAX_SEGMENTS + 1)}))
    assert (problem.code, problem.path, problem.status) == (
        "invalid_text_length",
        "$.content.text",
        INVALID_TEXT_LENGTH,
    )
    assert f"{MAX_SEGMENTS + 1} SMS parts" in problem.message
    assert validate_message(make_message(content={"text": "ž" * 67 * MAX_SEGMENTS})) == []
    assert found(make_message(content={"text": "ž" * (67 * MAX_SEGMENTS + 1)}))[0][0] == "invalid_text_length"


# --- content keys ------------------------------------------------------------------------------------


def test_unknown_content_keys_are_refused(make_message):
    problem = one(make_message(content={"text": "hello", "txet": "typo"}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.txet")
    assert "'txet'" in problem.message and "text" in problem.message


def test_a_title_on_the_sms_channel_points_to_lms(make_message):
    problem = one(make_message(content={"text": "hello", "title": "Hi"}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.title")
    assert "lms" in problem.message


def test_transliteration_must_be_one_infobip_knows(make_message):
    assert validate_message(make_message(content={"text": "Ωμέγα", "transliteration": "GREEK"})) == []
    problem = one(make_message(content={"text": "hello", "transliteration": "KLINGON"}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.transliteration")
    assert "TURKISH" in problem.message


@pytest.mark.parametrize(
    ("language", "path"),
    [
        ({"languageCode": "HR"}, "$.content.language.languageCode"),
        ({"languageCode": "TR", "singleShift": "yes"}, "$.content.language.singleShift"),
        ({"code": "TR"}, "$.content.language.code"),
        ("TR", "$.content.language"),
    ],
)
def test_bad_language(make_message, language, path):
    problem = one(make_message(content={"text": "Merhaba", "language": language}))
    assert (problem.code, problem.path) == ("invalid_field", path)


@pytest.mark.parametrize("reference", ["", "x" * 256, 17])
def test_bad_campaign_reference(make_message, reference):
    problem = one(make_message(content={"text": "hello", "campaignReferenceId": reference}))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.campaignReferenceId")


# --- India DLT ---------------------------------------------------------------------------------------


def test_india_dlt_needs_the_principal_entity_id(make_message):
    problem = one(
        make_message(content={"text": "OTP 4411", "indiaDlt": {"contentTemplateId": "1207161700000000002"}})
    )
    assert (problem.code, problem.path) == ("missing_field", "$.content.indiaDlt.principalEntityId")
    assert "principal entity ID" in problem.message


@pytest.mark.parametrize(
    ("dlt", "path"),
    [
        ({"principalEntityId": ""}, "$.content.indiaDlt.principalEntityId"),
        ({"principalEntityId": 1201159100000000001}, "$.content.indiaDlt.principalEntityId"),
        ({"principalEntityId": "1201", "telemarketerId": " "}, "$.content.indiaDlt.telemarketerId"),
        ({"principalEntityId": "1201", "templateId": "1207"}, "$.content.indiaDlt.templateId"),
        ("1201159100000000001", "$.content.indiaDlt"),
    ],
)
def test_bad_india_dlt(make_message, dlt, path):
    problem = one(make_message(content={"text": "OTP 4411", "indiaDlt": dlt}))
    assert (problem.code, problem.path) == ("invalid_field", path)


# --- LMS ---------------------------------------------------------------------------------------------


def lms_content(**changes):
    content = {"text": "이번 주 특가", "title": "주간 특가", "southKorea": {"resellerCode": 123456789}}
    content.update(changes)
    return {k: v for k, v in content.items() if v is not None}


def test_lms_needs_a_title(make_message):
    problem = one(make_message("lms", content=lms_content(title=None)))
    assert (problem.code, problem.path) == ("missing_field", "$.content.title")


@pytest.mark.parametrize("title", ["", "  ", "가" * 67, 7])
def test_lms_title_length(make_message, title):
    problem = one(make_message("lms", content=lms_content(title=title)))
    assert (problem.code, problem.path, problem.status) == ("invalid_title_length", "$.content.title", None)
    assert "66" in problem.message


def test_lms_title_of_66_characters_is_fine(make_message):
    assert validate_message(make_message("lms", content=lms_content(title="가" * 66))) == []


@pytest.mark.parametrize("south_korea", [None, {}])
def test_lms_needs_the_reseller_code(make_message, south_korea):
    problem = one(make_message("lms", content=lms_content(southKorea=south_korea)))
    assert (problem.code, problem.path) == ("missing_field", "$.content.southKorea.resellerCode")
    assert "reseller code" in problem.message


@pytest.mark.parametrize("code", ["12a456789", 0, 10**9, True, 12.5])
def test_bad_reseller_code(make_message, code):
    problem = one(make_message("lms", content=lms_content(southKorea={"resellerCode": code})))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.southKorea.resellerCode")


def test_south_korea_takes_only_the_reseller_code(make_message):
    problem = one(make_message("lms", content=lms_content(southKorea={"resellerCode": 1, "title": "x"})))
    assert (problem.code, problem.path) == ("invalid_field", "$.content.southKorea.title")


def test_sms_may_carry_a_reseller_code_but_needs_none(make_message):
    assert validate_message(make_message(content={"text": "hi", "southKorea": {"resellerCode": 42}})) == []
    assert validate_message(make_message(content={"text": "hi", "southKorea": {}})) == []
    assert validate_message(make_message(content={"text": "hi"})) == []


def test_lms_text_rules_are_the_sms_ones(make_message):
    problem = one(make_message("lms", content=lms_content(text="")))
    assert (problem.code, problem.status) == ("invalid_text_length", INVALID_TEXT_LENGTH)


# --- URL shortening and click tracking ---------------------------------------------------------------


def test_url_options_defaults_are_fine(make_message):
    assert validate_message(make_message(options={"urlOptions": {}})) == []
    assert (
        validate_message(make_message(options={"urlOptions": {"shortenUrl": False, "trackClicks": False}}))
        == []
    )


def test_tracking_url_without_track_clicks(make_message):
    message = make_message(
        options={"urlOptions": {"trackClicks": False, "trackingUrl": "https://c.example.org"}}
    )
    problem = one(message)
    assert (problem.code, problem.path, problem.status) == (
        "missing_track_clicks",
        "$.options.urlOptions.trackClicks",
        MISSING_TRACK_CLICKS,
    )
    assert "trackingUrl" in problem.message


def test_track_clicks_without_shortening(make_message):
    problem = one(make_message(options={"urlOptions": {"shortenUrl": False}}))
    assert (problem.code, problem.path, problem.status) == (
        "missing_shorten_url",
        "$.options.urlOptions.shortenUrl",
        MISSING_SHORTEN_URL,
    )
    assert "trackClicks" in problem.message


@pytest.mark.parametrize(
    ("options", "needs"),
    [({"customDomain": "go.example.org"}, "customDomain"), ({"removeProtocol": True}, "removeProtocol")],
)
def test_shortening_options_without_shortening(make_message, options, needs):
    url_options = {"shortenUrl": False, "trackClicks": False, **options}
    problem = one(make_message(options={"urlOptions": url_options}))
    assert (problem.code, problem.status) == ("missing_shorten_url", MISSING_SHORTEN_URL)
    assert needs in problem.message


@pytest.mark.parametrize("url", ["", "https://clicks.example.org/" + "a" * 2030])
def test_tracking_url_length(make_message, url):
    problem = one(with_url_options(make_message(), tracking_url=url))
    assert (problem.code, problem.path, problem.status) == (
        "invalid_tracking_url_length",
        "$.options.urlOptions.trackingUrl",
        INVALID_TRACKING_URL_LENGTH,
    )


def test_tracking_url_must_be_http(make_message):
    problem = one(make_message(options={"urlOptions": {"trackingUrl": "ftp://clicks.example.org"}}))
    assert (problem.code, problem.path) == ("invalid_field", "$.options.urlOptions.trackingUrl")


@pytest.mark.parametrize("domain", ["", "g" * 254])
def test_custom_domain_length(make_message, domain):
    problem = one(with_url_options(make_message(), custom_domain=domain))
    assert (problem.code, problem.path, problem.status) == (
        "invalid_custom_domain_length",
        "$.options.urlOptions.customDomain",
        INVALID_CUSTOM_DOMAIN_LENGTH,
    )


@pytest.mark.parametrize("domain", ["https://go.example.org", "go.example.org/path", "go example"])
def test_custom_domain_is_a_bare_domain(make_message, domain):
    problem = one(make_message(options={"urlOptions": {"customDomain": domain}}))
    assert (problem.code, problem.path) == ("invalid_field", "$.options.urlOptions.customDomain")


# --- options the core model also limits, checked again for messages built in Python ------------------


def test_callback_data_over_4000_characters(make_message):
    message = msgspec.structs.replace(make_message(), options=MessageOptions(callback_data="x" * 4001))
    problem = one(message)
    assert (problem.code, problem.path) == ("invalid_callback_data", "$.options.callbackData")
    assert (
        validate_message(msgspec.structs.replace(message, options=MessageOptions(callback_data="x" * 4000)))
        == []
    )


def test_validity_period_amount(make_message):
    message = msgspec.structs.replace(
        make_message(), options=MessageOptions(validity_period=ValidityPeriod(0))
    )
    problem = one(message)
    assert (problem.code, problem.path) == ("invalid_field", "$.options.validityPeriod.amount")


def test_every_problem_is_reported_in_field_order(make_message):
    message = make_message(
        "lms",
        destination=None,
        sender="WayTooLongSender",
        content={"text": "", "bogus": 1},
        options={"urlOptions": {"shortenUrl": False}},
    )
    assert [(code, path) for code, path, _ in found(message)] == [
        ("missing_destination", "$.destination"),
        ("invalid_sender", "$.sender"),
        ("invalid_field", "$.content.bogus"),
        ("invalid_text_length", "$.content.text"),
        ("missing_field", "$.content.title"),
        ("missing_field", "$.content.southKorea.resellerCode"),
        ("missing_shorten_url", "$.options.urlOptions.shortenUrl"),
    ]
