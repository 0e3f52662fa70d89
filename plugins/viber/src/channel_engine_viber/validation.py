"""Validation of viber messages, before anything is queued.

The message's `content` (every key optional but what its kind needs; any other key is refused):

    {"text": "Your table is ready",                        # TEXT: required; IMAGE/VIDEO: a caption
     "imageUrl": "https://cdn.example.com/menu.jpg",       # an IMAGE message (.jpg/.jpeg/.png)
     "showImageInFullScreen": false,                       #   IMAGE: tapping opens the image, not the button
     "videoUrl": "https://cdn.example.com/tour.mp4",       # a VIDEO message, with
     "thumbnailUrl": "https://cdn.example.com/tour.jpg",   #   its thumbnail (required)
     "videoDuration": 42,                                  #   and length: seconds or ISO 8601 ("PT42S")
     "fileUrl": "https://cdn.example.com/menu.pdf",        # a FILE message, with
     "fileName": "menu.pdf",                               #   its name (required); no text, no button
     "button": {"title": "Book now", "url": "https://..."},# TEXT, IMAGE (needs text), VIDEO (url optional)
     "label": "PROMOTIONAL",                               # or TRANSACTIONAL (any case)
     "trackingData": "table-42",                           # comes back in the end user's reply
     "campaignReferenceId": "spring-menu",
     "smsFailover": {"text": "...", "sender": "Bistro", "validityPeriod": {"amount": 2, "timeUnit": "HOURS"}}}

The kind follows from the media key: `imageUrl` IMAGE, `videoUrl` VIDEO, `fileUrl` FILE, none TEXT; one
medium per message. The sender (Viber service name) is required.

Limits are the schema constraints of `POST /viber/2/messages` in Infobip's viber.json; where that operation
gives none, the same document's deprecated `/viber/1/message/*` operations (marked "v1" below) do.
"""

from __future__ import annotations

import re
from typing import Any

from channel_engine import OutboundMessage, Problem, problem
from channel_engine.checks import (
    VALIDITY_UNIT_SECONDS,
    check_callback_data,
    check_destination,
    check_keys,
    check_text,
    check_url,
    check_url_options,
    check_validity,
    check_validity_cap,
    is_int,
)

TEXT_MAX = 1000  # content.text maxLength (TEXT, IMAGE and VIDEO)
MEDIA_URL_MAX = 1000  # mediaUrl (IMAGE, VIDEO) and thumbnailUrl maxLength
FILE_URL_MAX = 2048  # the spec sets none for FILE; the engine's URL limit, as for tracking URLs
FILE_NAME_MAX = 25  # v1 FileContent.filename maxLength
BUTTON_TITLE_MAX = 30  # ButtonWithAction.title maxLength
BUTTON_URL_MAX = 1000  # ButtonWithAction.action maxLength
VIDEO_SECONDS_MAX = 600  # v1 VideoContent.mediaDuration maximum
SENDER_MIN, SENDER_MAX = 2, 20  # v1 "Registered Viber Sender name"
TRACKING_DATA_MAX = 100  # options.trackingData maxLength
CAMPAIGN_REFERENCE_MAX = 255  # options.campaignReferenceId maxLength
FAILOVER_TEXT_MAX = 4096  # v1 SmsFailover.text maxLength
FAILOVER_SENDER_MAX = 24  # v1 SmsFailover.from maxLength

LABELS = ("PROMOTIONAL", "TRANSACTIONAL")
CONTENT_KEYS = (
    "text", "imageUrl", "showImageInFullScreen", "videoUrl", "thumbnailUrl", "videoDuration", "fileUrl",
    "fileName", "button", "label", "trackingData", "campaignReferenceId", "smsFailover",
)  # fmt: skip
MEDIA_KINDS = {"imageUrl": "IMAGE", "videoUrl": "VIDEO", "fileUrl": "FILE"}
# Keys that belong to one medium: without it they would be dropped silently.
MEDIUM_OF = {"showImageInFullScreen": "imageUrl", "thumbnailUrl": "videoUrl", "videoDuration": "videoUrl",
             "fileName": "fileUrl"}  # fmt: skip
BUTTON_KEYS = ("title", "url")
FAILOVER_KEYS = ("text", "sender", "validityPeriod")

# The file types Infobip's FILE content accepts (its fileName pattern).
FILE_NAME = re.compile(r".*\.(docx?|dotx?|xlsx?|f?ods|f?odt|rtf|odf|txt|info|pdf|xps|pdax|eps|csv|xlsm|xltx)")
ISO_DURATION = re.compile(r"PT(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?")


