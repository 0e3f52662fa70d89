"""The dates in report rows: Infobip's times (`2024-05-01T10:00:00.000+0000`) become the ISO 8601 that
SFMC's Date columns take, to the millisecond; anything unreadable is passed on as it came."""

from __future__ import annotations

import pytest

from channel_engine_sfmc.rows import sfmc_date


@pytest.mark.parametrize(
    ("infobip", "sfmc"),
    [
        ("2024-05-01T10:00:00.000+0000", "2024-05-01T10:00:00.000+00:00"),
        ("2024-05-01T10:00:00.123+0100", "2024-05-01T10:00:00.123+01:00"),
        ("2024-05-01T10:00:00.5-0530", "2024-05-01T10:00:00.500-05:30"),  # fewer digits of a second
        ("2024-05-01T10:00:00.1234567+0000", "2024-05-01T10:00:00.123+00:00"),  # more than six
        ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00.000+00:00"),
        ("2024-05-01T10:00:00", "2024-05-01T10:00:00.000"),  # no offset: none is made up
        ("yesterday", "yesterday"),
        ("", None),
        (None, None),
    ],
)
def test_sfmc_date(infobip: str | None, sfmc: str | None) -> None:
    assert sfmc_date(infobip) == sfmc
