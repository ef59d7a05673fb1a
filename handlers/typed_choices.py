"""The safety net under every screen: choices a resident can type.

When a platform refuses a message for a reason the bot caused (a keyboard it does not
accept, a text too long, markup it cannot parse), the adapter sends the screen again in a
form that cannot fail: plain text, no keyboard, its choices as numbered lines
(:func:`plain_screen`). What each number stands for is remembered on the resident's
dialogue row (:func:`remember`), so it survives a restart and holds on every worker and
platform. The resident's next message, if it is one of those numbers, is handled as the
press of that button (:func:`resolve`, called by the dialogue as it loads the row); any
next message forgets the numbers. The admin chats hear once which screen failed and why
(:func:`alert_once`).
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Context
from handlers.events import ChatRef, Event, PersonRef, Reply
from handlers.outbox import send_later
from storage import outbox, residents

PLAIN_LIMIT = 4000
"""Characters a plain part holds: below both Telegram's 4096 and VK's 4096."""
PURPOSE_ALERT = "alert"
"""Admin alerts (``handlers.delivery``): their own failure is logged, never alerted."""

_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Choice:
    """What typing a number does: press the button with ``payload``, or (a plain keyboard
    button, ``payload`` None) send ``label`` as text."""

    label: str
    payload: str | None = None


@dataclass(frozen=True, slots=True)
class PlainScreen:
    replies: tuple[Reply, ...]
    choices: tuple[Choice, ...]
    title: str
    """The screen's first line, to name it to the admins."""


def plain_text(text: str) -> str:
    """Our HTML subset as text with no markup at all (escaped, so it stays valid HTML)."""
    text = _BREAK.sub("\n", text)
    return html.escape(html.unescape(_TAG.sub("", text)), quote=False)


def _cut(text: str, limit: int) -> list[str]:
    parts: list[str] = []
    while len(html.unescape(text)) > limit:
        window = text[:limit]
        cut = max(window.rfind("\n"), window.rfind(" "))
        if cut < limit // 2:
            cut = limit
        amp = window.rfind("&", 0, cut)
        if amp != -1 and ";" not in window[amp:cut]:
            cut = amp  # never inside an entity
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def plain_screen(reply: Reply, ctx: Context, *, limit: int = PLAIN_LIMIT) -> PlainScreen:
    """``reply`` as plain text parts of at most ``limit`` characters, no keyboard, no
    photos, with its choices as numbered lines at the end."""
    t = ctx.texts
    body = plain_text(reply.text).strip()
    choices: list[Choice] = []
    lines: list[str] = []
    links: list[str] = []
    for row in (*reply.buttons, *reply.keyboard):
        for button in row:
            label = " ".join(button.text.split())
            if button.url:
                links.append(t("plain-link", label=label, url=button.url))
            elif button.payload is not None:
                choices.append(Choice(label, button.payload))
            elif button.request is None:
                choices.append(Choice(label))
    for number, choice in enumerate(choices, start=1):
        lines.append(t("plain-choice", number=number, label=choice.label))
    tail = "\n".join(links)
    if choices:
        tail = "\n".join(filter(None, [tail, t("plain-choices-intro"), *lines]))
    text = "\n\n".join(filter(None, [body, tail])) or t("plain-empty")
    parts = _cut(text, limit)
    first_line = html.unescape(body.split("\n", 1)[0]) if body else ""
    title = first_line if len(first_line) <= 80 else first_line[:79] + "…"
    return PlainScreen(tuple(Reply(part) for part in parts), tuple(choices), title)


def choices_to_json(choices: tuple[Choice, ...]) -> list[dict[str, Any]]:
    return [{"label": c.label, "payload": c.payload} for c in choices]


def resolve(event: Event, stored: list[dict[str, Any]] | None) -> Event:
    """``event`` as the press of the remembered choice its text names, or as it is.

    Only a message that is nothing but one of the numbers counts; its message id is
    dropped, since a button's reply may edit the message it was pressed on."""
    if not stored or event.payload is not None or event.text is None or event.edited:
        return event
    text = event.text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 3):
        return event
    number = int(text)
    if not 1 <= number <= len(stored):
        return event
    chosen = stored[number - 1]
    label, payload = str(chosen.get("label") or ""), chosen.get("payload")
    if isinstance(payload, str):
        return replace(event, text=None, payload=payload, message_id=None)
    return replace(event, text=label, message_id=None)


async def remember(session: AsyncSession, person: PersonRef, choices: tuple[Choice, ...]) -> bool:
    """Keep what the numbers mean for ``person``'s next message; False when ``person`` is
    no resident (a staff or admin chat)."""
    return await residents.set_typed_choices(session, person, choices_to_json(choices) if choices else None)


async def alert_once(ctx: Context, session: AsyncSession, chat: ChatRef, title: str, why: str) -> None:
    """Tell the admin chats, once per screen and reason, that a screen was refused and was
    sent as plain text instead."""
    shape = re.sub(
        r"\d+", "#", f"{chat.platform.value}\n{title}\n{why}"
    )  # one alert for all appeals' notices
    digest = hashlib.sha256(shape.encode()).hexdigest()[:24]
    text = ctx.texts("plain-alert", platform=chat.platform.value, screen=title or "—", why=why)
    for admin in ctx.catalogue.admin.chats:
        key = f"plain-screen:{digest}:{admin}"[:128]
        if await outbox.has_key(session, key):
            continue
        try:
            async with session.begin_nested():
                await send_later(session, admin, Reply(text), purpose=PURPOSE_ALERT, dedupe_key=key)
        except IntegrityError:
            continue  # another worker told them just now
