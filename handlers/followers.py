"""Residents who joined an appeal instead of filing the same problem again.

A follower hears what the author hears, on their own platform: the appeal taken in work,
redirected, its answer's term extended, the agency's answer (with what of its files can
reach their platform), a rejection; and they may rate the answer once. They never get the
author's own follow-ups (whether the problem is solved, contesting a rejection, adding
details): those stay the author's. /my lists what they follow and lets them leave.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import card
from handlers.answer_media import can_reach
from handlers.context import Context
from handlers.desk_ops import BATCHED_EDIT, queue, resident_chat, route_chats
from handlers.events import Button, ChatRef, Media, MediaKind, Platform, Reply, reply_to_json
from handlers.outbox import send_later
from storage import desk as q
from storage import followers as follower_store
from storage import outbox as outbox_store
from storage.models import Appeal, Resident

log = structlog.get_logger(__name__)


EDIT_EVERY_SECONDS = 60
"""A card's count of followers is edited at most once a minute, however many join: Telegram
allows a bot about 20 messages a minute in one group, edits included (Bots FAQ, "My bot is
hitting limits"), and the chat's own messages must not wait behind counts."""


async def join(ctx: Context, session: AsyncSession, appeal: Appeal, resident: Resident) -> bool:
    """Make ``resident`` a follower of ``appeal``; False when they already were."""
    joined = await follower_store.follow(session, appeal.id, resident.id, now=ctx.clock.now())
    if joined:
        log.info("appeal.followed", appeal=appeal.number, followers=appeal.followers_count)
        await show_count(ctx, session, appeal)
    return joined


async def leave(ctx: Context, session: AsyncSession, appeal: Appeal, resident: Resident) -> bool:
    """``resident`` no longer follows ``appeal``; False when they did not."""
    left = await follower_store.unfollow(session, appeal.id, resident.id)
    if left:
        await show_count(ctx, session, appeal)
    return left


async def show_count(ctx: Context, session: AsyncSession, appeal: Appeal) -> None:
    """Edit the appeal's cards to show how many residents joined it, batched: the edit
    waits for the end of the current minute, and joins before then change the waiting
    edit instead of adding one."""
    now = ctx.clock.now()
    window = int(now.timestamp()) // EDIT_EVERY_SECONDS
    text = card.card_text(ctx.catalogue, ctx.texts, appeal)
    buttons = card.card_buttons(ctx.texts, appeal)
    chats = set(route_chats(ctx, appeal))
    for link in await q.card_links(session, appeal.id):
        chat = ChatRef(Platform(link.platform), link.chat_id)
        if chat not in chats:
            continue
        edit = Reply(text=text, buttons=buttons, edit_message_id=link.message_id)
        for batch in (window, window + 1):  # this minute's edit already went: the next one
            key = f"{BATCHED_EDIT}{link.id}:{batch}"
            row = await outbox_store.with_key(session, key)
            if row is None:
                due = datetime.fromtimestamp((batch + 1) * EDIT_EVERY_SECONDS, UTC)
                await send_later(
                    session,
                    chat,
                    edit,
                    purpose="card_edit",
                    appeal_id=appeal.id,
                    dedupe_key=key,
                    not_before=due,
                )
                break
            if outbox_store.untried(row):
                row.payload = reply_to_json(edit)
                break


def rate_buttons(appeal: Appeal) -> tuple[tuple[Button, ...], ...]:
    return (tuple(Button(str(n), payload=f"rate:{appeal.id}:{n}") for n in range(1, 6)),)


async def tell_followers(
    ctx: Context,
    session: AsyncSession,
    appeal: Appeal,
    key: str,
    *,
    purpose: str = "notice",
    media: Sequence[Media] = (),
    rate: bool = False,
    **args: Any,
) -> int:
    """The notice ``key`` to every follower who can still be told, once each; with
    ``rate``, those who have not rated are asked to. Returns how many were told."""
    told = 0
    ratings = await follower_store.ratings(session, appeal.id)
    for resident in await follower_store.residents_following(session, appeal.id):
        chat = resident_chat(resident)
        if chat is None:
            continue
        text = ctx.texts(key, number=appeal.number, **args)
        buttons: tuple[tuple[Button, ...], ...] = ()
        if rate and ratings.get(resident.id) is None:
            text += "\n" + ctx.texts("followup-ask-rate", number=appeal.number)
            buttons = rate_buttons(appeal)
        reach = [m for m in media if can_reach(m, chat.platform, ctx.caps)]
        reply = Reply(
            text,
            buttons=buttons,
            photos=tuple(m for m in reach if m.kind is MediaKind.PHOTO),
            files=tuple(m for m in reach if m.kind is not MediaKind.PHOTO),
        )
        await queue(ctx, session, chat, reply, purpose=purpose, appeal_id=appeal.id)
        told += 1
    return told
