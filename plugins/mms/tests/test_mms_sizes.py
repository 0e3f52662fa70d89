"""The media size check (`check_message`), over real loopback HTTP: a small media server with files of known
sizes, some that hide their size from HEAD, one that ignores ranges, one that never answers; and once
through the engine's `POST /v1/messages/check`."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from channel_engine.testing.harness import run_engine
from channel_engine.testing.servers import serve_app
from channel_engine_mms import plugin
from channel_engine_mms.sizes import check_sizes

check_message = plugin.check_message

KB = 1000


class MediaServer:
    """Files of known sizes, each answering HEAD and GET in its own way; every request is logged."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str, str | None]] = []  # method, path, Range header
        self.release = asyncio.Event()  # lets /slow.jpg answer at last
        self.pair_arrived = 0
        self.pair_ready = asyncio.Event()
        self.app = Starlette(
            routes=[
                Route("/hero.jpg", self.plain(200 * KB, "image/jpeg"), methods=["GET", "HEAD"]),
                Route("/thumb.png", self.plain(20 * KB, "image/png"), methods=["GET", "HEAD"]),
                Route("/clip.mp4", self.ranged(150 * KB, "video/mp4"), methods=["GET", "HEAD"]),
                Route("/zero.gif", self.ranged(90 * KB, "image/gif", head_length=0), methods=["GET", "HEAD"]),
                Route("/menu.pdf", self.streamed(120 * KB), methods=["GET", "HEAD"]),
                Route("/huge.mp4", self.streamed(3_000 * KB), methods=["GET", "HEAD"]),
                Route("/unknown.mp3", self.unknown_total, methods=["GET", "HEAD"]),
                Route("/slow.jpg", self.slow, methods=["GET", "HEAD"]),
                Route("/pair/{name}", self.pair, methods=["GET", "HEAD"]),
            ]
        )

    def note(self, request: Request) -> None:
        self.log.append((request.method, request.url.path, request.headers.get("range")))

    def requests_for(self, path: str) -> list[tuple[str, str | None]]:
        return [(method, ranged) for method, at, ranged in self.log if at == path]

    def plain(self, size: int, media_type: str):
        async def answer(request: Request) -> Response:
            self.note(request)
            return Response(b"x" * size, media_type=media_type)  # Content-Length on HEAD and GET

        return answer

    def ranged(self, size: int, media_type: str, head_length: int | None = None):
        """HEAD tells no size (or a useless 0); a ranged GET answers 206 with the total in Content-Range."""

        async def answer(request: Request) -> Response:
            self.note(request)
            if request.method == "HEAD":
                if head_length is not None:
                    return Response(b"", media_type=media_type, headers={"content-length": str(head_length)})
                return StreamingResponse(_chunks(0), media_type=media_type)  # no Content-Length at all
            assert request.headers.get("range") == "bytes=0-0"
            return Response(
                b"x", status_code=206, media_type=media_type, headers={"content-range": f"bytes 0-0/{size}"}
            )

        return answer

    def streamed(self, size: int):
        """A server that ignores ranges and never says a length: the body must be counted."""

        async def answer(request: Request) -> Response:
            self.note(request)
            return StreamingResponse(
                _chunks(0 if request.method == "HEAD" else size), media_type="application/pdf"
            )

        return answer

    async def unknown_total(self, request: Request) -> Response:
        self.note(request)
        if request.method == "HEAD":
            return StreamingResponse(_chunks(0))
        return Response(b"x", status_code=206, headers={"content-range": "bytes 0-0/*"})

    async def slow(self, request: Request) -> Response:
        self.note(request)
        await self.release.wait()
        return Response(b"x", media_type="image/jpeg")

    async def pair(self, request: Request) -> Response:
        """Answers only once both /pair/ URLs are being asked: proves the URLs are asked concurrently."""
        self.note(request)
        if request.method == "HEAD":
            self.pair_arrived += 1
            if self.pair_arrived == 2:
                self.pair_ready.set()
            await self.pair_ready.wait()
        return Response(b"x" * 10 * KB, media_type="image/png")


async def _chunks(size: int, chunk: int = 16 * KB) -> AsyncIterator[bytes]:
    for start in range(0, size, chunk):
        yield b"x" * min(chunk, size - start)


@pytest.fixture
async def media():
    server = MediaServer()
    async with serve_app(server.app) as url:
        server.url = url
        try:
            yield server
        finally:
            server.release.set()


def content(*urls: str, kinds: tuple[str, ...] = (), text: str = "") -> dict:
    segments = [{"type": kinds[i] if i < len(kinds) else "image", "url": url} for i, url in enumerate(urls)]
    if text:
        segments.append({"type": "text", "text": text})
    return {"title": "Spring menu", "segments": segments}


async def test_media_within_300_kb_get_no_warning(media):
    assert await check_sizes(content(f"{media.url}/hero.jpg", f"{media.url}/thumb.png", text="hi")) == []
    assert media.requests_for("/hero.jpg") == [("HEAD", None)]  # HEAD told the size: nothing downloaded


async def test_a_total_over_300_kb_names_each_segment_and_the_us_limit(media):
    found = await check_sizes(
        content(f"{media.url}/hero.jpg", f"{media.url}/clip.mp4", kinds=("image", "video"), text="Book now")
    )
    (warning,) = found
    assert (warning.code, warning.path, warning.severity, warning.status) == (
        "media_too_large",
        "$.content.segments",
        "warning",
        None,
    )
    total = 200 * KB + 150 * KB + len("Book now") + len("Spring menu")
    assert warning.message.startswith(
        f"the MMS adds up to {total / KB:,.1f} KB (segments[0] image 200.0 KB, segments[1] video 150.0 KB, "
        "text and title 19 bytes): more than the 300 KB every operator carries; most US and Canadian "
        "carriers take up to 1 MB"
    )
    # The clip hid its size from HEAD: one ranged GET of its first byte told it.
    assert media.requests_for("/clip.mp4") == [("HEAD", None), ("GET", "bytes=0-0")]


