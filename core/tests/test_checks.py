"""The checks every channel shares (`channel_engine.checks`)."""

from __future__ import annotations

import msgspec
import pytest

from channel_engine import MessageOptions, OutboundMessage, UrlOptions, ValidityPeriod
from channel_engine.checks import (
    check_common,
    check_destination,
    check_keys,
    check_reseller_code,
    check_text,
    check_url,
    check_validity_cap,
    reseller_code,
)


def message(**fields) -> OutboundMessage:
    return msgspec.convert({"channel": "x", "destination": "41793026727"} | fields, OutboundMessage)


@pytest.mark.parametrize(
    ("destination", "code"),
    [(None, "missing_destination"), ("  ", "missing_destination"), ("0791234567", "invalid_destination"),
     ("+41 79 302", "invalid_destination"), ("41793026727", None), ("+41793026727", None)],
)  # fmt: skip
def test_destination(destination, code):
    found = check_destination(destination)
    assert [p.code for p in found] == ([code] if code else [])
    if code == "missing_destination":
        assert found[0].status == "Error: Missing phone number in request"


def test_common_checks_name_each_field():
    bad = message(
        options={
            "urlOptions": {"shortenUrl": False, "trackingUrl": "ftp://x", "customDomain": "a/b"},
            "callbackData": "c" * 4000,
        }
    )
    found = {p.path: p for p in check_common(bad)}
    assert set(found) == {
        "$.options.urlOptions.trackingUrl",
        "$.options.urlOptions.customDomain",
        "$.options.urlOptions.shortenUrl",
    }
    assert found["$.options.urlOptions.shortenUrl"].status == "Error: Missing shortenUrl flag"
    # built directly: decoding our wire format would refuse the long URL before any channel sees it
    options = MessageOptions(url_options=UrlOptions(tracking_url="https://" + "x" * 2100, track_clicks=False))
    long = OutboundMessage(channel="x", destination="41793026727", options=options)
    assert {p.status for p in check_common(long)} == {
        "Error: Invalid tracking url length",
        "Error: Missing trackClicks flag",
    }
    assert check_common(message(destination=None), destination=False) == []


def test_keys_text_and_url():
    [unknown] = check_keys({"text": "a", "txt": "b"}, ("text",), "$.content", "content")
    assert (unknown.path, unknown.code) == ("$.content.txt", "invalid_field")
    assert check_text("abc", "$.content.text", limit=3) == []
    [long] = check_text("abcd", "$.content.text", limit=3)
    assert long.status == "Error: Invalid text length" and "(it has 4)" in long.message
    assert check_text(None, "$.content.title", limit=3, required=False) == []
    [blank] = check_text(" ", "$.content.button.text", limit=30, code="invalid_button_text_length")
    assert blank.status == "Error: Invalid button text length"
    [scheme] = check_url("www.example.com", "$.content.imageUrl", limit=2000)
    assert "http:// or https://" in scheme.message
    [url] = check_url(
        "https://" + "x" * 2000, "$.content.imageUrl", limit=2000, code="invalid_image_url_length"
    )
    assert url.status == "Error: Invalid image url length"


def test_the_48_hour_validity_cap_is_a_warning():
    assert check_validity_cap(ValidityPeriod(amount=48, time_unit="HOURS"), "an RCS message") == []
    assert check_validity_cap(None, "an RCS message") == []
    [cut] = check_validity_cap(ValidityPeriod(amount=2881, time_unit="MINUTES"), "an RCS message")
    assert (cut.severity, cut.path) == ("warning", "$.options.validityPeriod")
    assert "2881 minutes" in cut.message and "Infobip keeps an RCS message" in cut.message
    assert "cuts a longer one to 48 hours" in cut.message


RESELLER_CODES = [(123456789, 123456789), ("0042", 42), (10**9, None), (0, None), ("12a", None), (True, None),
                  (1.5, None)]  # fmt: skip


@pytest.mark.parametrize(("value", "code"), RESELLER_CODES)
def test_reseller_codes(value, code):
    assert reseller_code(value) == code
    found = check_reseller_code(value, "$.content.southKorea.resellerCode")
    if code:
        assert found == []
    else:
        [bad] = found
        assert bad.message == (
            f"content.southKorea.resellerCode {value!r} is not a reseller code: a number of at most 9 digits"
        )
    assert check_reseller_code(None, "$.x") == []
