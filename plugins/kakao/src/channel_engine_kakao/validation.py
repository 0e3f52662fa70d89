"""Checks a kakao-alim or kakao-chingu message before the engine accepts it.

Both channels need `destination` (an international phone number; Korean numbers are usual, the spec
refuses no country) and `sender`: the sender key of your KakaoTalk channel, as Infobip registered it.

`content` of a **kakao-alim** message (AlimTalk: a notification from a template registered with Kakao):

    {
      "templateCode": "ORDER_SHIPPED_01",   # required: 1-30 characters, the registered template's code
      "text": "Order 1042 has shipped.",    # required: 1-1000 characters, as registered (variables filled in)
      "title": "Order shipped",             # optional: 1-50 characters (the template's emphasized title)
      "buttons": [                          # optional: at most 5 (buttons.py: the seven types)
        {"type": "DELIVERY_TRACKING", "name": "Track parcel"},
        {"type": "URL", "name": "Order details", "urlMobile": "https://m.shop.example/o/1042"}
      ],
      "groupKey": "...",                    # optional: Infobip's group key
      "campaignReferenceId": "spring-25",   # optional: <= 255 characters
      "smsFailover": {"text": "..."}        # optional: failover.py
    }

The template's image is part of its registration at Kakao: the send API takes no image, so `image` is
refused here with that reason.

`content` of a **kakao-chingu** message (ChinguTalk / brand message, free form):

    {
      "text": "Spring sale: 20% off all beans",      # required: 1-1300 characters
      "image": {"url": "https://cdn.shop.example/spring.jpg",   # optional; url required in it: http(s),
                "link": "https://shop.example/spring"},          #   <= 250 characters; link the same
      "buttons": [                                   # optional: at most 5, URL (web link) or APP_LINK
        {"type": "APP_LINK", "name": "Open app", "schemeAndroid": "shop://sale", "schemeIos": "shop://sale"}
      ],
      "targeting": "TARGETED_FRIENDS",               # optional: ALL_CONSENT, NON_FRIENDS or TARGETED_FRIENDS
      "campaignReferenceId": "spring-25",
      "smsFailover": {"text": "..."}
    }

With an image the message is Infobip's IMAGE_FREE_FORM, without one TEXT_FREE_FORM. Any other content key is
refused, so a misspelt field never silently drops out of the request. Limits are the spec's (kakao.json);
each problem names the JSON path and carries the SFMC messageStatus text of its code where the seeds have one.
"""

from __future__ import annotations

from typing import Any

from channel_engine import OutboundMessage, Problem, problem
from channel_engine.checks import (
    check_callback_data,
    check_destination,
    check_keys,
    check_text,
    check_url,
    check_url_options,
    check_validity,
    check_validity_cap,
)

from .buttons import check_buttons
from .channels import ALIM, CHINGU
from .failover import check_failover

TEMPLATE_CODE_MAX = 30  # KakaoAlimOutboundTemplateContent.templateCode maxLength
ALIM_TEXT_MAX = 1000  # KakaoAlimOutboundTemplateContent.text maxLength
ALIM_TITLE_MAX = 50  # KakaoAlimOutboundTemplateContent.title maxLength
CHINGU_TEXT_MAX = 1300  # KakaoChinguOutboundTextFreeFormContent / ImageFreeFormContent.text maxLength
IMAGE_URL_MAX = 250  # Image.url and Image.link maxLength
CAMPAIGN_REFERENCE_MAX = 255  # options.campaignReferenceId maxLength
TARGETING = ("ALL_CONSENT", "NON_FRIENDS", "TARGETED_FRIENDS")  # KakaoTargeting enum

COMMON_KEYS = ("text", "buttons", "campaignReferenceId", "smsFailover")
CONTENT_KEYS = {
    ALIM.name: ("templateCode", "title", *COMMON_KEYS, "groupKey"),
    CHINGU.name: (*COMMON_KEYS, "image", "targeting"),
}
IMAGE_KEYS = ("url", "link")
TEXT_MAX = {ALIM.name: ALIM_TEXT_MAX, CHINGU.name: CHINGU_TEXT_MAX}


