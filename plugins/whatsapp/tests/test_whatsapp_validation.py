"""Every validation rule of the whatsapp channel: the seeds' messageStatus texts word for word, the JSON path
of each problem, and warnings for options WhatsApp does not take."""

from __future__ import annotations

import pytest

from channel_engine_whatsapp.validation import validate

MISSING_PHONE = "Error: Missing phone number in request"
INVALID_TEMPLATE_NAME = "Error: Invalid template name"
INVALID_FROM = "Error: Invalid from field"
INVALID_TEXT_LENGTH = "Error: Invalid text length"


def problems(message):
    return [(p.code, p.path, p.status) for p in validate(message)]


def errors(message):
    return [(p.code, p.path) for p in validate(message) if p.severity == "error"]


def test_a_template_message_with_everything_passes(make_message, template):
    content = template(
        header={"type": "IMAGE", "mediaUrl": "https://bistro.example/img/table.jpg"},
        buttons=[
            {"type": "QUICK_REPLY", "parameter": "cancel-booking"},
            {"type": "URL", "parameter": "booking/7781"},
            {"type": "URL", "parameter": "menu"},
            {"type": "COPY_CODE", "parameter": "TABLE15"},
        ],
    )
    message = make_message(
        content=content,
        options={"urlOptions": {"customDomain": "go.bistro.example"}, "callbackData": "guest=7781"},
    )
    assert validate(message) == []


@pytest.mark.parametrize(
    "content",
    [
        {"type": "TEXT", "text": "Your table is ready: https://bistro.example/t/7", "previewUrl": True},
        {"type": "IMAGE", "mediaUrl": "https://bistro.example/menu.jpg", "caption": "Tonight's menu"},
        {"type": "VIDEO", "mediaUrl": "https://bistro.example/tour.mp4"},
        {
            "type": "DOCUMENT",
            "mediaUrl": "https://bistro.example/m.pdf",
            "filename": "menu.pdf",
            "caption": "x",
        },
        {"type": "AUDIO", "mediaUrl": "https://bistro.example/hello.ogg", "voice": True},
        {
            "type": "LOCATION",
            "latitude": 45.8131,
            "longitude": 15.977,
            "name": "Bistro Lipa",
            "address": "Ilica 1",
        },
        {"type": "TEXT", "text": "Yes, see you at 7.", "replyToMessageId": "wamid.HBgLMzg1OTE="},
    ],
    ids=lambda c: c["type"],
)
def test_every_free_form_type_passes(make_message, content):
    assert validate(make_message(content=content)) == []


def test_a_business_scoped_user_id_is_a_destination(make_message):
    assert validate(make_message(destination="US.1349120865530274191")) == []


@pytest.mark.parametrize("destination", [None, "", "   "])
def test_missing_destination(make_message, destination):
    assert problems(make_message(destination=destination)) == [
        ("missing_destination", "$.destination", MISSING_PHONE)
    ]


@pytest.mark.parametrize("destination", ["0981112233", "385-98-111", "us.123", "US."])
def test_invalid_destination(make_message, destination):
    assert errors(make_message(destination=destination)) == [("invalid_destination", "$.destination")]


@pytest.mark.parametrize("sender", [None, "", "BistroLipa", "12345", "+3859811122334455", "44 113 496 0000"])
def test_the_sender_is_a_registered_number(make_message, sender):
    fields = {} if sender is None else {"sender": sender}
    raw = make_message(**fields)
    if sender is None:
        raw.sender = None
    found = validate(raw)
    assert [(p.code, p.path, p.status) for p in found] == [("invalid_sender", "$.sender", INVALID_FROM)]
    assert ("missing" in found[0].message) is (not sender)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        (None, "missing"),
        ("", "1 to 512"),
        ("Table_Ready", "lowercase"),
        ("table-ready", "lowercase"),
        ("table ready", "lowercase"),
        ("a" * 513, "1 to 512"),
        (7, "must be text"),
    ],
)
def test_invalid_template_name(make_message, template, name, why):
    content = template(templateName=name)
    if name is None:
        del content["templateName"]
    found = validate(make_message(content=content))
    assert [(p.code, p.path, p.status) for p in found] == [
        ("invalid_template_name", "$.content.templateName", INVALID_TEMPLATE_NAME)
    ]
    assert why in found[0].message


def test_the_longest_template_name_passes(make_message, template):
    assert validate(make_message(content=template(templateName="a_1" * 170 + "ab"))) == []