def kind_of(content: dict[str, Any]) -> str:
    """TEXT, IMAGE, VIDEO or FILE: Infobip's content type, from the first media key present."""
    return next((kind for key, kind in MEDIA_KINDS.items() if key in content), "TEXT")


def validate(message: OutboundMessage) -> list[Problem]:
    """Every problem of a viber message, in field order; [] (or only warnings) when it may be sent."""
    problems = check_destination(message.destination)
    problems += _sender(message.sender)
    problems += _content(message.content)
    problems += check_url_options(message)
    problems += check_callback_data(message)
    problems += check_validity(message) or check_validity_cap(
        message.options.validity_period, "a Viber message"
    )
    return problems


def _sender(sender: str | None) -> list[Problem]:
    path = "$.sender"
    if sender is None or not sender.strip():
        return [
            problem(
                "invalid_sender",
                path,
                "sender is missing: a Viber message is sent from your registered Viber sender (service name)",
            )
        ]
    if not SENDER_MIN <= len(sender) <= SENDER_MAX or not sender.isprintable():
        return [
            problem(
                "invalid_sender",
                path,
                f"sender {sender!r} is not a Viber sender name: {SENDER_MIN} to {SENDER_MAX} characters "
                "on one line",
            )
        ]
    return []


def _content(content: dict[str, Any]) -> list[Problem]:
    problems = check_keys(content, CONTENT_KEYS, "$.content", "a Viber message's content")
    media = [key for key in MEDIA_KINDS if key in content]
    if len(media) > 1:
        problems.append(
            problem(
                "invalid_field",
                f"$.content.{media[1]}",
                f"content has both {media[0]} and {media[1]}: a Viber message carries one image, video or "
                "file; send the other as a message of its own",
            )
        )
    for key, medium in MEDIUM_OF.items():
        if key in content and medium not in content:
            problems.append(
                problem(
                    "invalid_field",
                    f"$.content.{key}",
                    f"content.{key} belongs to a {MEDIA_KINDS[medium].lower()} message: add content.{medium} "
                    f"or leave {key} out",
                )
            )
    kind = kind_of(content)
    problems += _BY_KIND[kind](content)
    if "label" in content:
        problems += _label(content["label"])
    for key, limit in (("trackingData", TRACKING_DATA_MAX), ("campaignReferenceId", CAMPAIGN_REFERENCE_MAX)):
        problems += check_text(
            content.get(key), f"$.content.{key}", limit=limit, code="invalid_field", required=False
        )
    if "smsFailover" in content:
        problems += _sms_failover(content["smsFailover"])
    return problems


def _text_message(content: dict[str, Any]) -> list[Problem]:
    if content.get("text") is None:
        problems = [
            problem(
                "invalid_text_length",
                "$.content.text",
                "content.text is missing: a Viber text message needs a text (or send an imageUrl, videoUrl "
                "or fileUrl)",
            )
        ]
    else:
        problems = _caption(content)
    return problems + _button(content, url_required=True)


def _image_message(content: dict[str, Any]) -> list[Problem]:
    problems = check_url(
        content["imageUrl"], "$.content.imageUrl", limit=MEDIA_URL_MAX, code="invalid_image_url_length"
    )
    if "button" in content and content.get("text") is None:
        problems.append(
            problem(
                "invalid_text_length",
                "$.content.text",
                "content.text is missing: Viber shows a button under an image only together with a text",
            )
        )
    problems += _caption(content)
    problems += _flag(content, "showImageInFullScreen")
    return problems + _button(content, url_required=True)


def _video_message(content: dict[str, Any]) -> list[Problem]:
    problems = check_url(content["videoUrl"], "$.content.videoUrl", limit=MEDIA_URL_MAX)
    problems += check_url(
        content.get("thumbnailUrl"),
        "$.content.thumbnailUrl",
        limit=MEDIA_URL_MAX,
        code="invalid_image_url_length",
        what="content.thumbnailUrl (the video's preview image)",
    )
    if video_duration(content.get("videoDuration")) is None:
        problems.append(
            problem(
                "missing_field" if content.get("videoDuration") is None else "invalid_field",
                "$.content.videoDuration",
                f"content.videoDuration must be the video's length: whole seconds from 1 to "
                f"{VIDEO_SECONDS_MAX}, or an ISO 8601 duration such as PT1M30S",
            )
        )
    # A video's button may have no URL: Viber then shows the title only.
    return problems + _caption(content) + _button(content, url_required=False)