def validate(message: OutboundMessage) -> list[Problem]:
    """Every problem of a Kakao message, in field order; [] when it may be sent (warnings do not refuse)."""
    channel = message.channel
    problems = check_destination(message.destination)
    problems += _sender(message.sender)
    problems += _content(channel, message.content)
    if channel == CHINGU.name:
        problems += check_url_options(message)
    elif message.options.url_options is not None:
        problems.append(
            problem(
                "invalid_field",
                "$.options.urlOptions",
                "kakao-alim cannot shorten or track URLs: Infobip's AlimTalk API has no tracking options, "
                "and the text must match the registered template; leave urlOptions out",
            )
        )
    problems += check_callback_data(message)
    problems += check_validity(message) or check_validity_cap(
        message.options.validity_period, "a Kakao message"
    )
    return problems


def _sender(sender: str | None) -> list[Problem]:
    path = "$.sender"
    if sender is None or not sender.strip():
        reason = "missing" if sender is None else "blank"
        return [
            problem(
                "invalid_sender",
                path,
                f"sender is {reason}: a Kakao message is sent from your KakaoTalk channel, named by the "
                "sender key Infobip registered for it",
            )
        ]
    if any(ch.isspace() or not ch.isprintable() for ch in sender):
        return [
            problem(
                "invalid_sender",
                path,
                f"sender {sender!r} is not a sender key: a key is one word, without spaces or line breaks",
            )
        ]
    return []


def _content(channel: str, content: dict[str, Any]) -> list[Problem]:
    known = CONTENT_KEYS[channel]
    problems = [
        problem("invalid_field", f"$.content.{key}", _unknown_key_sentence(channel, key, known))
        for key in content
        if key not in known
    ]
    if channel == ALIM.name:
        problems += check_text(
            content.get("templateCode"),
            "$.content.templateCode",
            limit=TEMPLATE_CODE_MAX,
            code="invalid_template_name",
        )
    problems += check_text(content.get("text"), "$.content.text", limit=TEXT_MAX[channel])
    if channel == ALIM.name:
        problems += check_text(
            content.get("title"),
            "$.content.title",
            limit=ALIM_TITLE_MAX,
            code="invalid_title_length",
            required=False,
        )
    else:
        problems += _image(content.get("image"))
    problems += check_buttons(channel, content.get("buttons"))
    if channel == ALIM.name and content.get("groupKey") is not None:
        group_key = content["groupKey"]
        if not isinstance(group_key, str) or not group_key.strip():
            problems.append(problem("invalid_field", "$.content.groupKey", "content.groupKey must be text"))
    if (
        channel == CHINGU.name
        and content.get("targeting") is not None
        and content["targeting"] not in TARGETING
    ):
        problems.append(
            problem(
                "invalid_field",
                "$.content.targeting",
                f"content.targeting {content['targeting']!r} is not one of {', '.join(TARGETING)}",
            )
        )
    problems += check_text(
        content.get("campaignReferenceId"),
        "$.content.campaignReferenceId",
        limit=CAMPAIGN_REFERENCE_MAX,
        code="invalid_field",
        required=False,
    )
    problems += check_failover(content.get("smsFailover"))
    return problems


def _unknown_key_sentence(channel: str, key: str, known: tuple[str, ...]) -> str:
    if key == "image" and channel == ALIM.name:
        return (
            "content.image is not sent with an AlimTalk message: the image is part of the template "
            "registered at Kakao, and Infobip's AlimTalk API takes none"
        )
    if key == "type":
        return (
            "content.type is chosen by the engine: TEMPLATE for kakao-alim; IMAGE_FREE_FORM (with an image) "
            "or TEXT_FREE_FORM for kakao-chingu"
        )
    return f"content has no field {key!r} on the {channel} channel; its fields are {', '.join(known)}"


def _image(image: Any) -> list[Problem]:
    path = "$.content.image"
    if image is None:
        return []
    if not isinstance(image, dict):
        return [problem("invalid_field", path, 'content.image must be an object: {"url": ..., "link": ...}')]
    problems = check_keys(image, IMAGE_KEYS, path, "content.image")
    problems += check_url(
        image.get("url"), f"{path}.url", limit=IMAGE_URL_MAX, code="invalid_image_url_length"
    )
    problems += check_url(
        image.get("link"),
        f"{path}.link",
        limit=IMAGE_URL_MAX,
        code="invalid_image_url_length",
        required=False,
    )
    return problems
