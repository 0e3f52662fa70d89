"""The checks every channel shares (`channel_engine.checks`)."""

from __future__ import annotations

import msgspec
import pytest

from channel_engine import MessageOptions, OutboundMessage, UrlOptions
from channel_engine.checks import check_common, check_destination, check_keys, check_text, check_url


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
