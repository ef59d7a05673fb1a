"""Checks on what residents type: descriptions, addresses (phone numbers: handlers.phones)."""

from __future__ import annotations

import math
import re

ADDRESS_MIN = 3
ADDRESS_MAX = 300

_INVISIBLE = re.compile("[\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
"""Zero-width and bidirectional control characters: invisible, or able to reverse how
the text around them reads in the agency's card. (The zero-width joiner stays: emoji.)"""


def clean_text(text: str) -> str:
    """What a resident typed, without invisible control characters, stripped."""
    return _INVISIBLE.sub("", text).strip()


def has_words(text: str) -> bool:
    """At least one letter or digit: a description made only of emoji says nothing."""
    return any(ch.isalnum() for ch in text)


def valid_coordinates(latitude: float, longitude: float) -> bool:
    return (
        math.isfinite(latitude) and math.isfinite(longitude) and abs(latitude) <= 90 and abs(longitude) <= 180
    )
