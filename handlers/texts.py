"""Resident- and staff-facing texts, kept in Fluent catalogues (``locales/<lang>/*.ftl``).

String arguments are HTML-escaped on the way in, so user input can never break a message's
markup; wrap an argument in :class:`Safe` when it is markup we built ourselves.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from fluent.runtime import FluentBundle, FluentResource

LOCALES = Path(__file__).with_name("locales")


class Safe(str):
    """Markup we built ourselves: passed into a text without escaping."""

    __slots__ = ()


class MissingText(KeyError):
    pass


class Texts:
    """``texts("key", name=value)`` renders one message of the catalogue."""

    def __init__(self, locale: str = "ru", directory: Path = LOCALES) -> None:
        self.locale = locale
        self._bundle = FluentBundle([locale], use_isolating=False)
        files = sorted((directory / locale).glob("*.ftl"))
        if not files:
            raise FileNotFoundError(f"no .ftl files for locale {locale!r} in {directory}")
        for path in files:
            resource = FluentResource(path.read_text(encoding="utf-8"))
            self._bundle.add_resource(resource)
        self._cache: dict[str, Any] = {}

    def has(self, key: str) -> bool:
        return self._bundle.has_message(key)

    def keys(self) -> set[str]:
        return set(self._bundle._messages)

    def __call__(self, key: str, /, **args: Any) -> str:
        pattern = self._cache.get(key)
        if pattern is None:
            if not self._bundle.has_message(key):
                raise MissingText(key)
            message = self._bundle.get_message(key)
            if message.value is None:
                raise MissingText(key)
            pattern = self._cache[key] = message.value
        values: dict[str, Any] = {
            name: (value if isinstance(value, Safe) or not isinstance(value, str) else html.escape(value))
            for name, value in args.items()
        }
        text, errors = self._bundle.format_pattern(pattern, values)
        if errors:
            raise ValueError(f"text {key!r}: {errors[0]}")
        return str(text)
