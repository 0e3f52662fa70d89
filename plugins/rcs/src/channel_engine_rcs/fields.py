"""Table-driven checks for the many bounded texts and fixed choices of RCS content."""

from __future__ import annotations

from typing import Any, NamedTuple

from channel_engine import Problem, problem
from channel_engine.checks import check_text


class Text(NamedTuple):
    """A text field of 1 to `limit` characters; `code` names the problem for a bad length."""

    key: str
    limit: int
    what: str
    code: str = "invalid_field"
    required: bool = False


def check_texts(value: dict[str, Any], path: str, fields: tuple[Text, ...]) -> list[Problem]:
    problems = []
    for f in fields:
        problems += check_text(
            value.get(f.key), f"{path}.{f.key}", limit=f.limit, code=f.code, required=f.required, what=f.what
        )
    return problems


def check_choice(value: Any, path: str, allowed: tuple[str, ...], what: str) -> list[Problem]:
    """One of `allowed`, or absent."""
    if value is None or value in allowed:
        return []
    return [problem("invalid_field", path, f"{what} {value!r} is not one of {', '.join(allowed)}")]
