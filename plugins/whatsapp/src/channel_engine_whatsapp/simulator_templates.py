"""The simulator's WhatsApp management APIs: a sender's template list and the senders' quality.

    GET /whatsapp/2/senders/{sender}/templates   -> TemplatesApiResponse (a fixed catalog, for any sender)
    GET /whatsapp/1/senders/quality?senders=a,b  -> WhatsAppSenderQualityResponse

The catalog has an approved template of every shape a host must be able to fill (a text header with a
placeholder, image, video, document and location headers, dynamic and static URL buttons, quick replies,
a copy-code button, a phone-number button, an authentication code), in several categories and languages,
plus templates that are not approved (PENDING, REJECTED), which hosts must not offer.

Sender quality: every sender is CONNECTED, except a number ending in 991 (DISCONNECTED) or 992 (FLAGGED),
so a setup wizard can be shown refusing or warning about a sender.

The simulator checks the `App <key>` header before these run. Imported when the simulator asks, not when the
plugin loads.
"""

from __future__ import annotations

import copy
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TEMPLATES_PATH = "/whatsapp/2/senders/{sender}/templates"
QUALITY_PATH = "/whatsapp/1/senders/quality"
QUALITY_MAX_SENDERS = 100  # the `senders` parameter's maxItems
DISCONNECTED_SUFFIX = "991"
FLAGGED_SUFFIX = "992"
BUSINESS_ACCOUNT_ID = 1093541842291743
CREATED_AT = "2025-01-20T09:15:00.000+0000"
UPDATED_AT = "2025-02-03T14:40:12.000+0000"
QUALITY_UPDATED = "2025-03-01T08:00:00.000Z"


def _template(
    number: int,
    name: str,
    language: str,
    category: str,
    structure: dict[str, Any],
    status: str = "APPROVED",
    quality: str = "HIGH",
) -> dict[str, Any]:
    kind = "MEDIA" if "header" in structure else "TEXT"  # as the spec's examples write `structure.type`
    return {
        "id": str(3_340_000_000 + number),
        "businessAccountId": BUSINESS_ACCOUNT_ID,
        "name": name,
        "language": language,
        "status": status,
        "category": category,
        "structure": {**structure, "type": kind},
        "quality": quality,
        "createdAt": CREATED_AT,
        "lastUpdatedAt": UPDATED_AT,
    }


