"""Checks of the fields that template and free-form content share: media URLs, locations, flags."""

from __future__ import annotations

from typing import Any

from channel_engine import Problem, problem
from channel_engine.checks import check_url, is_int

MEDIA_URL_MAX = 2048  # mediaUrl maxLength in the spec, for headers and free-form media alike
LATITUDE_MAX = 90
LONGITUDE_MAX = 180


def check_media_url(value: Any, path: str, what: str) -> list[Problem]:
    """A required http(s) media URL of at most MEDIA_URL_MAX characters."""
    name = path.removeprefix("$.")
    if value is None:
        return [problem("missing_field", path, f"{name} is missing: give the URL of the {what}")]
    return check_url(value, path, limit=MEDIA_URL_MAX)


def check_location(value: dict[str, Any], path: str) -> list[Problem]:
    """`latitude` and `longitude`, both required numbers within their ranges."""
    problems = []
    for key, bound in (("latitude", LATITUDE_MAX), ("longitude", LONGITUDE_MAX)):
        name = f"{path.removeprefix('$.')}.{key}"
        item = value.get(key)
        if item is None:
            problems.append(
                problem("missing_field", f"{path}.{key}", f"{name} is missing: a location needs it")
            )
        elif not (is_int(item) or isinstance(item, float)) or not -bound <= item <= bound:
            problems.append(
                problem("invalid_field", f"{path}.{key}", f"{name} must be a number from -{bound} to {bound}")
            )
    return problems


def check_flag(value: Any, path: str) -> list[Problem]:
    """An optional true/false."""
    if value is None or isinstance(value, bool):
        return []
    return [problem("invalid_field", path, f"{path.removeprefix('$.')} must be true or false")]
