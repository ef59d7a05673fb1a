"""What polling and the webhook share: a stored inbox row → core → replies through the transport.

Both modes store an update in the inbox before they acknowledge it; how they pick the rows
to handle differs (``polling``: one process, batches in arrival order; ``webhook``: several
processes, one person's rows oldest first under a lock), handling one row does not. A
handler that fails is logged and the person gets a polite error text, never silence; a
button press is always answered.

What the core changes and the answer it gives are committed together (the core runs in a
``Database.unit_of_work`` that also stores the answer on the inbox row). An update whose
answer is stored is therefore never handled again: after a crash between that commit and
the send, the next start sends the stored answer instead of running the core a second
time on a state that already moved on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.types import Update

from bot import fallback
from bot.telegram.translate import person_key, to_event
from bot.telegram.transport import TelegramTransport
from bot.transport import DeliveryError, PermanentFailure, RetryLater, TransientFailure
from handlers.context import Context
from handlers.core import Core
from handlers.events import Event, Reply, Response, response_from_json, response_to_json
from storage import inbox

log = logging.getLogger(__name__)

PLATFORM = "telegram"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member", "channel_post"]
MAX_ATTEMPTS = 3
"""A stored update started this many times without finishing is given up (a poison update)."""


def incoming(update: Update) -> inbox.Incoming:
    """The inbox row for ``update`` (keyed by its update id, so a redelivery is ignored)."""
    return inbox.Incoming(
        update_key=str(update.update_id),
        person_key=person_key(update),
        payload=update.model_dump(mode="json", by_alias=True, exclude_none=True),
    )


def order_key(update: Update) -> str | None:
    """Whose updates must be handled one at a time, in order: a group chat's (the desk
    serialises per chat), otherwise the person's (the dialogue serialises per person)."""
    for part in (update.message, update.edited_message):
        if part is not None and part.chat.type in {"group", "supergroup"}:
            return f"{PLATFORM}:chat:{part.chat.id}"
    query = update.callback_query
    if query is not None and query.message is not None and query.message.chat.type in {"group", "supergroup"}:
        return f"{PLATFORM}:chat:{query.message.chat.id}"
    return person_key(update)


class UpdateHandler:
    """Turns one stored update into the core's response, sent back to the chat it came from."""

    def __init__(
        self,
        bot: Bot,
        transport: TelegramTransport,
        core: Core,
        ctx: Context,
        *,
        reply_attempts: int = 4,
        retry_cap: float = 30.0,
    ) -> None:
        self.bot = bot
        self.transport = transport
        self.core = core
        self.ctx = ctx
        self.reply_attempts = reply_attempts
        self.retry_cap = retry_cap
        self.username: str | None = None
        """Our bot's username (:meth:`identify`): commands naming another bot are not ours."""

    async def identify(self, attempts: int = 5) -> None:
        """Learn our username from getMe (retried with backoff). Failing that, carry on:
        until the next start every command is taken as ours, as before."""
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

    def read(self, key: str, payload: dict[str, Any], update: Update | None = None) -> Event | None:
        """The event a stored update stands for (None: nothing to do, or unreadable).

        ``update``: the update the payload was made from, when it is at hand (just polled),
        so it is not parsed a second time."""
        try:
            if update is None:
                update = Update.model_validate(payload, context={"bot": self.bot})
            return to_event(update, self.username)
        except Exception:
            log.exception("stored update %s cannot be read", key)
            return None

    async def handle(
        self, event: Event, row_id: int | None = None, stored: dict[str, Any] | None = None
    ) -> None:
        """Run the core on ``event`` and answer; never raises (failures are logged).

        ``row_id`` is the event's inbox row: the answer is stored on it in the core's own
        transaction. ``stored`` is an answer stored by an earlier run that stopped before
        sending it: it is sent again and the core is not run."""
        if stored is not None:
            response = response_from_json(stored)
            await self._respond_safely(event, response)
            return
        try:
            async with self.ctx.db.unit_of_work() as unit:
                response = await self.core.handle(event)
                if row_id is not None:
                    await inbox.save_response(await unit.session(), row_id, response_to_json(response))
        except Exception:
            log.exception("handling an update failed", extra={"update_id": event.update_id})
            response = Response(
                replies=[Reply(text=self.ctx.texts("app-error"))],
                toast=self.ctx.texts("app-error-toast") if event.callback_id else None,
            )
        await self._respond_safely(event, response)

    async def _respond_safely(self, event: Event, response: Response) -> None:
        try:
            await self._respond(event, response)
        except Exception:
            log.exception("answering an update failed", extra={"update_id": event.update_id})

    async def _respond(self, event: Event, response: Response) -> None:
        if event.callback_id is not None:
            try:
                await self._with_retries(
                    lambda: self.transport.answer_callback(
                        event.callback_id or "", response.toast, alert=response.alert
                    )
                )
            except DeliveryError as error:
                log.warning("callback answer failed: %s", error)
        for reply in response.replies:
            try:
                await self._with_retries(
                    partial(fallback.deliver, self.transport, self.ctx, event.chat.chat_id, reply)
                )
            except PermanentFailure as error:
                log.info("reply not delivered: %s", error.reason)
                return
            except DeliveryError as error:
                log.warning("reply not delivered after retries: %s", error)
                return

    async def _with_retries(self, send: Callable[[], Any]) -> Any:
        for attempt in range(1, self.reply_attempts + 1):
            try:
                return await send()
            except RetryLater as error:
                if attempt == self.reply_attempts:
                    raise
                await asyncio.sleep(min(error.retry_after, self.retry_cap))
            except TransientFailure:
                if attempt == self.reply_attempts:
                    raise
                await asyncio.sleep(min(0.2 * 2**attempt, self.retry_cap))
        raise AssertionError("unreachable")
