"""Checks an MMS message before the engine accepts it.

The message's `content` (only `segments` is required):

    {
      "title": "Spring menu",                       # 1-66 characters (content.title maxLength)
      "segments": [                                 # 1-20 parts, shown in this order
        {"type": "text", "text": "Hi Ana! ..."},    #   1-4096 characters (text segment maxLength)
        {"type": "image", "url": "https://cdn.example.com/menu.jpg"},
        {"type": "video", "url": "https://cdn.example.com/clip", "contentType": "video/mp4"},
        {"type": "audio", "url": "https://cdn.example.com/jingle.mp3"},
        {"type": "file", "url": "https://cdn.example.com/card.vcf", "contentId": "card.vcf"}
      ],
      "smsFailover": {"text": "See the menu: https://...", "sender": "BistroLipa"},  # text required
      "southKorea": {"resellerCode": 123456789},    # numbers registered in South Korea
      "campaignReferenceId": "spring-2025"          # at most 255 characters
    }

A media segment (`image`, `video`, `audio` or `file`, a document or any other file) has an http(s) `url`
of at most 2,048 characters. `contentType` is optional: without it the URL's file extension names the type
(`media.EXTENSIONS`); an image must be `image/*`, a video `video/*`, an audio `audio/*`. `contentId`
(optional, at most 20 letters, digits, `.`, `_` or `-`, unique in the message) names the part on the
handset; iPhones show a vCard only when it ends in `.vcf`.

Any other key is refused, so a misspelt field never silently drops out of the request. A problem names the
JSON path in our wire format; only a missing destination has an SFMC messageStatus text for MMS ("Error:
Missing phone number in request"), every other problem explains itself in its sentence.

Validation never fetches a URL: the size of the media is checked by `check_message` (`sizes.py`) when a
host asks `POST /v1/messages/check`.
"""

from __future__ import annotations

import re
from typing import Any

from channel_engine import OutboundMessage, Problem, problem
from channel_engine.checks import (
    TRACKING_URL_MAX,
    check_common,
    check_destination,
    check_keys,
    check_reseller_code,
    check_text,
    check_url,
    check_validity_cap,
)
from channel_engine.segments import count_segments

from .media import (
    MIME_TYPE,
    SEGMENT_TYPES,
    TEXT,
    content_type_for,
    fits_kind,
    kinds_of_extension,
)

TITLE_MAX = 66  # content.title maxLength in the spec
TEXT_MAX = 4096  # MmsOutboundTextSegment.text maxLength in the spec
CAMPAIGN_REFERENCE_MAX = 255  # options.campaignReferenceId maxLength in the spec
# Ours: the spec sets no maximum. Twenty parts are more than fit in the 300 KB every operator carries; the
# cap stops a host's mapping mistake from sending hundreds.
MAX_SEGMENTS = 20
# Ours: the spec sets no length for `contentUrl`; the engine takes URLs of up to 2,048 characters anywhere.
URL_MAX = TRACKING_URL_MAX
CONTENT_ID = re.compile(r"[A-Za-z0-9._-]{1,20}")  # the legacy spec: "up to 20 characters"
SMS_PARTS_MAX = 255  # the SMS concatenation header counts parts in one octet (3GPP TS 23.040)
# Numeric senders (long numbers and short codes) have up to 16 digits; alphanumeric ones 11 characters.
NUMERIC_SENDER = re.compile(r"\+?[0-9]{1,16}")
ALPHANUMERIC_SENDER = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")

CONTENT_KEYS = ("title", "segments", "smsFailover", "southKorea", "campaignReferenceId")
TEXT_KEYS = ("type", "text")
MEDIA_KEYS = ("type", "url", "contentType", "contentId")
FAILOVER_KEYS = ("text", "sender")


def validate(message: OutboundMessage) -> list[Problem]:
    """Every problem of an MMS message, in field order; [] when it may be sent (warnings do not refuse)."""
    problems = check_destination(message.destination)
    problems += sender(message.sender, "$.sender")
    problems += _content(message.content)
    problems += check_common(message, destination=False)  # URL options, callback data, validity
    problems += check_validity_cap(message.options.validity_period, "an MMS")
    return problems


