"""Which topic a description is about: the catalogue's keywords, ranked.

A keyword matches a word of the description that begins with it (a stem catches every
ending), a phrase matches words in a row. A topic scores one point per keyword of its own
found in the text; the best score wins, ties going to the topic listed first. Nothing
found: no suggestion, the full list is shown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from handlers.catalogue import Category

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold().replace("ё", "е"))


def _found(keyword: str, text_words: Sequence[str]) -> bool:
    parts = keyword.split()
    last = len(text_words) - len(parts)
    return any(
        all(text_words[i + k].startswith(part) for k, part in enumerate(parts)) for i in range(last + 1)
    )


def rank(categories: Sequence[Category], text: str) -> list[tuple[Category, int]]:
    """The topics whose keywords the text holds, best first (ties in catalogue order)."""
    text_words = words(text)
    scored = [(c, sum(_found(k, text_words) for k in c.keywords)) for c in categories]
    return sorted((pair for pair in scored if pair[1] > 0), key=lambda pair: -pair[1])


def suggest(categories: Sequence[Category], text: str | None) -> Category | None:
    ranked = rank(categories, text or "")
    return ranked[0][0] if ranked else None
