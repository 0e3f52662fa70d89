"""The media behind a Viber message's URLs: the `check_message` hook, run by `POST /v1/messages/check`, never
when sending.

Each URL (`imageUrl`, `videoUrl`, `thumbnailUrl`, `fileUrl`) is asked with one `HEAD`, all concurrently,
within `TIMEOUT` seconds: Infobip's spec says a video "must allow HEAD request with 'Content-Length'
header", and caps videos and files at 200 MB. Warnings, never refusals:

- `media_unreachable`: no answer, an HTTP error, or (video, file) no Content-Length (or 0);
- `media_too_large`: a video or file over 200 MB;
- `invalid_field`: an image or thumbnail whose Content-Type is not JPEG or PNG, the only image types Viber
  takes.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from channel_engine import OutboundMessage, Problem, warning

TIMEOUT = 5.0  # seconds for each URL
MAX_BYTES = 200 * 1024 * 1024  # "Maximum video size is 200 MB" / "Maximum file size is 200 MB"
IMAGE_TYPES = ("image/jpeg", "image/png")  # "Supported image types are .jpg, .jpeg, .png"
SIZED = ("videoUrl", "fileUrl")  # Infobip needs their Content-Length
IMAGES = ("imageUrl", "thumbnailUrl")


async def check_media(message: OutboundMessage, *, timeout: float = TIMEOUT) -> list[Problem]:
    """Warnings for the media of one viber message, validated or not: only http(s) URLs are asked."""
    urls = [
        (key, value)
        for key in (*IMAGES, *SIZED)
        if isinstance(value := message.content.get(key), str) and value.startswith(("https://", "http://"))
    ]
    if not urls:
        return []
    async with httpx.AsyncClient(follow_redirects=True, timeout=timeout) as client:
        answers = await asyncio.gather(*(_head(client, url) for _, url in urls))
    problems: list[Problem] = []
    for (key, url), answer in zip(urls, answers, strict=True):
        problems += _judge(key, url, answer)
    return problems


async def _head(client: httpx.AsyncClient, url: str) -> httpx.Response | str:
    try:
        return await client.head(url)
    except httpx.HTTPError as exc:
        return f"could not be reached ({type(exc).__name__})"


def _judge(key: str, url: str, answer: httpx.Response | str) -> list[Problem]:
    path = f"$.content.{key}"
    if isinstance(answer, str):
        return [_unreachable(path, url, answer)]
    if answer.status_code >= 400:
        return [_unreachable(path, url, f"answered HTTP {answer.status_code}")]
    if key in IMAGES:
        kind = answer.headers.get("content-type", "").partition(";")[0].strip().lower()
        if kind and kind not in IMAGE_TYPES:
            return [
                warning(
                    "invalid_field",
                    path,
                    f"content.{key} {url} is {kind}: Viber shows JPEG and PNG images only",
                )
            ]
        return []
    size = _content_length(answer.headers)
    if not size:  # none, or 0: no size Infobip could use
        return [_unreachable(path, url, "answered HEAD without a Content-Length, which Infobip needs")]
    if size > MAX_BYTES:
        return [
            warning(
                "media_too_large",
                path,
                f"content.{key} {url} has {size / 1024 / 1024:.0f} MB: Viber takes at most 200 MB",
            )
        ]
    return []


def _content_length(headers: Any) -> int | None:
    value = headers.get("content-length", "")
    return int(value) if value.isdigit() else None


def _unreachable(path: str, url: str, why: str) -> Problem:
    return warning(
        "media_unreachable",
        path,
        f"{path.removeprefix('$.')} {url} {why}: Infobip fetches the media from this URL when it sends",
    )
