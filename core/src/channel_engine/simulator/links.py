"""URL shortening as Infobip does it for `tracking.shortenUrl`: each URL of a text becomes a short link.

The short link is `https://<domain>/<code>` (`customDomain` when the request names one), without the
`https://` when `removeProtocol` is on. A click notification names the original URL, never the short one.
"""

from __future__ import annotations

import itertools
import re

from msgspec import Struct

DEFAULT_SHORT_DOMAIN = "ibs.sh"

# A URL runs to the next whitespace or quote; closing punctuation of the sentence is not part of it.
_URL = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}"
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


class ShortLink(Struct, frozen=True):
    short_url: str
    url: str  # the original


def find_urls(text: str | None) -> list[str]:
    """The URLs in `text`, in order."""
    if not text:
        return []
    return [m.group(0).rstrip(_TRAILING) for m in _URL.finditer(text)]


def _base62(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 62)
        out = _ALPHABET[r] + out
        if not n:
            return out


class Shortener:
    """Hands out unique short codes; one per simulator."""

    def __init__(self, domain: str = DEFAULT_SHORT_DOMAIN) -> None:
        self.domain = domain
        self._counter = itertools.count(62**4)  # five-character codes to start with

    def shorten(
        self, text: str, *, custom_domain: str | None = None, remove_protocol: bool = False
    ) -> tuple[str, list[ShortLink]]:
        """`text` with each URL replaced by a new short link, and the links made."""
        links: list[ShortLink] = []
        domain = custom_domain or self.domain

        def replace(match: re.Match[str]) -> str:
            found = match.group(0)
            url = found.rstrip(_TRAILING)
            short = f"{domain}/{_base62(next(self._counter))}"
            if not remove_protocol:
                short = "https://" + short
            links.append(ShortLink(short, url))
            return short + found[len(url) :]

        return _URL.sub(replace, text), links
