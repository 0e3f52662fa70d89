"""How big an MMS will be: the `check_message` hook, run by `POST /v1/messages/check`, never when sending.

Every operator carries an MMS of up to 300 KB; most US and Canadian carriers take up to 1 MB (the SFMC
seed's MMS note, and Infobip's MMS docs). The limit is on the whole message, not on each file, so the sizes
of all media segments are added up, with the text and title.

All media URLs are asked for their size concurrently, each within `TIMEOUT` seconds:
`HEAD` and its Content-Length; when HEAD gives none (or 0, or fails), a `GET` of the first byte
(`Range: bytes=0-0`) and the total in its Content-Range; a server that ignores the range answers the whole
file, whose Content-Length is used, or whose bytes are counted up to just past 1 MB. A URL that cannot be
reached, answers an HTTP error, or will not tell its size gets a `media_unreachable` warning; a total over
300 KB a `media_too_large` warning that names each segment's size. Warnings never refuse the message.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import httpx

from channel_engine import OutboundMessage, Problem, warning

from .media import MEDIA_KINDS

SAFE_TOTAL = 300_000  # bytes every operator carries ("300 KB"; decimal kilobytes, the stricter reading)
US_CA_TOTAL = 1_000_000  # most US and Canadian carriers ("1 MB")
TIMEOUT = 5.0  # seconds for each URL, all of its requests together
CONCURRENCY = 8  # URLs asked at once
UNFETCHABLE = ": Infobip fetches the media when the message is sent, and may fail the same way"
CONTENT_RANGE = re.compile(r"bytes\s+(?:\d+-\d+|\*)/(\d+|\*)", re.IGNORECASE)


@dataclass(frozen=True)
class Measured:
    """A URL's size in bytes (`at_least` when counting stopped past the largest limit), or why it has none."""

    size: int | None = None
    at_least: bool = False
    failure: str | None = None


def check_message(message: OutboundMessage) -> Awaitable[list[Problem]]:
    """The `check_message` hook: the size check of the message's content."""
    return check_sizes(message.content)


async def check_sizes(content: dict[str, Any], *, timeout: float = TIMEOUT) -> list[Problem]:
    """The warnings for one MMS `content`, validated or not: only well-formed media URLs are asked."""
    segments = content.get("segments")
    if not isinstance(segments, list):
        return []
    media = [
        (i, segment["type"], segment["url"])
        for i, segment in enumerate(segments)
        if isinstance(segment, dict)
        and segment.get("type") in MEDIA_KINDS
        and isinstance(segment.get("url"), str)
        and segment["url"].startswith(("https://", "http://"))
    ]
    if not media:
        return []
    limit = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(follow_redirects=True, timeout=timeout) as client:
        measured = await asyncio.gather(*(_bounded(client, limit, url, timeout) for _, _, url in media))
    problems = [
        warning(
            "media_unreachable",
            f"$.content.segments[{i}].url",
            f"segments[{i}] ({kind}) {_shown(url)} {m.failure}",
        )
        for (i, kind, url), m in zip(media, measured, strict=True)
        if m.failure
    ]
    sized = [(i, kind, m) for (i, kind, _), m in zip(media, measured, strict=True) if m.size is not None]
    text = _text_bytes(content)
    total = text + sum(m.size or 0 for _, _, m in sized)
    if total > SAFE_TOTAL:
        problems.append(warning("media_too_large", "$.content.segments", _too_large(sized, text, total)))
    return problems


async def _bounded(client: httpx.AsyncClient, limit: asyncio.Semaphore, url: str, timeout: float) -> Measured:
    async with limit:
        try:
            async with asyncio.timeout(timeout):
                return await measure(client, url)
        except TimeoutError:
            return Measured(failure=f"did not answer within {timeout:g} seconds{UNFETCHABLE}")
        except httpx.HTTPError as exc:
            return Measured(failure=f"could not be fetched ({type(exc).__name__}){UNFETCHABLE}")


async def measure(client: httpx.AsyncClient, url: str) -> Measured:
    """The size of the file at `url`: HEAD first, then a ranged GET."""
    try:
        head = await client.head(url)
    except httpx.HTTPError:
        head = None  # some servers refuse HEAD outright; the GET decides
    if head is not None and head.status_code < 300:
        size = _content_length(head)
        if size:  # a 0 on HEAD is a server that does not know, never an empty picture
            return Measured(size)
    async with client.stream("GET", url, headers={"Range": "bytes=0-0"}) as got:
        if got.status_code >= 300:
            return Measured(failure=f"answered HTTP {got.status_code}{UNFETCHABLE}")
        if got.status_code == 206:
            found = CONTENT_RANGE.fullmatch(got.headers.get("content-range", "").strip())
            if found and found.group(1) != "*":
                return Measured(int(found.group(1)))
            return Measured(
                failure="answered but would not tell its size (no total in Content-Range): it was not checked"
            )
        size = _content_length(got)
        if size is not None:
            return Measured(size)
        counted = 0  # neither length nor range: count the bytes, up to just past the largest limit
        async for chunk in got.aiter_bytes():
            counted += len(chunk)
            if counted > US_CA_TOTAL:
                return Measured(counted, at_least=True)
        return Measured(counted)


def _shown(url: str) -> str:
    """The URL without its query: a signed media URL carries its credentials there."""
    return url.split("?", 1)[0].split("#", 1)[0]


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


def _text_bytes(content: dict[str, Any]) -> int:
    texts = [s.get("text") for s in content.get("segments") or [] if isinstance(s, dict)]
    texts.append(content.get("title"))
    return sum(len(t.encode()) for t in texts if isinstance(t, str))


def _too_large(sized: list[tuple[int, str, Measured]], text: int, total: int) -> str:
    parts = [f"segments[{i}] {kind} {_size(m.size or 0, m.at_least)}" for i, kind, m in sized]
    if text:
        parts.append(f"text and title {_size(text)}")
    at_least = any(m.at_least for _, _, m in sized)
    head = f"the MMS adds up to {_size(total, at_least)} ({', '.join(parts)})"
    if total > US_CA_TOTAL:
        return (
            f"{head}: more than the 300 KB every operator carries, and more than the 1 MB most US and "
            "Canadian carriers take; make the media smaller"
        )
    return (
        f"{head}: more than the 300 KB every operator carries; most US and Canadian carriers take up to "
        "1 MB, other carriers may refuse it: make the media smaller, or send only to US and Canadian numbers"
    )


def _size(size: int, at_least: bool = False) -> str:
    if at_least:  # counting stopped just past the largest limit
        return "more than 1 MB"
    return f"{size} bytes" if size < 1000 else f"{size / 1000:,.1f} KB"
