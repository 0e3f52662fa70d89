"""Countries whose operators send no SMS delivery reports (Bloomreach's Infobip SMS guide lists them), by
E.164 calling code: a message to one of them is tracked as expecting no delivery report.

Two entries share a code with neighbours (Guadeloupe's +590 is also Saint Barthélemy's and Saint Martin's);
a shared code is treated like the listed country, which errs toward not waiting for a report.
"""

from __future__ import annotations

NO_DELIVERY_REPORTS: dict[str, str] = {
    "880": "Bangladesh",
    "229": "Benin",
    "55": "Brazil",
    "257": "Burundi",
    "855": "Cambodia",
    "49": "Germany",
    "590": "Guadeloupe",
    "1671": "Guam",
    "852": "Hong Kong",
    "62": "Indonesia",
    "965": "Kuwait",
    "60": "Malaysia",
    "692": "Marshall Islands",
    "222": "Mauritania",
    "52": "Mexico",
    "674": "Nauru",
    "1670": "Northern Mariana Islands",
    "92": "Pakistan",
    "507": "Panama",
    "675": "Papua New Guinea",
    "51": "Peru",
    "685": "Samoa",
    "677": "Solomon Islands",
    "211": "South Sudan",
    "94": "Sri Lanka",
    "249": "Sudan",
    "992": "Tajikistan",
    "670": "Timor-Leste",
    "676": "Tonga",
    "688": "Tuvalu",
    "998": "Uzbekistan",
    "58": "Venezuela",
    "84": "Vietnam",
    "681": "Wallis and Futuna",
}


def without_delivery_reports(destination: str | None) -> str | None:
    """The listed country an international number (digits, optional `+` or `00`) is in, or None."""
    digits = (destination or "").strip().removeprefix("+")
    digits = digits.removeprefix("00") if not (destination or "").startswith("+") else digits
    for length in (4, 3, 2, 1):  # calling codes are prefix-free: the longest match is the only one
        country = NO_DELIVERY_REPORTS.get(digits[:length])
        if country is not None:
            return country
    return None