def _file_message(content: dict[str, Any]) -> list[Problem]:
    problems = check_url(content["fileUrl"], "$.content.fileUrl", limit=FILE_URL_MAX)
    name = content.get("fileName")
    name_problems = check_text(name, "$.content.fileName", limit=FILE_NAME_MAX, code="invalid_field")
    problems += name_problems
    if not name_problems and not FILE_NAME.fullmatch(name):
        problems.append(
            problem(
                "invalid_field",
                "$.content.fileName",
                f"content.fileName {name!r} must end in a file type Viber delivers: .pdf, .doc(x), .xls(x), "
                ".csv, .txt, .rtf, .odt, .ods and a few more",
            )
        )
    for key in ("text", "button"):
        if key in content:
            problems.append(
                problem(
                    "invalid_field",
                    f"$.content.{key}",
                    f"a Viber file message has no {key}: send the {key} in a message of its own",
                )
            )
    return problems


_BY_KIND = {"TEXT": _text_message, "IMAGE": _image_message, "VIDEO": _video_message, "FILE": _file_message}


def _caption(content: dict[str, Any]) -> list[Problem]:
    return check_text(
        content.get("text"), "$.content.text", limit=TEXT_MAX, required=False, what="content.text"
    )


def _flag(content: dict[str, Any], key: str) -> list[Problem]:
    if key in content and not isinstance(content[key], bool):
        return [problem("invalid_field", f"$.content.{key}", f"content.{key} must be true or false")]
    return []


def _button(content: dict[str, Any], *, url_required: bool) -> list[Problem]:
    if "button" not in content:
        return []
    path = "$.content.button"
    button = content["button"]
    if not isinstance(button, dict):
        return [problem("invalid_field", path, 'content.button must be an object: {"title", "url"}')]
    problems = check_keys(button, BUTTON_KEYS, path, "content.button")
    problems += check_text(
        button.get("title"), f"{path}.title", limit=BUTTON_TITLE_MAX, code="invalid_button_text_length"
    )
    problems += check_url(
        button.get("url"),
        f"{path}.url",
        limit=BUTTON_URL_MAX,
        code="invalid_button_url_length",
        required=url_required,
    )
    return problems


def _label(label: Any) -> list[Problem]:
    if isinstance(label, str) and label.upper() in LABELS:
        return []
    return [
        problem(
            "invalid_promotional_flag",
            "$.content.label",
            f"content.label {label!r} is not PROMOTIONAL or TRANSACTIONAL",
        )
    ]


def _sms_failover(value: Any) -> list[Problem]:
    path = "$.content.smsFailover"
    if not isinstance(value, dict):
        return [problem("invalid_field", path, 'content.smsFailover must be an object: {"text": ...}')]
    problems = check_keys(value, FAILOVER_KEYS, path, "content.smsFailover")
    problems += check_text(
        value.get("text"),
        f"{path}.text",
        limit=FAILOVER_TEXT_MAX,
        what="content.smsFailover.text (the SMS sent when Viber cannot deliver)",
    )
    problems += check_text(
        value.get("sender"),
        f"{path}.sender",
        limit=FAILOVER_SENDER_MAX,
        code="invalid_sender",
        required=False,
    )
    if "validityPeriod" in value and failover_validity(value["validityPeriod"]) is None:
        problems.append(
            problem(
                "invalid_field",
                f"{path}.validityPeriod",
                'content.smsFailover.validityPeriod must be {"amount": a whole number of 1 or more, '
                '"timeUnit": SECONDS, MINUTES or HOURS}',
            )
        )
    return problems


def failover_validity(value: Any) -> dict[str, Any] | None:
    """The failover's validity period as Infobip takes it, or None when it is not one."""
    if not isinstance(value, dict) or set(value) - {"amount", "timeUnit"}:
        return None
    amount, unit = value.get("amount"), value.get("timeUnit", "MINUTES")
    if not is_int(amount) or amount < 1 or unit not in VALIDITY_UNIT_SECONDS:
        return None
    return {"amount": amount, "timeUnit": unit}


def video_duration(value: Any) -> str | None:
    """The duration as Infobip's ISO 8601 string, or None when it is not 1 to 600 seconds."""
    if is_int(value):
        seconds: float = value
        text = f"PT{value}S"
    elif isinstance(value, str) and (match := ISO_DURATION.fullmatch(value)):
        hours, minutes, secs = match.groups()
        seconds = int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(secs or 0)
        text = value
    else:
        return None
    return text if 0 < seconds <= VIDEO_SECONDS_MAX else None
