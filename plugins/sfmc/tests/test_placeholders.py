"""Contact fields merged into an activity's texts: `%%Name%%` placeholders, as each contact's execute
fills them, with that contact's values alone."""

from __future__ import annotations

import pytest

from channel_engine_sfmc.in_arguments import _merge

FIELDS = {"FirstName": "Ann", "a": "X", "b": "Y", "Loop": "%%FirstName%%", "Empty": ""}


@pytest.mark.parametrize(
    ("text", "merged"),
    [
        ("Hi %%FirstName%%", "Hi Ann"),
        ("no placeholder", "no placeholder"),
        ("100%% sure, %%FirstName%%", "100%% sure, Ann"),  # a name has no space or comma
        ("%%%FirstName%%", "%Ann"),
        ("%%FirstName%", "%%FirstName%"),
        ("%%a%%%%b%%", "XY"),
        ("%%a%%b%%", "Xb%%"),
        ("%%Unbound%% and %%Empty%%.", " and ."),
        ("%%Loop%%", "%%FirstName%%"),  # a contact's value is not a template
        ("%%first.name-2_x%%", ""),
    ],
)
def test_placeholders_are_filled_as_written(text: str, merged: str) -> None:
    assert _merge(text, FIELDS) == merged


def test_nested_content_is_filled_and_each_contact_gets_its_own_values() -> None:
    content = {"text": "Hi %%FirstName%%", "buttons": [{"label": "%%a%%"}], "count": 3}
    assert _merge(content, FIELDS) == {"text": "Hi Ann", "buttons": [{"label": "X"}], "count": 3}
    assert _merge(content, {"FirstName": "Bo"}) == {"text": "Hi Bo", "buttons": [{"label": ""}], "count": 3}