CATALOG: list[dict[str, Any]] = [
    _template(
        1,
        "order_shipped",
        "en_GB",
        "UTILITY",
        {
            "header": {"format": "TEXT", "text": "Order {{1}} is on its way"},
            "body": {"text": "Hi {{1}}, your order {{2}} left our warehouse and arrives on {{3}}."},
            "footer": {"text": "Northwind Outfitters"},
            "buttons": [
                {"type": "URL", "text": "Track parcel", "url": "https://shop.example.com/track/{{1}}"},
                {"type": "URL", "text": "Help centre", "url": "https://shop.example.com/help"},
            ],
        },
    ),
    _template(
        2,
        "order_shipped",
        "es",
        "UTILITY",
        {
            "header": {"format": "TEXT", "text": "Tu pedido {{1}} va en camino"},
            "body": {"text": "Hola {{1}}, tu pedido {{2}} salió del almacén y llega el {{3}}."},
            "footer": {"text": "Northwind Outfitters"},
            "buttons": [
                {"type": "URL", "text": "Seguir envío", "url": "https://shop.example.com/track/{{1}}"},
                {"type": "URL", "text": "Ayuda", "url": "https://shop.example.com/help"},
            ],
        },
    ),
    _template(
        3,
        "spring_sale",
        "en",
        "MARKETING",
        {
            "header": {"format": "IMAGE"},
            "body": {"text": "Hi {{1}}, our spring sale is on: {{2}} off everything until Sunday."},
            "footer": {"text": "Reply STOP to opt out"},
            "buttons": [
                {"type": "QUICK_REPLY", "text": "Show me deals"},
                {"type": "QUICK_REPLY", "text": "Stop promotions"},
            ],
        },
        quality="MEDIUM",
    ),
    _template(
        4,
        "new_collection_video",
        "en",
        "MARKETING",
        {
            "header": {"format": "VIDEO"},
            "body": {"text": "{{1}}, take a look at this season's collection."},
            "buttons": [{"type": "PHONE_NUMBER", "text": "Call the store", "phoneNumber": "+441134960000"}],
        },
    ),
    _template(
        5,
        "invoice_ready",
        "en_GB",
        "UTILITY",
        {
            "header": {"format": "DOCUMENT"},
            "body": {"text": "Hello {{1}}, invoice {{2}} for {{3}} is attached."},
            "footer": {"text": "Questions? Just reply to this message."},
        },
    ),
    _template(
        6,
        "store_directions",
        "en",
        "UTILITY",
        {
            "header": {"format": "LOCATION"},
            "body": {"text": "Your order is ready for pickup at our {{1}} store."},
        },
    ),
    _template(
        7,
        "loyalty_coupon",
        "en",
        "MARKETING",
        {
            "body": {"text": "Thanks for being with us, {{1}}! Here is a coupon for your next order."},
            "buttons": [
                {"type": "COPY_CODE", "text": "Copy offer code"},
                {"type": "URL", "text": "Shop now", "url": "https://shop.example.com/offers?c={{1}}"},
            ],
        },
    ),
    _template(
        8,
        "support_follow_up",
        "en",
        "UTILITY",
        {
            "body": {"text": "Hi {{1}}, did we solve your issue with case {{2}}?"},
            "buttons": [
                {"type": "QUICK_REPLY", "text": "Yes, thanks"},
                {"type": "QUICK_REPLY", "text": "No, call me"},
                {"type": "QUICK_REPLY", "text": "Talk to an agent"},
            ],
        },
    ),
    _template(
        9,
        "verification_code",
        "en",
        "AUTHENTICATION",
        {
            "body": {"text": "{{1}} is your verification code. For your security, do not share this code."},
            "footer": {"text": "This code expires in 10 minutes."},
            "buttons": [
                {
                    "type": "URL",
                    "text": "Copy code",
                    "url": "https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code=otp{{1}}",
                }
            ],
        },
    ),
    _template(
        10,
        "welcome_message",
        "de",
        "MARKETING",
        {"body": {"text": "Willkommen, {{1}}! Schön, dass Sie da sind."}},
    ),
    _template(
        11,
        "winter_clearance",
        "en",
        "MARKETING",
        {"header": {"format": "IMAGE"}, "body": {"text": "{{1}}, everything must go: up to 70% off."}},
        status="PENDING",
        quality="UNKNOWN",
    ),
    _template(
        12,
        "final_notice",
        "en",
        "UTILITY",
        {"body": {"text": "Pay {{1}} now or your account is closed."}},
        status="REJECTED",
        quality="UNKNOWN",
    ),
]


def catalog() -> list[dict[str, Any]]:
    """The templates every sender has (a copy: callers may change it)."""
    return copy.deepcopy(CATALOG)


def routes() -> list[Route]:
    return [
        Route(TEMPLATES_PATH, _templates, methods=["GET"]),
        Route(QUALITY_PATH, _quality, methods=["GET"]),
    ]


async def _templates(request: Request) -> Response:
    return JSONResponse({"templates": catalog()})


def _bad_request() -> Response:
    """Infobip's 400 of this API (an `ApiException`, not the newer `ApiError`)."""
    body = {"requestError": {"serviceException": {"messageId": "BAD_REQUEST", "text": "Bad request"}}}
    return JSONResponse(body, status_code=400)


def sender_quality(sender: str) -> dict[str, Any]:
    """One sender's quality entry: CONNECTED, unless its number ends in 991 or 992."""
    if sender.endswith(DISCONNECTED_SUFFIX):
        rating, status, limit = "UNKNOWN", "DISCONNECTED", "LIMIT_NA"
    elif sender.endswith(FLAGGED_SUFFIX):
        rating, status, limit = "LOW", "FLAGGED", "LIMIT_2K"
    else:
        rating, status, limit = "HIGH", "CONNECTED", "LIMIT_100K"
    return {
        "sender": sender,
        "qualityRating": rating,
        "status": status,
        "currentLimit": limit,
        "lastUpdated": QUALITY_UPDATED,
    }


async def _quality(request: Request) -> Response:
    # The spec's `senders` is a form-style array: comma-separated, or the parameter repeated.
    senders = [s.strip() for v in request.query_params.getlist("senders") for s in v.split(",") if s.strip()]
    if not senders or len(senders) > QUALITY_MAX_SENDERS:
        return _bad_request()
    unique = list(dict.fromkeys(senders))
    return JSONResponse({"results": [sender_quality(s) for s in unique]})
