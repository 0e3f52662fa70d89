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


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def count_segments(text: str) -> SegmentCount:
    """Encoding, size and number of SMS parts of `text`. An empty text is one (empty) SMS."""
    if is_gsm7(text):
        widths = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        return _fill("GSM7", widths, GSM7_SINGLE, GSM7_PART)
    widths = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return _fill("UCS2", widths, UCS2_SINGLE, UCS2_PART)


def _fill(encoding: Encoding, widths: list[int], single: int, part: int) -> SegmentCount:
    units = sum(widths)
    if units <= single:
        return SegmentCount(encoding, units, 1, single - units)
    segments, used = 1, 0
    for width in widths:  # an escape pair or a surrogate pair stays whole: it opens a new part if need be
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