async def test_a_content_length_of_zero_on_head_is_not_believed(media):
    (warning,) = await check_sizes(
        content(f"{media.url}/hero.jpg", f"{media.url}/zero.gif", f"{media.url}/thumb.png")
    )
    assert "segments[1] image 90.0 KB" in warning.message
    assert media.requests_for("/zero.gif") == [("HEAD", None), ("GET", "bytes=0-0")]


async def test_a_server_that_ignores_ranges_and_hides_lengths_is_counted(media):
    (warning,) = await check_sizes(
        content(f"{media.url}/hero.jpg", f"{media.url}/menu.pdf", kinds=("image", "file"))
    )
    assert "segments[1] file 120.0 KB" in warning.message
    assert "320.0 KB" in warning.message


async def test_over_1_mb_even_us_and_canadian_carriers_refuse(media):
    (warning,) = await check_sizes(content(f"{media.url}/huge.mp4", kinds=("video",)))
    assert warning.code == "media_too_large"
    # Counting stopped just past 1 MB.
    assert warning.message.startswith("the MMS adds up to more than 1 MB (segments[0] video more than 1 MB, ")
    assert "more than the 1 MB most US and Canadian carriers take" in warning.message


async def test_unreachable_media_are_named_each_with_its_reason(media):
    with socket.socket() as closed:  # a port nobody listens on: bound, never listening
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}/a.jpg"
        found = await check_sizes(
            content(
                f"{media.url}/gone.png?X-Amz-Signature=s3cr3t",
                nowhere,
                f"{media.url}/slow.jpg",
                f"{media.url}/thumb.png",
            ),
            timeout=0.5,
        )
    assert [(p.code, p.path, p.severity) for p in found] == [
        ("media_unreachable", "$.content.segments[0].url", "warning"),
        ("media_unreachable", "$.content.segments[1].url", "warning"),
        ("media_unreachable", "$.content.segments[2].url", "warning"),
    ]
    gone, refused, slow = (p.message for p in found)
    assert gone == (  # a signed URL's query is left out of the sentence
        f"segments[0] (image) {media.url}/gone.png answered HTTP 404: Infobip fetches the media when the "
        "message is sent, and may fail the same way"
    )
    assert "could not be fetched (ConnectError)" in refused
    assert "did not answer within 0.5 seconds" in slow


async def test_a_size_nobody_tells_is_a_warning_too(media):
    (found,) = await check_sizes(content(f"{media.url}/unknown.mp3", kinds=("audio",)))
    assert (found.code, found.path) == ("media_unreachable", "$.content.segments[0].url")
    assert "would not tell its size" in found.message


async def test_urls_are_asked_concurrently(media):
    """Each /pair/ URL answers only while the other is asked too: asked one by one, both would time out."""
    assert await check_sizes(content(f"{media.url}/pair/a.png", f"{media.url}/pair/b.png"), timeout=5) == []
    assert media.pair_arrived == 2


async def test_only_well_formed_media_urls_are_asked(media):
    odd = {
        "segments": [
            {"type": "text", "text": f"{media.url}/hero.jpg"},  # a link in a text is not media
            {"type": "image", "url": "ftp://cdn.example.com/a.jpg"},
            {"type": "image"},
            "not a segment",
        ]
    }
    assert await check_sizes(odd) == []
    assert await check_sizes({"segments": "none"}) == []
    assert media.log == []


async def test_the_hook_answers_for_mms_only(media, make_message):
    message = make_message(content=content(f"{media.url}/hero.jpg", f"{media.url}/clip.mp4"))
    (warning,) = await check_message(message)
    assert warning.code == "media_too_large"
    assert check_message(make_message(channel="sms")) is None


async def test_through_the_engines_check_endpoint(media, tmp_path):
    message = {
        "channel": "mms",
        "destination": "14155550123",
        "content": content(f"{media.url}/hero.jpg", f"{media.url}/menu.pdf", f"{media.url}/gone.png",
                           kinds=("image", "file", "image")),
    }  # fmt: skip
    async with run_engine(tmp_path) as h:
        single = await h.http.post("/v1/messages/check", json=message)
        assert single.status_code == 200, single.text
        (verdict,) = single.json()["messages"]
        assert verdict["valid"] is True  # warnings never refuse
        assert [(p["code"], p["path"], p["severity"]) for p in verdict["problems"]] == [
            ("media_unreachable", "$.content.segments[2].url", "warning"),
            ("media_too_large", "$.content.segments", "warning"),
        ]
        assert "segments[1] file 120.0 KB" in verdict["problems"][1]["message"]

        batch = await h.http.post(
            "/v1/messages/check",
            json={
                "messages": [
                    {**message, "destination": ""},
                    {**message, "content": content(f"{media.url}/thumb.png")},
                ]
            },
        )
        refused, fine = batch.json()["messages"]
        assert refused["valid"] is False
        assert [p["path"] for p in refused["problems"]] == [
            "$.messages[0].destination",
            "$.messages[0].content.segments[2].url",
            "$.messages[0].content.segments",
        ]
        assert refused["problems"][0]["status"] == "Error: Missing phone number in request"
        assert fine == {"index": 1, "valid": True, "problems": []}
        assert (await h.engine.store.stats()).get("queued", 0) == 0  # a check stores nothing
