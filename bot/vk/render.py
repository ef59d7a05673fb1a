"""Rendering a :class:`~handlers.events.Reply` for VK: plain text and keyboards within limits.

VK messages have no markup: tags are removed, entities unescaped, links written as
``text (url)``. Keyboards follow VK's limits: labels up to 40 characters, payloads up to
255 bytes, an inline keyboard up to 6 rows of 5 (and 30 buttons), a normal keyboard up to
10 rows and 40 buttons; a location button takes a whole row.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any

from bot.vk.events import encode_payload
from handlers.events import Button, ButtonRequest, Keyboard

MAX_TEXT = 4096
MAX_LABEL = 40
MAX_PAYLOAD = 255
INLINE_ROWS, INLINE_MAX = 6, 30
NORMAL_ROWS, NORMAL_MAX = 10, 40
ROW_WIDTH = 5

_LINK = re.compile(r"<a\s[^>]*?href\s*=\s*(['\"])(.*?)\1[^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def html_to_text(text: str) -> str:
    """The small HTML subset of our replies as VK plain text."""

    def link(match: re.Match[str]) -> str:
        url = html.unescape(match.group(2))
        label = _TAG.sub("", match.group(3))
        shown = html.unescape(label).strip()
        if not shown or shown == url:
            return url
        return f"{label} ({html.escape(url)})"

    text = _LINK.sub(link, text)
    text = _BREAK.sub("\n", text)
    text = _TAG.sub("", text)
    return html.unescape(text)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut ``text`` into parts of at most ``limit`` characters, at paragraph, line or word
    boundaries where there are any."""
    parts: list[str] = []
    while len(text) > limit:
        window = text[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        if cut < limit // 2:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text or not parts:
        parts.append(text)
    return parts


def label(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1].rstrip() + "…"


def _payload(payload: str) -> str:
    encoded = encode_payload(payload)
    if len(encoded.encode()) > MAX_PAYLOAD:
        raise ValueError(f"button payload longer than {MAX_PAYLOAD} bytes: {payload[:40]!r}…")
    return encoded


def _button(button: Button, *, inline: bool) -> dict[str, Any] | None:
    if button.request is ButtonRequest.CONTACT:
        return None  # VK has no contact button: the core asks VK residents to type the phone
    if button.request is ButtonRequest.LOCATION:
        if inline:
            return None
        return {"action": {"type": "location", "payload": _payload("location")}}
    if button.url:
        return {"action": {"type": "open_link", "link": button.url, "label": label(button.text)}}
    if button.payload is not None:
        return {
            "action": {"type": "callback", "label": label(button.text), "payload": _payload(button.payload)},
            "color": "secondary",
        }
    return {"action": {"type": "text", "label": label(button.text)}, "color": "secondary"}


@dataclass(frozen=True, slots=True)
class VkKeyboard:
    inline: bool
    rows: tuple[tuple[dict[str, Any], ...], ...]
    one_time: bool = False

    def to_json(self) -> str:
        data: dict[str, Any] = {"inline": self.inline, "buttons": [list(row) for row in self.rows]}
        if not self.inline:
            data["one_time"] = self.one_time
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def empty_keyboard() -> str:
    """VK's way to hide the keyboard."""
    return json.dumps({"one_time": True, "buttons": []})


def keyboards(buttons: Keyboard, *, inline: bool) -> list[VkKeyboard]:
    """``buttons`` as one or more VK keyboards within the limits (several only when the
    buttons cannot fit one keyboard: each is then sent with its own message)."""
    wide: list[dict[str, Any]] = []
    rows: list[list[dict[str, Any]]] = []
    for row in buttons:
        converted = [b for button in row if (b := _button(button, inline=inline)) is not None]
        for b in converted:
            if b["action"]["type"] == "location":
                wide.append(b)
        rest = [b for b in converted if b["action"]["type"] != "location"]
        rows.extend(rest[i : i + ROW_WIDTH] for i in range(0, len(rest), ROW_WIDTH))
    max_rows, max_buttons = (INLINE_ROWS, INLINE_MAX) if inline else (NORMAL_ROWS, NORMAL_MAX)
    wide_rows = [[b] for b in wide]
    if not rows and not wide_rows:
        return []
    # A location button comes first, alone in its row, on the first keyboard.
    if len(rows) + len(wide_rows) > max_rows:
        rows = _repack(rows, max_rows - len(wide_rows), max_buttons - len(wide_rows))
    pages: list[list[list[dict[str, Any]]]] = []
    current: list[list[dict[str, Any]]] = list(wide_rows)
    count = len(wide_rows)
    for packed in rows:
        if len(current) + 1 > max_rows or count + len(packed) > max_buttons:
            pages.append(current)
            current, count = [], 0
        current.append(packed)
        count += len(packed)
    if current:
        pages.append(current)
    return [VkKeyboard(inline=inline, rows=tuple(tuple(r) for r in page), one_time=False) for page in pages]


def _repack(rows: list[list[dict[str, Any]]], max_rows: int, max_buttons: int) -> list[list[dict[str, Any]]]:
    """Too many rows: put several buttons in a row (keeping their order) so that as many
    as possible fit one keyboard; what still does not fit goes on as further rows."""
    flat = [b for row in rows for b in row]
    fit = min(len(flat), max_buttons)
    per_row = max(1, min(ROW_WIDTH, -(-fit // max(1, max_rows))))
    return [flat[i : i + per_row] for i in range(0, len(flat), per_row)]
