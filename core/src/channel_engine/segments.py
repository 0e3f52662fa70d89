"""How many SMS parts a text takes (3GPP TS 23.038 alphabets, TS 23.040 concatenation).

A text made only of the GSM 7-bit default alphabet travels as GSM-7: 160 septets fit one SMS; a longer text
is split into parts of 153 septets (the concatenation header takes the rest). Characters of the extension
table (`^{}\\[~]|€` and form feed) are sent as ESC plus a character, so they cost two septets, and the two
never straddle a part boundary. Any other character makes the whole text UCS-2: 70 UTF-16 code units in one
SMS, 67 per part, so a character outside the Basic Multilingual Plane (most emoji) costs two units, and a
surrogate pair is never split either.

Counts assume the default alphabet with no national language shift tables: a message sent with
`content.language` or `content.transliteration` may need fewer parts than counted here.
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

Encoding = Literal["GSM7", "UCS2"]

# The GSM 7-bit default alphabet (TS 23.038 §6.2.1), in code order; 0x1B (ESC) is left out on purpose: it
# only introduces an extension character and is not a character a text may contain.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
) - {"\x1b"}
# The default extension table (TS 23.038 §6.2.1.1): each costs ESC + itself, two septets.
GSM7_EXTENSION = frozenset("\x0c^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153  # septets
UCS2_SINGLE, UCS2_PART = 70, 67  # UTF-16 code units


class SegmentCount(NamedTuple):
    """`units` are septets for GSM-7 and UTF-16 code units for UCS-2; `remaining` is what still fits in
    the last part without adding one."""

    encoding: Encoding
    units: int
    segments: int
    remaining: int


# Precompiled once: a character class test in C is far faster than a Python loop on the intake path.
_NOT_GSM7 = re.compile("[^" + re.escape("".join(sorted(GSM7_BASIC | GSM7_EXTENSION))) + "]")
_GSM7_DOUBLE = re.compile("[" + re.escape("".join(sorted(GSM7_EXTENSION))) + "]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
# For ASCII text (most texts) a byte table does the same in a tenth of the time: the regex engine tests a
# large character class against each character.
_ASCII_BASIC = "".join(sorted(c for c in GSM7_BASIC if c.isascii())).encode()
_ASCII_EXTENSION = "".join(sorted(c for c in GSM7_EXTENSION if c.isascii())).encode()


def is_gsm7(text: str) -> bool:
    return _encoding(text)[0] == "GSM7"


def _encoding(text: str) -> tuple[Encoding, int]:
    """The text's alphabet, and how many of its characters take two units in it."""
    if text.isascii():
        rest = text.encode().translate(None, _ASCII_BASIC)  # the extension characters, and the others
        return ("UCS2", 0) if rest.translate(None, _ASCII_EXTENSION) else ("GSM7", len(rest))
    if _NOT_GSM7.search(text) is None:
        return "GSM7", len(_GSM7_DOUBLE.findall(text))
    return "UCS2", len(_ASTRAL.findall(text))


def count_segments(text: str) -> SegmentCount:
    """Encoding, size and number of SMS parts of `text`. An empty text is one (empty) SMS."""
    encoding, wide = _encoding(text)
    if encoding == "GSM7":
        single, part, doubles = GSM7_SINGLE, GSM7_PART, _GSM7_DOUBLE
    else:
        single, part, doubles = UCS2_SINGLE, UCS2_PART, _ASTRAL
    units = len(text) + wide
    if units <= single:
        return SegmentCount(encoding, units, 1, single - units)
    if not wide:  # every character one unit: plain division
        segments = -(-units // part)
        return SegmentCount(encoding, units, segments, segments * part - units)
    segments, used = 1, 0
    for ch in text:  # an escape pair or a surrogate pair stays whole: it opens a new part if need be
        width = 2 if doubles.match(ch) else 1
        if used + width > part:
            segments, used = segments + 1, 0
        used += width
    return SegmentCount(encoding, units, segments, part - used)


def sms_count(text: str | None) -> int:
    """The number of SMS parts `text` is sent as (at least 1)."""
    return count_segments(text or "").segments


def binary_sms_count(hex_text: str) -> int:
    """The number of SMS parts of binary content given as hex (two digits a byte): 140 octets in one SMS,
    134 per part."""
    octets = len(hex_text.replace(" ", "")) // 2
    return 1 if octets <= 140 else -(-octets // 134)
