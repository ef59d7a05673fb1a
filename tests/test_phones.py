"""Phone numbers as residents write them: what is accepted, how it is stored and shown."""

from __future__ import annotations

import pytest

from handlers.phones import PHONE_MAX, contact_phone, format_phone, parse_phone, phone_digits


@pytest.mark.parametrize(
    ("typed", "stored", "shown"),
    [
        # Mobiles, the usual ways.
        ("+7 912 345 67 89", "+79123456789", "+7 912 345-67-89"),
        ("89123456789", "+79123456789", "+7 912 345-67-89"),
        ("8 (912) 345-67-89", "+79123456789", "+7 912 345-67-89"),
        ("9123456789", "+79123456789", "+7 912 345-67-89"),
        ("79123456789", "+79123456789", "+7 912 345-67-89"),
        # Landlines: Moscow, and Tambov's five-digit code as older residents write it.
        ("+7 495 123-45-67", "+74951234567", "+7 495 123-45-67"),
        ("8 (4752) 72-00-00", "+74752720000", "+7 475 272-00-00"),
        ("8-800-200-00-00", "+78002000000", "+7 800 200-00-00"),
        # Extensions, in Russian and in English, are kept.
        ("+7 495 123-45-67 доб. 123", "+74951234567;ext=123", "+7 495 123-45-67 ext. 123"),
        ("8 (4752) 72-00-00 доб 5", "+74752720000;ext=5", "+7 475 272-00-00 ext. 5"),
        ("8 495 1234567 ext. 12", "+74951234567;ext=12", "+7 495 123-45-67 ext. 12"),
        # A foreign number with its country code.
        ("+375 17 123-45-67", "+375171234567", "+375 17 123-45-67"),
    ],
)
def test_numbers_people_write_are_stored_in_e164_and_shown_formatted(
    typed: str, stored: str, shown: str
) -> None:
    assert parse_phone(typed, "RU") == stored
    assert format_phone(stored) == shown


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "телефон",
        "12345",
        "8 (4752) 72-00",  # a digit short
        "+7 495 123-45-67-8",  # a digit too many
        "+1 900 123 45 67",  # not a number anywhere
        "72-00-00",  # no city code: which city?
        "+7 495 123-45-67 доб. " + "1" * 20,  # longer than the column
    ],
)
def test_what_is_not_a_number_is_refused(typed: str) -> None:
    assert parse_phone(typed, "RU") is None


def test_the_region_decides_numbers_without_a_country_code() -> None:
    assert parse_phone("8 017 123-45-67", "BY") == "+375171234567"
    assert parse_phone("8 017 123-45-67", "RU") is None


def test_a_shared_contact_goes_through_the_same_parsing() -> None:
    assert contact_phone("79001234567") == "+79001234567"  # Telegram sends it without the plus
    assert contact_phone("+7 900 123-45-67") == "+79001234567"
    assert contact_phone("380441234567") == "+380441234567"  # international, whatever the region
    # A range newer than the library's metadata: the messenger verified it, so it is kept.
    assert contact_phone("999123") == "+999123"
    assert len(contact_phone("9" * 40)) == PHONE_MAX


def test_stored_numbers_read_back() -> None:
    assert format_phone("+79001234567") == "+7 900 123-45-67"  # stored before this module
    assert format_phone("not a number") == "not a number"
    assert phone_digits("+74951234567;ext=123") == "74951234567"
