"""SMS part counting: GSM-7 and its extension table, UCS-2 and surrogate pairs, at every boundary."""

from __future__ import annotations

import pytest

from channel_engine.segments import GSM7_BASIC, GSM7_EXTENSION, SegmentCount, count_segments, is_gsm7
from channel_engine.testing.conformance import spec_document


def test_the_alphabets_have_their_standard_sizes():
    assert len(GSM7_BASIC) == 127  # 128 code points, ESC left out
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SegmentCount("GSM7", 0, 1, 160)),
        ("a", SegmentCount("GSM7", 1, 1, 159)),
        ("a" * 160, SegmentCount("GSM7", 160, 1, 0)),
        ("a" * 161, SegmentCount("GSM7", 161, 2, 145)),
        ("a" * 306, SegmentCount("GSM7", 306, 2, 0)),
        ("a" * 307, SegmentCount("GSM7", 307, 3, 152)),
        ("a" * 459, SegmentCount("GSM7", 459, 3, 0)),
        ("a" * 460, SegmentCount("GSM7", 460, 4, 152)),
    ],
)
def test_gsm7_single_and_multipart_boundaries(text, expected):
    assert count_segments(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ž", SegmentCount("UCS2", 1, 1, 69)),
        ("ž" * 70, SegmentCount("UCS2", 70, 1, 0)),
        ("ž" * 71, SegmentCount("UCS2", 71, 2, 63)),
        ("ž" * 134, SegmentCount("UCS2", 134, 2, 0)),
        ("ž" * 135, SegmentCount("UCS2", 135, 3, 66)),
    ],
)
def test_ucs2_single_and_multipart_boundaries(text, expected):
    assert count_segments(text) == expected


def test_one_non_gsm_character_makes_the_whole_text_ucs2():
    assert count_segments("a" * 69 + "ć") == SegmentCount("UCS2", 70, 1, 0)
    assert count_segments("a" * 70 + "ć") == SegmentCount("UCS2", 71, 2, 63)


@pytest.mark.parametrize("char", sorted(GSM7_EXTENSION))
def test_extension_characters_cost_two_septets(char):
    assert count_segments(char) == SegmentCount("GSM7", 2, 1, 158)


def test_extension_character_at_the_single_sms_boundary():
    assert count_segments("a" * 158 + "€") == SegmentCount("GSM7", 160, 1, 0)
    assert count_segments("a" * 159 + "€") == SegmentCount("GSM7", 161, 2, 145)
    assert count_segments("€" * 80) == SegmentCount("GSM7", 160, 1, 0)
    assert count_segments("€" * 81) == SegmentCount("GSM7", 162, 2, 143)  # 76 pairs, then 5


def test_an_escape_pair_is_never_split_across_parts():
    # 152 septets, then "{" (2 septets) does not fit in the first part's last septet: it opens part two.
    text = "a" * 152 + "{" + "a" * 10
    assert count_segments(text) == SegmentCount("GSM7", 164, 2, 153 - 12)
    # The same size with the pair fully inside part one fills it exactly.
    text = "a" * 151 + "{" + "a" * 11
    assert count_segments(text) == SegmentCount("GSM7", 164, 2, 153 - 11)
    # Padding can add a part: 306 septets fit two parts only if the pair could straddle the boundary.
    assert count_segments("a" * 152 + "{" + "a" * 152) == SegmentCount("GSM7", 306, 3, 152)


def test_emoji_count_two_utf16_units():
    assert count_segments("😀") == SegmentCount("UCS2", 2, 1, 68)
    assert count_segments("😀" * 35) == SegmentCount("UCS2", 70, 1, 0)
    assert count_segments("a" * 69 + "😀") == SegmentCount("UCS2", 71, 2, 63)


def test_a_surrogate_pair_is_never_split_across_parts():
    # 66 units, then an emoji needs 2 but part one has 1 left: it opens part two.
    assert count_segments("ž" * 66 + "😀" + "ž" * 5) == SegmentCount("UCS2", 73, 2, 67 - 7)


def test_gsm_characters_that_look_ascii_and_ones_that_do_not():
    assert is_gsm7("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\n\r")
    assert not is_gsm7("ç")  # only the capital Ç is in the default alphabet
    assert not is_gsm7("`")
    assert not is_gsm7("\x1b")  # ESC only introduces extension characters
    assert not is_gsm7("\u2019")  # a typographic apostrophe turns a text into UCS-2


@pytest.mark.parametrize("char", [chr(code) for code in range(128)])
def test_each_ascii_character_counts_alike_in_ascii_text_and_in_text_that_is_not(char):
    """ASCII text takes a shorter way than other text: both agree with the alphabets for every character."""
    width = 2 if char in GSM7_EXTENSION else 1
    if char in GSM7_BASIC | GSM7_EXTENSION:
        assert count_segments("a" + char) == SegmentCount("GSM7", 1 + width, 1, 159 - width)
        assert count_segments("é" + char) == SegmentCount("GSM7", 1 + width, 1, 159 - width)
    else:
        assert count_segments("a" + char) == SegmentCount("UCS2", 2, 1, 68)
        assert count_segments("ž" + char) == SegmentCount("UCS2", 2, 1, 68)


def test_counts_agree_with_infobips_preview_examples():
    """Every preview in the spec's `/sms/1/preview` examples that uses no language or transliteration
    setting gets the same part count and remaining characters from us."""
    operation = spec_document("sms")["paths"]["/sms/1/preview"]["post"]
    examples = operation["responses"]["200"]["content"]["application/json"]["examples"]
    checked = 0
    for example in examples.values():
        for preview in example["value"]["previews"]:
            if "language" in preview["configuration"]:
                continue  # national language shift tables are not modelled (see segments.py)
            # With transliteration, the preview text is the transliterated one: plain GSM-7 to count.
            count = count_segments(preview["textPreview"])
            assert (count.segments, count.remaining) == (
                preview["messageCount"],
                preview["charactersRemaining"],
            )
            checked += 1
    assert checked >= 3