def sender(value: str | None, path: str) -> list[Problem]:
    if value is None or NUMERIC_SENDER.fullmatch(value) or ALPHANUMERIC_SENDER.fullmatch(value):
        return []
    return [
        problem(
            "invalid_field",
            path,
            f"sender {value!r} is not valid: give a number of at most 16 digits (an optional leading +) "
            "or a name of at most 11 letters, digits and spaces",
        )
    ]


def _content(content: dict[str, Any]) -> list[Problem]:
    problems = check_keys(content, CONTENT_KEYS, "$.content", "content")
    if "title" in content:
        problems += _title(content["title"])
    problems += _segments(content.get("segments"))
    if "smsFailover" in content:
        problems += _failover(content["smsFailover"])
    if "southKorea" in content:
        problems += _south_korea(content["southKorea"])
    if "campaignReferenceId" in content:
        problems += check_text(
            content["campaignReferenceId"],
            "$.content.campaignReferenceId",
            limit=CAMPAIGN_REFERENCE_MAX,
            code="invalid_field",
        )
    return problems


def _title(title: Any) -> list[Problem]:
    return check_text(title, "$.content.title", limit=TITLE_MAX, code="invalid_title_length")


def _segments(segments: Any) -> list[Problem]:
    path = "$.content.segments"
    if segments is None:
        return [
            problem(
                "missing_field",
                path,
                "content.segments is missing: an MMS needs at least one text, image, video, audio or file "
                "segment",
            )
        ]
    if not isinstance(segments, list):
        return [
            problem("invalid_field", path, f"content.segments must be a list, not {type(segments).__name__}")
        ]
    if not 1 <= len(segments) <= MAX_SEGMENTS:
        return [
            problem(
                "invalid_field",
                path,
                f"content.segments must have 1 to {MAX_SEGMENTS} segments (it has {len(segments)})",
            )
        ]
    problems = []
    for i, segment in enumerate(segments):
        problems += _segment(segment, f"{path}[{i}]")
    problems += _duplicate_content_ids(segments)
    return problems


def _segment(segment: Any, path: str) -> list[Problem]:
    name = path.removeprefix("$.")
    if not isinstance(segment, dict):
        return [
            problem(
                "invalid_field",
                path,
                f'{name} must be an object such as {{"type": "text", "text": "..."}}, not '
                f"{type(segment).__name__}",
            )
        ]
    kind = segment.get("type")
    if kind is None:
        return [
            problem(
                "missing_field", f"{path}.type", f"{name}.type is missing: one of {', '.join(SEGMENT_TYPES)}"
            )
        ]
    if kind not in SEGMENT_TYPES:
        return [
            problem(
                "invalid_field",
                f"{path}.type",
                f"{name}.type {kind!r} is not a segment type; the types are {', '.join(SEGMENT_TYPES)}",
            )
        ]
    if kind == TEXT:
        problems = check_keys(segment, TEXT_KEYS, path, "a text segment")
        return problems + check_text(
            segment.get("text"), f"{path}.text", limit=TEXT_MAX, code="invalid_field"
        )
    problems = check_keys(segment, MEDIA_KEYS, path, f"{article(kind)} {kind} segment")
    problems += check_url(segment.get("url"), f"{path}.url", limit=URL_MAX)
    problems += _content_type(segment, kind, path)
    if "contentId" in segment:
        content_id = segment["contentId"]
        if not isinstance(content_id, str) or not CONTENT_ID.fullmatch(content_id):
            problems.append(
                problem(
                    "invalid_field",
                    f"{path}.contentId",
                    f"{name}.contentId {content_id!r} must be 1 to 20 letters, digits, '.', '_' or '-': some "
                    "carriers refuse a message whose part names have other characters",
                )
            )
    return problems


