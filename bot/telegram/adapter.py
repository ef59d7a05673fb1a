"""Telegram's side of the runtime (``bot.runtime``): raw update → key, queue, kind, Event.

Updates are kept as Telegram sent them (the JSON of getUpdates or of the webhook's POST) and
parsed one at a time here, with aiogram's model: an update it refuses (a newer Bot API, a
malformed payload) fails alone, when it is read, and nothing else.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.types import Update

from bot.runtime import Identity
from bot.telegram.translate import to_event
from handlers.events import Event, Platform

log = logging.getLogger(__name__)

PLATFORM = "telegram"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member", "channel_post"]
_GROUPS = frozenset({"group", "supergroup"})


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def identify(raw: dict[str, Any]) -> Identity:
    """Key (``update_id``), queue and kind of a raw update, read without a model so that an
    update the model refuses still gets its place. Raises when it has no ``update_id``."""
    update_id = raw.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise ValueError("an update without an integer update_id")
    kind = next((key for key in raw if key != "update_id"), "empty")
    return Identity(key=str(update_id), queue=queue_of(raw, kind), kind=kind)


def queue_of(raw: dict[str, Any], kind: str) -> str | None:
    """A group chat's updates are handled in order per chat (the desk works per chat),
    everything else per person; a channel's per channel."""
    body = _dict(raw.get(kind))
    chat = (
        _dict(_dict(body.get("message")).get("chat")) if kind == "callback_query" else _dict(body.get("chat"))
    )
    user = _dict(body.get("from"))
    chat_id, user_id = chat.get("id"), user.get("id")
    if chat.get("type") in _GROUPS and chat_id is not None:
        return f"{PLATFORM}:chat:{chat_id}"
    if user_id is not None:
        return f"{PLATFORM}:{user_id}"
    if chat_id is not None:
        return f"{PLATFORM}:chat:{chat_id}"
    return None


class TelegramAdapter:
    platform = Platform.TELEGRAM

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.username: str | None = None
        """Our bot's username (:meth:`learn_username`): commands naming another bot are not ours."""

    async def learn_username(self, attempts: int = 5) -> None:
        """Learn our username from getMe (retried with backoff). Failing that, carry on:
        until the next start every command is taken as ours."""
        for attempt in range(attempts):
            try:
                self.username = (await self.bot.me()).username
                return
            except (TelegramNetworkError, TelegramAPIError) as error:
                if attempt + 1 < attempts:
                    delay = min(30.0, 0.5 * 2**attempt)
                    log.warning("getMe failed (%s); retrying in %.1fs", type(error).__name__, delay)
                    await asyncio.sleep(delay)
        log.warning("getMe kept failing: commands naming another bot will be taken as ours")

    def identify(self, raw: dict[str, Any]) -> Identity:
        return identify(raw)

    def to_event(self, raw: dict[str, Any]) -> Event | None:
        return to_event(Update.model_validate(raw, context={"bot": self.bot}), self.username)

    async def prepare(self, event: Event) -> Event:
        return event
