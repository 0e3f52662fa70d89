"""How many SMS parts a text takes: a GSM 03.38 / UCS-2 estimate, as operators count them.

GSM-7 text: 160 septets in one part, 153 per part when concatenated; characters of the extension table
(`^{}\\[~]|€` and form feed) take two septets. Any other character makes the whole text UCS-2: 70 UTF-16
units in one part, 67 per part. A part never splits an escape pair or a surrogate pair: a two-unit
character that does not fit moves whole to the next part, as SMSCs do. Binary content: 140 bytes, 134 per
part. Infobip's transliteration and language tables are not modelled.
"""

from __future__ import annotations

import re
from collections.abc import Callable

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "^{}\\[~]|€\f"

_NOT_GSM7 = re.compile("[^" + re.escape(GSM7_BASIC + GSM7_EXTENSION) + "]")
_EXTENSION = re.compile("[" + re.escape(GSM7_EXTENSION) + "]")


def is_gsm7(text: str) -> bool:
    return _NOT_GSM7.search(text) is None


def sms_count(text: str | None) -> int:
    """The number of SMS parts `text` is sent as (at least 1)."""
    if not text:
        return 1
    if is_gsm7(text):
        doubles = len(_EXTENSION.findall(text))
        if len(text) + doubles <= 160:
            return 1
        return _pack(text, 153, GSM7_EXTENSION.__contains__) if doubles else -(-len(text) // 153)
    units = len(text.encode("utf-16-le")) // 2
    if units <= 70:
        return 1
    return _pack(text, 67, _is_astral) if units > len(text) else -(-units // 67)


def _is_astral(char: str) -> bool:
    return char > "\uffff"  # outside the BMP: two UTF-16 units, a surrogate pair


def _pack(text: str, size: int, is_double: Callable[[str], bool]) -> int:
    """Parts of `size` units filled in order; a two-unit character never straddles two parts."""
    parts, used = 1, 0
    for char in text:
        cost = 2 if is_double(char) else 1
        if used + cost > size:
            parts, used = parts + 1, 0
        used += cost
    return parts


def binary_sms_count(hex_text: str) -> int:
    """The number of SMS parts of binary content given as hex (two digits a byte)."""
    octets = len(hex_text.replace(" ", "")) // 2
    return 1 if octets <= 140 else -(-octets // 134)