@pytest.mark.parametrize(
    ("language", "code"),
    [
        (None, "missing_field"),
        ("en-GB", "invalid_field"),
        ("english", "invalid_field"),
        ("EN", "invalid_field"),
    ],
)
def test_the_language_is_a_whatsapp_code(make_message, template, language, code):
    content = template(language=language)
    if language is None:
        del content["language"]
    assert errors(make_message(content=content)) == [(code, "$.content.language")]


@pytest.mark.parametrize("language", ["en", "en_GB", "pt_BR", "fil"])
def test_language_codes_that_pass(make_message, template, language):
    assert validate(make_message(content=template(language=language))) == []


def test_every_placeholder_is_filled(make_message, template):
    found = validate(make_message(content=template(placeholders=["Ana", "", "  ", 18])))
    assert [(p.code, p.path, p.status) for p in found] == [
        ("invalid_text_length", "$.content.placeholders[1]", INVALID_TEXT_LENGTH),
        ("invalid_text_length", "$.content.placeholders[2]", INVALID_TEXT_LENGTH),
        ("invalid_field", "$.content.placeholders[3]", None),
    ]
    assert "placeholder {{2}}" in found[0].message


def test_placeholders_are_a_list(make_message, template):
    assert errors(make_message(content=template(placeholders="Ana"))) == [
        ("invalid_field", "$.content.placeholders")
    ]


def test_a_template_without_placeholders_passes(make_message, template):
    content = template()
    del content["placeholders"]
    assert validate(make_message(content=content)) == []


def test_a_placeholder_may_be_longer_when_the_body_is_all_the_template_has(make_message, template):
    long = "x" * 1025
    assert validate(make_message(content=template(placeholders=[long]))) == []
    assert validate(make_message(content=template(placeholders=["x" * 32768]))) == []
    with_header = template(placeholders=[long], header={"type": "TEXT", "placeholder": "Ana"})
    assert problems(make_message(content=with_header)) == [
        ("invalid_text_length", "$.content.placeholders[0]", INVALID_TEXT_LENGTH)
    ]
    with_button = template(placeholders=[long], buttons=[{"type": "QUICK_REPLY", "parameter": "ok"}])
    assert errors(make_message(content=with_button)) == [("invalid_text_length", "$.content.placeholders[0]")]
    assert errors(make_message(content=template(placeholders=["x" * 32769]))) == [
        ("invalid_text_length", "$.content.placeholders[0]")
    ]


@pytest.mark.parametrize(
    "header",
    [
        {"type": "TEXT", "placeholder": "Ana"},
        {"type": "TEXT", "placeholder": "x" * 60},
        {"type": "IMAGE", "mediaUrl": "https://bistro.example/a.jpg"},
        {"type": "VIDEO", "mediaUrl": "http://bistro.example/a.mp4"},
        {"type": "DOCUMENT", "mediaUrl": "https://bistro.example/a.pdf", "filename": "a.pdf"},
        {"type": "LOCATION", "latitude": -90, "longitude": 180.0},
    ],
    ids=lambda h: h["type"],
)
def test_every_header_type_passes(make_message, template, header):
    assert validate(make_message(content=template(header=header))) == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("IMAGE", [("invalid_field", "$.content.header")]),
        ({"mediaUrl": "https://a.example/x.jpg"}, [("missing_field", "$.content.header.type")]),
        (
            {"type": "GIF", "mediaUrl": "https://a.example/x.mp4"},
            [("invalid_field", "$.content.header.type")],
        ),
        ({"type": "TEXT"}, [("invalid_text_length", "$.content.header.placeholder")]),
        (
            {"type": "TEXT", "placeholder": "x" * 61},
            [("invalid_text_length", "$.content.header.placeholder")],
        ),
        ({"type": "TEXT", "placeholder": "Ana\nMaria"}, [("invalid_field", "$.content.header.placeholder")]),
        ({"type": "TEXT", "placeholder": "Ana\tMaria"}, [("invalid_field", "$.content.header.placeholder")]),
        (
            {"type": "TEXT", "placeholder": "Ana     Maria"},
            [("invalid_field", "$.content.header.placeholder")],
        ),
        ({"type": "IMAGE"}, [("missing_field", "$.content.header.mediaUrl")]),
        (
            {"type": "IMAGE", "mediaUrl": "ftp://a.example/x.jpg"},
            [("invalid_field", "$.content.header.mediaUrl")],
        ),
        (
            {"type": "IMAGE", "mediaUrl": "https://a.example/" + "x" * 2031},
            [("invalid_field", "$.content.header.mediaUrl")],
        ),
        (
            {"type": "IMAGE", "mediaUrl": "https://a.example/x.jpg", "caption": "hi"},
            [("invalid_field", "$.content.header.caption")],
        ),
        (
            {"type": "DOCUMENT", "mediaUrl": "https://a.example/x.pdf"},
            [("missing_field", "$.content.header.filename")],
        ),
        (
            {"type": "DOCUMENT", "mediaUrl": "https://a.example/x.pdf", "filename": "x" * 241},
            [("invalid_field", "$.content.header.filename")],
        ),
        (
            {"type": "LOCATION", "latitude": 91, "longitude": "15"},
            [("invalid_field", "$.content.header.latitude"), ("invalid_field", "$.content.header.longitude")],
        ),
        ({"type": "LOCATION", "latitude": 45.8}, [("missing_field", "$.content.header.longitude")]),
    ],
)
def test_header_problems(make_message, template, header, expected):
    assert errors(make_message(content=template(header=header))) == expected


