"""Pure helpers for rendering HTML text the way Telegram measures and splits it."""

from __future__ import annotations

import re
from html import unescape

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>")


def telegram_length(text: str) -> int:
    """The length of ``text`` as Telegram counts it against its text and caption limits:
    UTF-16 code units (an emoji outside the BMP counts two). The one measure the
    transport, the digest's tests and the fake Bot API server use."""
    return len(text.encode("utf-16-le")) // 2


def plain_length(html: str) -> int:
    """:func:`telegram_length` of what a person sees: tags dropped, entities decoded."""
    return telegram_length(unescape(_TAG.sub("", html)))


def _tokens(html: str) -> list[str]:
    """Tags, entities and single characters: the units a split may fall between."""
    out: list[str] = []
    i = 0
    while i < len(html):
        if html[i] == "<":
            match = _TAG.match(html, i)
            if match:
                out.append(match.group(0))
                i = match.end()
                continue
        if html[i] == "&":
            end = html.find(";", i, i + 12)
            if end != -1:
                out.append(html[i : end + 1])
                i = end + 1
                continue
        out.append(html[i])
        i += 1
    return out


def split_html(html: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split into messages of at most ``limit`` visible characters, preferring paragraph,
    then line, then word boundaries, never inside a tag or an entity; tags open at a split
    are closed at its end and reopened in the next part."""
    if plain_length(html) <= limit:
        return [html]
    splitter = _Splitter(limit)
    for token in _tokens(html):
        splitter.add(token)
    return splitter.finish()


class _Splitter:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.current: list[str] = []
        self.visible = 0
        self.open_tags: list[tuple[str, str]] = []
        self.best: tuple[int, list[tuple[str, str]], int] | None = None
        """Where to cut: (position in current, tags open there, boundary strength)."""

    def add(self, token: str) -> None:
        match = _TAG.fullmatch(token) if token.startswith("<") else None
        if match is not None:
            name = match.group(2).lower()
            if match.group(1):
                if self.open_tags and self.open_tags[-1][0] == name:
                    self.open_tags.pop()
            else:
                self.open_tags.append((name, token))
            self.current.append(token)
            return
        if self.visible == 0 and token in ("\n", " ") and self.parts:
            return  # no part starts with blank space
        size = telegram_length(unescape(token))
        if self.visible + size > self.limit:
            self._cut()
            self.add(token)
            return
        self.current.append(token)
        self.visible += size
        strength = 0
        if token == "\n":
            strength = 3 if len(self.current) > 1 and self.current[-2] == "\n" else 2
        elif token == " ":
            strength = 1
        if strength and (
            self.best is None or strength >= self.best[2] or self.best[0] < len(self.current) // 2
        ):
            self.best = (len(self.current), list(self.open_tags), strength)

    def _cut(self) -> None:
        position, tags = (
            (self.best[0], self.best[1]) if self.best else (len(self.current), list(self.open_tags))
        )
        head, rest = self.current[:position], self.current[position:]
        closing = "".join(f"</{name}>" for name, _ in reversed(tags))
        self.parts.append(("".join(head) + closing).strip())
        self.current, self.visible, self.best = [], 0, None
        self.open_tags = []
        for _name, opening in tags:
            self.add(opening)
        for token in rest:
            self.add(token)

    def finish(self) -> list[str]:
        if self.current:
            self.parts.append("".join(self.current).strip())
        return [part for part in self.parts if plain_length(part) > 0]
