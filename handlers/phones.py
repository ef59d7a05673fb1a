"""Phone numbers: read as people write them, stored in E.164, shown formatted."""

from __future__ import annotations

import phonenumbers

PHONE_MAX = 32
"""The width of the phone columns: a longer number (an absurd extension) is refused."""
_EXTENSION = ";ext="


def parse_phone(text: str, region: str) -> str | None:
    """A number someone typed, in E.164 (``+74951234567``), an extension kept as
    ``;ext=123``; None when it is not a valid number.

    Mobiles and landlines, in the ways people write them: ``+7 495 123-45-67``,
    ``8 (4752) 72-00-00``, ``89123456789``, ``+7 912 345 67 89``, with ``доб. 123`` or
    ``ext. 12``. A number without a country code is read as one of ``region`` (ISO 3166).
    """
    try:
        number = phonenumbers.parse(text.strip(), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    stored = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if number.extension:
        stored += _EXTENSION + number.extension
    return stored if len(stored) <= PHONE_MAX else None


def contact_phone(phone: str) -> str:
    """The number of a shared contact, as stored. Messengers send it international,
    often without the plus (``79001234567``); one the library does not know (a range
    newer than its metadata) is kept as sent, with its digits only: the messenger has
    verified it."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return parse_phone(f"+{digits}", "ZZ") or f"+{digits}"[:PHONE_MAX]


def format_phone(stored: str) -> str:
    """A stored number as people read it: ``+7 495 123-45-67 ext. 123``; anything the
    library cannot read (a number stored before it was used) as it is."""
    try:
        number = phonenumbers.parse(stored, None)
    except phonenumbers.NumberParseException:
        return stored
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_digits(stored: str) -> str:
    """The digits of a stored number without its extension (for searching by number)."""
    return "".join(ch for ch in stored.split(_EXTENSION)[0] if ch.isdigit())
