"""Validation problem codes shared by every channel, with the SFMC messageStatus text each maps to.

The texts are the seeds' messageStatus table, word for word: an SFMC journey's decision split compares them
as strings, so they are part of our contract with journey builders.
"""

from __future__ import annotations

from .models import Problem

# code -> exact messageStatus text from the seeds (None: no SFMC text, the sentence is used instead)
MESSAGE_STATUS: dict[str, str | None] = {
    "missing_destination": "Error: Missing phone number in request",
    "invalid_text_length": "Error: Invalid text length",
    "invalid_template_name": "Error: Invalid template name",
    "invalid_scenario_key": "Error: Invalid scenario key",
    "invalid_promotional_flag": "Error: Invalid promotional flag",
    "invalid_image_url_length": "Error: Invalid image url length",
    "invalid_sender": "Error: Invalid from field",
    "invalid_buttons_length": "Error: Invalid buttons field length",
    "invalid_button_url_length": "Error: Invalid button url length",
    "invalid_button_text_length": "Error: Invalid button text length",
    "invalid_app_scheme_length": "Error: Invalid androidScheme and iosScheme length",
    "missing_track_clicks": "Error: Missing trackClicks flag",
    "missing_shorten_url": "Error: Missing shortenUrl flag",
    "invalid_tracking_url_length": "Error: Invalid tracking url length",
    "invalid_custom_domain_length": "Error: Invalid custom domain length",
    # Ours, where the seeds have no text: the sentence explains.
    "invalid_field": None,
    "missing_field": None,
    "unknown_channel": None,
    "invalid_destination": None,
    "invalid_callback_data": None,
    "invalid_title_length": None,
    "media_too_large": None,
    "media_unreachable": None,
}

SUCCESS_STATUS = "Success"


def problem(code: str, path: str, message: str) -> Problem:
    """Build a Problem, attaching the seeds' messageStatus text for its code. Unknown codes are a bug."""
    if code not in MESSAGE_STATUS:
        raise KeyError(f"unknown problem code {code!r}; add it to channel_engine.problems.MESSAGE_STATUS")
    return Problem(code=code, path=path, message=message, status=MESSAGE_STATUS[code])


def warning(code: str, path: str, message: str) -> Problem:
    """A Problem that does not refuse the message: it tells the sender what may go wrong."""
    found = problem(code, path, message)
    found.severity = "warning"
    return found


def from_decode_error(error: Exception, prefix: str = "$") -> Problem:
    """Turn msgspec's "Expected `int` >= 1 - at `$.options.speedLimit.amount`" into a Problem."""
    text = str(error)
    path = prefix
    if " - at `" in text:
        text, _, at = text.rpartition(" - at `")
        path = prefix + at.rstrip("`")[1:]
    code = "missing_field" if text.startswith("Object missing required field") else "invalid_field"
    return problem(code, path, f"{path}: {text}")