def test_a_long_text_header_has_the_text_length_status(make_message, template):
    found = validate(make_message(content=template(header={"type": "TEXT", "placeholder": "x" * 61})))
    assert [p.status for p in found] == [INVALID_TEXT_LENGTH]
    assert "1 to 60 characters" in found[0].message


@pytest.mark.parametrize(
    ("buttons", "expected"),
    [
        ({"type": "URL"}, [("invalid_field", "$.content.buttons")]),
        ([{"type": "FLOW"}], [("invalid_field", "$.content.buttons[0].type")]),
        (["QUICK_REPLY"], [("invalid_field", "$.content.buttons[0]")]),
        ([{"type": "QUICK_REPLY"}], [("invalid_field", "$.content.buttons[0].parameter")]),
        (
            [{"type": "QUICK_REPLY", "parameter": "x" * 129}],
            [("invalid_field", "$.content.buttons[0].parameter")],
        ),
        (
            [{"type": "COPY_CODE", "parameter": "X" * 16}],
            [("invalid_field", "$.content.buttons[0].parameter")],
        ),
        ([{"type": "URL", "parameter": "  "}], [("invalid_field", "$.content.buttons[0].parameter")]),
        (
            [{"type": "URL", "parameter": "a", "text": "Open"}],
            [("invalid_field", "$.content.buttons[0].text")],
        ),
        (
            [
                {"type": "URL", "parameter": "a"},
                {"type": "URL", "parameter": "b"},
                {"type": "URL", "parameter": "c"},
            ],
            [("invalid_field", "$.content.buttons[2]")],
        ),
        (
            [{"type": "COPY_CODE", "parameter": "A1"}, {"type": "COPY_CODE", "parameter": "B2"}],
            [("invalid_field", "$.content.buttons[1]")],
        ),
        (
            [{"type": "QUICK_REPLY", "parameter": str(i)} for i in range(11)],
            [("invalid_field", "$.content.buttons")],
        ),
    ],
)
def test_button_problems(make_message, template, buttons, expected):
    assert errors(make_message(content=template(buttons=buttons))) == expected


def test_ten_buttons_and_the_longest_parameters_pass(make_message, template):
    buttons = [{"type": "QUICK_REPLY", "parameter": "q" * 128} for _ in range(7)]
    buttons += [{"type": "URL", "parameter": "u" * 2000}, {"type": "URL", "parameter": "v"}]
    buttons += [{"type": "COPY_CODE", "parameter": "C" * 15}]
    assert validate(make_message(content=template(buttons=buttons))) == []