def _content_type(segment: dict[str, Any], kind: str, path: str) -> list[Problem]:
    name = f"{path.removeprefix('$.')}.contentType"
    given = segment.get("contentType")
    if given is not None:
        if not isinstance(given, str) or not MIME_TYPE.fullmatch(given):
            return [
                problem(
                    "invalid_field",
                    f"{path}.contentType",
                    f"{name} {given!r} is not a MIME type such as image/jpeg",
                )
            ]
        if not fits_kind(kind, given):
            return [
                problem(
                    "invalid_field",
                    f"{path}.contentType",
                    f"{name} {given!r} does not fit a segment of type {kind!r}: "
                    f"{article(kind)} {kind} must be {kind}/*",
                )
            ]
        return []
    url = segment.get("url")
    if not isinstance(url, str) or content_type_for(kind, url) is not None:
        return []
    others = kinds_of_extension(url)
    if others:  # a video URL in an image segment is a mapping mistake, not a type to guess
        return [
            problem(
                "invalid_field",
                f"{path}.type",
                f"{path.removeprefix('$.')} is {article(kind)} {kind} segment but its URL names a file of "
                f"type {' or '.join(others)}: correct the type, or give contentType",
            )
        ]
    return []


def _duplicate_content_ids(segments: list[Any]) -> list[Problem]:
    seen: dict[str, int] = {}
    problems = []
    for i, segment in enumerate(segments):
        content_id = segment.get("contentId") if isinstance(segment, dict) else None
        if not isinstance(content_id, str):
            continue
        if content_id in seen:
            problems.append(
                problem(
                    "invalid_field",
                    f"$.content.segments[{i}].contentId",
                    f"contentId {content_id!r} is already used by segments[{seen[content_id]}]: each part "
                    "of one MMS needs its own",
                )
            )
        seen.setdefault(content_id, i)
    return problems


def _failover(value: Any) -> list[Problem]:
    path = "$.content.smsFailover"
    if not isinstance(value, dict):
        return [problem("invalid_field", path, 'content.smsFailover must be an object: {"text": ...}')]
    problems = check_keys(value, FAILOVER_KEYS, path, "content.smsFailover")
    problems += _failover_text(value.get("text"), f"{path}.text")
    if "sender" in value:
        problems += _failover_sender(value["sender"], f"{path}.sender")
    return problems


def _failover_text(text: Any, path: str) -> list[Problem]:
    if text is None:
        return [
            problem(
                "missing_field",
                path,
                "content.smsFailover.text is missing: it is the SMS sent when the MMS cannot be delivered",
            )
        ]
    if not isinstance(text, str):
        return [
            problem(
                "invalid_field", path, f"content.smsFailover.text must be text, not {type(text).__name__}"
            )
        ]
    if not text.strip():
        return [
            problem("invalid_field", path, "content.smsFailover.text is blank: the failover SMS needs a text")
        ]
    parts = count_segments(text)
    if parts.segments > SMS_PARTS_MAX:
        return [
            problem(
                "invalid_field",
                path,
                f"content.smsFailover.text needs {parts.segments} SMS parts ({parts.units} {parts.encoding} "
                f"units); one SMS can have at most {SMS_PARTS_MAX} parts",
            )
        ]
    return []


def _failover_sender(value: Any, path: str) -> list[Problem]:
    if not isinstance(value, str):
        return [
            problem(
                "invalid_field", path, f"content.smsFailover.sender must be text, not {type(value).__name__}"
            )
        ]
    return sender(value, path)


def _south_korea(value: Any) -> list[Problem]:
    path = "$.content.southKorea"
    if not isinstance(value, dict):
        return [problem("invalid_field", path, 'content.southKorea must be an object: {"resellerCode": ...}')]
    problems = check_keys(value, ("resellerCode",), path, "content.southKorea")
    code = value.get("resellerCode")
    if code is None:
        problems.append(
            problem(
                "missing_field",
                f"{path}.resellerCode",
                "content.southKorea.resellerCode is missing: give the reseller code or leave southKorea out",
            )
        )
    problems += check_reseller_code(code, f"{path}.resellerCode")
    return problems


def article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"
