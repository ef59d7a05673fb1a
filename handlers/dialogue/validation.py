"""Checks on what residents type: descriptions, addresses, phone numbers."""

from __future__ import annotations

import math
import re

ADDRESS_MIN = 3
ADDRESS_MAX = 300

_PHONE_NOISE = re.compile(r"[\s\-()\u00a0]")
_MOBILE = re.compile(r"(?:\+7|8|7)(9\d{9})")


def normalise_phone(text: str) -> str | None:
    """A Russian mobile number as ``+7XXXXXXXXXX``; None when it is not one.

    Accepts ``+7 900 123-45-67``, ``8 (900) 123-45-67`` and the ``79001234567`` that
    Telegram contacts carry.
    """
    compact = _PHONE_NOISE.sub("", text.strip())
    match = _MOBILE.fullmatch(compact)
    return f"+7{match.group(1)}" if match else None


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