def test_unknown_template_keys_are_refused(make_message, template):
    found = validate(make_message(content=template(templateId="123", text="hi")))
    assert [(p.code, p.path) for p in found] == [
        ("invalid_field", "$.content.templateId"),
        ("invalid_field", "$.content.text"),
    ]
    assert "templateName" in found[0].message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({}, [("missing_field", "$.content.type")]),
        ({"type": "STICKER", "mediaUrl": "https://a.example/s.webp"}, [("invalid_field", "$.content.type")]),
        ({"type": "text", "text": "hi"}, [("invalid_field", "$.content.type")]),
        ({"type": "TEXT", "text": "hi", "caption": "x"}, [("invalid_field", "$.content.caption")]),
        ({"type": "TEXT"}, [("invalid_text_length", "$.content.text")]),
        ({"type": "TEXT", "text": " "}, [("invalid_text_length", "$.content.text")]),
        ({"type": "TEXT", "text": "x" * 4097}, [("invalid_text_length", "$.content.text")]),
        ({"type": "TEXT", "text": "hi", "previewUrl": "yes"}, [("invalid_field", "$.content.previewUrl")]),
        (
            {"type": "TEXT", "text": "no link here", "previewUrl": True},
            [("invalid_field", "$.content.previewUrl")],
        ),
        ({"type": "IMAGE"}, [("missing_field", "$.content.mediaUrl")]),
        ({"type": "IMAGE", "mediaUrl": "bistro.example/a.jpg"}, [("invalid_field", "$.content.mediaUrl")]),
        (
            {"type": "IMAGE", "mediaUrl": "https://a.example/a.jpg", "caption": "x" * 3001},
            [("invalid_text_length", "$.content.caption")],
        ),
        (
            {"type": "DOCUMENT", "mediaUrl": "https://a.example/a.pdf", "filename": ""},
            [("invalid_field", "$.content.filename")],
        ),
        (
            {"type": "AUDIO", "mediaUrl": "https://a.example/a.ogg", "voice": 1},
            [("invalid_field", "$.content.voice")],
        ),
        (
            {"type": "VIDEO", "mediaUrl": "https://a.example/a.mp4", "voice": True},
            [("invalid_field", "$.content.voice")],
        ),
        ({"type": "LOCATION", "longitude": 15.9}, [("missing_field", "$.content.latitude")]),
        (
            {"type": "LOCATION", "latitude": 45.8, "longitude": 15.9, "name": "x" * 1001},
            [("invalid_text_length", "$.content.name")],
        ),
        (
            {"type": "LOCATION", "latitude": True, "longitude": 15.9},
            [("invalid_field", "$.content.latitude")],
        ),
        (
            {"type": "TEXT", "text": "hi", "replyToMessageId": ""},
            [("invalid_field", "$.content.replyToMessageId")],
        ),
        (
            {"type": "TEMPLATE", "templateName": "x", "language": "en", "replyToMessageId": "wamid.1"},
            [("invalid_field", "$.content.replyToMessageId")],
        ),
    ],
)
def test_free_form_and_type_problems(make_message, content, expected):
    assert errors(make_message(content=content)) == expected


def test_free_form_text_length_has_the_seed_status(make_message):
    found = validate(make_message(content={"type": "TEXT", "text": "x" * 4097}))
    assert [p.status for p in found] == [INVALID_TEXT_LENGTH]
    assert "4097" in found[0].message


def test_url_options_mistakes_have_the_seed_statuses(make_message):
    options = {
        "urlOptions": {"shortenUrl": False, "trackingUrl": "https://clicks.example/in", "trackClicks": False}
    }
    assert problems(make_message(options=options)) == [
        ("missing_track_clicks", "$.options.urlOptions.trackClicks", "Error: Missing trackClicks flag"),
    ]
    options = {"urlOptions": {"shortenUrl": False}}
    assert problems(make_message(options=options)) == [
        ("missing_shorten_url", "$.options.urlOptions.shortenUrl", "Error: Missing shortenUrl flag"),
    ]


def test_callback_data_over_the_limit(make_message):
    message = make_message()
    message.options.callback_data = "x" * 4001
    assert errors(message) == [("invalid_callback_data", "$.options.callbackData")]


def test_options_whatsapp_does_not_take_are_warnings(make_message):
    audio = {"type": "AUDIO", "mediaUrl": "https://a.example/a.ogg"}
    options = {"validityPeriod": {"amount": 2, "timeUnit": "HOURS"}, "bulkId": "spring", "urlOptions": {}}
    found = validate(make_message(content=audio, options=options))
    assert [(p.code, p.path, p.severity) for p in found] == [
        ("invalid_field", "$.options.urlOptions", "warning"),
        ("invalid_field", "$.options.validityPeriod", "warning"),
        ("invalid_field", "$.options.bulkId", "warning"),
    ]
    # A template takes a bulk ID and URL options: only the validity period is left out.
    found = validate(make_message(options=options))
    assert [(p.path, p.severity) for p in found] == [("$.options.validityPeriod", "warning")]


def test_problems_come_in_field_order(make_message, template):
    message = make_message(
        destination="", sender="Bistro", content=template(templateName="Bad Name", language="?")
    )
    assert [p.path for p in validate(message)] == [
        "$.destination",
        "$.sender",
        "$.content.templateName",
        "$.content.language",
    ]
