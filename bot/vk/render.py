"""Rendering a :class:`~handlers.events.Reply` for VK: plain text and keyboards within limits.

VK messages have no markup: tags are removed, entities unescaped, links written as
``text (url)``. Every limit VK documents is kept here by construction, whatever the core
hands over: a keyboard that does not fit one message becomes several keyboards (each sent
with its own message), a long text several messages, more than ten photos several
messages. What cannot be made to fit (a payload over 255 bytes) raises
:class:`Unrenderable` before anything is sent, so the reply goes out as plain text instead
(``bot.fallback``).

Sources (dev.vk.com):
- "Клавиатура для ботов" (/ru/api/bots/development/keyboard): a standard keyboard is at
  most 5 × 10 with at most 40 buttons; an inline keyboard at most 5 × 6 with at most
  10 buttons; a label up to 40 characters; a payload up to 255 characters (we count bytes,
  the stricter reading); location, vkpay, open_app and open_link buttons take a whole row.
- "messages.send" (/ru/method/messages.send): ``message`` up to 4096 characters (longer
  is error 914); ``attachment`` at most 10 objects.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any

from bot.vk.events import encode_payload
from handlers.events import Button, ButtonRequest, Keyboard, Media

MAX_TEXT = 4096
"""messages.send: ``message`` up to 4096 characters (error 914 beyond)."""
MAX_ATTACHMENTS = 10
"""messages.send: ``attachment``, at most 10 objects."""
MAX_LABEL = 40
"""Keyboard: ``label`` up to 40 characters."""
MAX_PAYLOAD = 255
"""Keyboard: ``payload`` up to 255 characters (counted here in bytes, the stricter reading)."""
ROW_WIDTH = 5
"""Keyboard: at most 5 buttons a row (5 × 10 standard, 5 × 6 inline)."""
INLINE_ROWS, INLINE_MAX = 6, 10
"""Keyboard, inline: at most 6 rows and 10 buttons in all (11 get error 911)."""
NORMAL_ROWS, NORMAL_MAX = 10, 40
"""Keyboard, standard: at most 10 rows and 40 buttons in all."""
WIDE = frozenset({"location", "vkpay", "open_app", "open_link"})
"""Keyboard: these button types take a whole row."""

_LINK = re.compile(r"<a\s[^>]*?href\s*=\s*(['\"])(.*?)\1[^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")


class Unrenderable(ValueError):
    """The reply cannot be shown on VK as asked (a payload over VK's limit)."""


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


def attachment_groups(photos: tuple[Media, ...]) -> list[tuple[Media, ...]]:
    """The photos in groups VK accepts on one message (at most 10 each)."""
    return [photos[i : i + MAX_ATTACHMENTS] for i in range(0, len(photos), MAX_ATTACHMENTS)]


def label(text: str) -> str:
    """A label VK accepts: one line, 1 to 40 characters."""
    text = " ".join(text.split()) or "…"
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1].rstrip() + "…"


def _payload(payload: str) -> str:
    encoded = encode_payload(payload)
    if len(encoded.encode()) > MAX_PAYLOAD:
        raise Unrenderable(f"a button payload is longer than {MAX_PAYLOAD} bytes")
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


Row = list[dict[str, Any]]


def _is_wide(row: Row) -> bool:
    return any(b["action"]["type"] in WIDE for b in row)


def keyboards(buttons: Keyboard, *, inline: bool) -> list[VkKeyboard]:
    """``buttons`` as one or more VK keyboards, each within VK's limits (several only when
    the buttons cannot fit one keyboard: each is then sent with its own message).

    Rows keep their order. A row wider than 5 is cut; a wide button stands alone in its
    row; as many rows as the button limit allows go on one keyboard, and when they are
    more rows than it holds, narrow neighbouring rows share a row; what still does not fit
    starts the next keyboard."""
    max_rows, max_buttons = (INLINE_ROWS, INLINE_MAX) if inline else (NORMAL_ROWS, NORMAL_MAX)
    rows: list[Row] = []
    for row in buttons:
        narrow: Row = []
        for button in row:
            converted = _button(button, inline=inline)
            if converted is None:
                continue
            if converted["action"]["type"] in WIDE:
                if narrow:
                    rows.append(narrow)
                    narrow = []
                rows.append([converted])
            else:
                narrow.append(converted)
                if len(narrow) == ROW_WIDTH:
                    rows.append(narrow)
                    narrow = []
        if narrow:
            rows.append(narrow)
    if not rows:
        return []
    pages: list[list[Row]] = []
    for chunk in _chunks(rows, max_buttons):
        shared = _share_rows(chunk, max_rows)
        pages.extend(shared[i : i + max_rows] for i in range(0, len(shared), max_rows))
    return [VkKeyboard(inline=inline, rows=tuple(tuple(r) for r in page)) for page in pages]


def _chunks(rows: list[Row], max_buttons: int) -> list[list[Row]]:
    """Consecutive rows grouped so that no group holds more than ``max_buttons``."""
    chunks: list[list[Row]] = [[]]
    count = 0
    for row in rows:
        if chunks[-1] and count + len(row) > max_buttons:
            chunks.append([])
            count = 0
        chunks[-1].append(row)
        count += len(row)
    return chunks


def _share_rows(rows: list[Row], max_rows: int) -> list[Row]:
    """Merge the narrowest neighbouring rows (never a wide button's) until ``max_rows``
    rows remain or no two neighbours fit in one row."""
    rows = [list(r) for r in rows]
    while len(rows) > max_rows:
        best: int | None = None
        for i in range(len(rows) - 1):
            a, b = rows[i], rows[i + 1]
            if _is_wide(a) or _is_wide(b) or len(a) + len(b) > ROW_WIDTH:
                continue
            if best is None or len(a) + len(b) < len(rows[best]) + len(rows[best + 1]):
                best = i
        if best is None:
            break
        rows[best : best + 2] = [rows[best] + rows[best + 1]]
    return rows
