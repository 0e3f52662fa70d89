"""The `check_message` hook asks each media URL with HEAD, as Infobip does, and warns (never refuses) about
what Viber would not take. A small ASGI app on loopback plays the media server."""

from __future__ import annotations

from typing import Any

import pytest

from channel_engine.plugins import get_plugin_manager
from channel_engine.testing.servers import serve_app
from channel_engine_viber import plugin

check_message = plugin.check_message


# path -> (status, headers) of the HEAD answer
MEDIA = {
    "/dish.jpg": (200, {"content-type": "image/jpeg"}),
    "/dish.png": (200, {"content-type": "image/png; charset=binary"}),
    "/dish.gif": (200, {"content-type": "image/gif"}),
    "/tour.mp4": (200, {"content-type": "video/mp4", "content-length": str(40 * 1024 * 1024)}),
    "/long.mp4": (200, {"content-type": "video/mp4", "content-length": str(201 * 1024 * 1024)}),
    "/menu.pdf": (200, {"content-type": "application/pdf", "content-length": "48213"}),
    "/empty.pdf": (200, {"content-type": "application/pdf", "content-length": "0"}),
    "/streamed.mp4": (200, {"content-type": "video/mp4"}),
}


async def media_server(scope: dict[str, Any], receive: Any, send: Any) -> None:
    status, headers = MEDIA.get(scope["path"], (404, {}))
    if scope["method"] != "HEAD":
        status = 405
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    if "content-length" not in headers:
        raw.append((b"transfer-encoding", b"chunked"))  # no size told, as a streaming server answers
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": b""})


@pytest.fixture
async def media():
    async with serve_app(media_server, lifespan="off") as url:
        yield url


async def warnings(make_message, **content):
    problems = await check_message(make_message(content=content))
    assert all(p.severity == "warning" for p in problems)
    return [(p.code, p.path) for p in problems]


async def test_good_media_get_no_warning(make_message, media):
    assert await warnings(make_message, imageUrl=f"{media}/dish.jpg") == []
    assert await warnings(make_message, imageUrl=f"{media}/dish.png", text="New") == []
    video = {"videoUrl": f"{media}/tour.mp4", "thumbnailUrl": f"{media}/dish.jpg", "videoDuration": 30}
    assert await warnings(make_message, **video) == []
    assert await warnings(make_message, fileUrl=f"{media}/menu.pdf", fileName="menu.pdf") == []


async def test_a_text_message_asks_nothing(make_message):
    assert await check_message(make_message()) == []


async def test_what_viber_would_not_take(make_message, media):
    video = {"videoUrl": f"{media}/long.mp4", "thumbnailUrl": f"{media}/dish.gif", "videoDuration": 30}
    problems = await check_message(make_message(content=video))
    assert [(p.code, p.path) for p in problems] == [
        ("invalid_field", "$.content.thumbnailUrl"),
        ("media_too_large", "$.content.videoUrl"),
    ]
    assert "image/gif" in problems[0].message and "JPEG and PNG" in problems[0].message
    assert "201 MB" in problems[1].message and "200 MB" in problems[1].message


@pytest.mark.parametrize(
    ("content", "path", "words"),
    [
        ({"imageUrl": "/missing.jpg"}, "$.content.imageUrl", "answered HTTP 404"),
        ({"fileUrl": "/empty.pdf", "fileName": "empty.pdf"}, "$.content.fileUrl", "without a Content-Length"),
        ({"videoUrl": "/streamed.mp4", "thumbnailUrl": "/dish.jpg", "videoDuration": 5}, "$.content.videoUrl",
         "without a Content-Length"),
    ],
)  # fmt: skip
async def test_unreachable_or_unsized_media(make_message, media, content, path, words):
    content = {k: f"{media}{v}" if str(v).startswith("/") else v for k, v in content.items()}
    problems = await check_message(make_message(content=content))
    assert [(p.code, p.path) for p in problems] == [("media_unreachable", path)]
    assert words in problems[0].message


async def test_a_server_that_does_not_answer(make_message, media):
    async with serve_app(media_server, lifespan="off") as gone:
        pass  # the port is closed again: nothing listens there now
    problems = await check_message(make_message(content={"imageUrl": f"{gone}/dish.jpg"}))
    assert [(p.code, p.path) for p in problems] == [("media_unreachable", "$.content.imageUrl")]
    assert "could not be reached" in problems[0].message


def test_the_hook_answers_for_viber_only(make_message):
    plugins = get_plugin_manager()
    assert check_message(make_message(channel="sms")) is None
    answers = [a for a in plugins.hook.check_message(message=make_message()) if a is not None]
    assert len(answers) == 1
    answers[0].close()  # not awaited: the coroutine is only counted


async def test_the_check_endpoint_reports_the_warnings_and_stores_nothing(engine_harness, media):
    h = engine_harness
    message = {
        "channel": "viber",
        "destination": "385981112233",
        "sender": "BistroLipa",
        "content": {"fileUrl": f"{media}/gone.pdf", "fileName": "menu.pdf"},
    }
    answer = await h.http.post("/v1/messages/check", json={"messages": [message]})
    assert answer.status_code == 200
    (entry,) = answer.json()["messages"]
    assert entry["valid"] is True
    assert [(p["code"], p["path"], p["severity"]) for p in entry["problems"]] == [
        ("media_unreachable", "$.messages[0].content.fileUrl", "warning")
    ]
    assert h.simulator.stats()["accepted"] == 0
