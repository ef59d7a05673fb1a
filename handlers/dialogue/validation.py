"""Checks on what residents type: descriptions, addresses, phone numbers."""

from __future__ import annotations

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
