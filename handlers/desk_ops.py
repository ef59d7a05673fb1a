"""What every change to an appeal does besides the change itself: the history entry, the
cards brought up to date, the resident told, all through the outbox in the same
transaction."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import card
from handlers.context import Context
from handlers.events import Button, ChatRef, Event, Platform, Reply
from handlers.outbox import send_later
from storage import desk as q
from storage import outbox as outbox_store
from storage.models import Appeal, Resident

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it: ``staff`` and ``resident`` come from the event's sender, never from text."""

    kind: str
    platform: str | None = None
    id: str | None = None
    name: str | None = None

    @classmethod
    def of(cls, kind: str, event: Event) -> Actor:
        sender = event.sender
        if sender is None:
            return cls(kind, event.platform.value, None, event.sender_name)
        return cls(kind, sender.platform.value, sender.external_id, event.sender_name)

    @property
    def label(self) -> str:
        return self.name or self.id or self.kind


SYSTEM = Actor("system")


async def queue(
    ctx: Context,
    session: AsyncSession,
    chat: ChatRef,
    reply: Reply,
    *,
    purpose: str,
    appeal_id: int | None = None,
    link_role: str | None = None,
    report_to: tuple[ChatRef, str | None] | None = None,
    dedupe_key: str | None = None,
) -> None:
    """``send_later``, due from the context's clock (not the database's): the outbox row
    is due when the change that caused it happened."""
    await send_later(
        session,
        chat,
        reply,
        purpose=purpose,
        appeal_id=appeal_id,
        link_role=link_role,
        report_to=report_to,
        dedupe_key=dedupe_key,
        not_before=ctx.clock.now(),
    )


async def record(
    ctx: Context,
    session: AsyncSession,
    appeal: Appeal,
    kind: str,
    actor: Actor,
    *,
    to_status: str | None = None,
    text: str | None = None,
    agency_id: str | None = None,
) -> None:
    """Move the appeal (when ``to_status`` is given) and write its history entry."""
    from_status = appeal.status
    now = ctx.clock.now()
    log.info("appeal.event", appeal=appeal.number, kind=kind, from_status=from_status, to_status=to_status)
    if to_status is not None:
        appeal.status = to_status
        appeal.updated_at = now
    await q.add_event(
        session,
        appeal,
        kind=kind,
        at=now,
        actor_kind=actor.kind,
        actor_platform=actor.platform,
        actor_id=actor.id,
        actor_name=actor.name,
        from_status=from_status if to_status is not None else None,
        to_status=to_status,
        agency_id=agency_id if agency_id is not None else appeal.agency_id,
        text=text,
    )


def route_chats(ctx: Context, appeal: Appeal) -> tuple[ChatRef, ...]:
    """The chats in front of which the appeal lies now: its agency's, or the admin chats."""
    agency = ctx.catalogue.agency(appeal.agency_id)
    return agency.chats if agency is not None else ctx.catalogue.admin.chats


def may_act(ctx: Context, chat: ChatRef, appeal: Appeal) -> bool:
    if ctx.catalogue.is_admin_chat(chat):
        return True
    agency = ctx.catalogue.agency_of_chat(chat)
    return agency is not None and appeal.agency_id == agency.id


async def post_cards(ctx: Context, session: AsyncSession, appeal: Appeal) -> None:
    """The new appeal's photos, card and pin to every chat of its route."""
    attachments = await q.resident_attachments(session, appeal.id)
    messages = card.card_messages(ctx.catalogue, ctx.texts, appeal, attachments)
    for chat in route_chats(ctx, appeal):
        for reply, role in messages:
            await queue(ctx, session, chat, reply, purpose="card", appeal_id=appeal.id, link_role=role)


async def refresh_cards(
    ctx: Context, session: AsyncSession, appeal: Appeal, *, final: str | None = None
) -> None:
    """Edit the appeal's cards in the chats of its current route to show its status.

    With ``final`` (a line of markup), the cards are edited to end with it and lose their
    buttons: the appeal has left those chats."""
    await drop_batched_edits(ctx, session, appeal.id)  # this edit shows the newest count too
    chats = set(route_chats(ctx, appeal))
    text = card.card_text(ctx.catalogue, ctx.texts, appeal)
    buttons = card.card_buttons(ctx.texts, appeal)
    if final is not None:
        text, buttons = f"{text}\n\n{final}", ()
    for link in await q.card_links(session, appeal.id):
        chat = ChatRef(Platform(link.platform), link.chat_id)
        if chat not in chats:
            continue
        edit = Reply(text=text, buttons=buttons, edit_message_id=link.message_id)
        await queue(ctx, session, chat, edit, purpose="card_edit", appeal_id=appeal.id)


BATCHED_EDIT = "followers:"
"""The dedupe key's prefix of a card edit that waits to show how many residents joined."""


async def drop_batched_edits(ctx: Context, session: AsyncSession, appeal_id: int) -> None:
    """Card edits still waiting to show the number of followers: a newer edit of the whole
    card replaces them (sent later, they would bring back an older status)."""
    await outbox_store.drop_untried(session, appeal_id, key_prefix=BATCHED_EDIT, now=ctx.clock.now())


def resident_chat(resident: Resident | None) -> ChatRef | None:
    """The resident's private chat, or None when there is nobody to tell any more."""
    if resident is None or resident.forgotten_at is not None:
        return None
    return ChatRef(Platform(resident.platform), resident.external_id)


async def tell_resident(
    ctx: Context,
    session: AsyncSession,
    appeal: Appeal,
    reply: Reply,
    *,
    purpose: str = "notice",
    report_to: tuple[ChatRef, str | None] | None = None,
) -> bool:
    chat = resident_chat(await q.resident(session, appeal.resident_id))
    if chat is None:
        return False
    await queue(ctx, session, chat, reply, purpose=purpose, appeal_id=appeal.id, report_to=report_to)
    return True


def feedback_buttons(ctx: Context, appeal: Appeal, *, ask_solved: bool) -> tuple[tuple[Button, ...], ...]:
    rows: list[tuple[Button, ...]] = []
    if ask_solved:
        rows.append(
            (
                Button(ctx.texts("followup-button-yes"), payload=f"fb:{appeal.id}:yes"),
                Button(ctx.texts("followup-button-no"), payload=f"fb:{appeal.id}:no"),
            )
        )
    if appeal.rating is None:
        rows.append(tuple(Button(str(n), payload=f"rate:{appeal.id}:{n}") for n in range(1, 6)))
    return tuple(rows)


async def ask_feedback(ctx: Context, session: AsyncSession, appeal: Appeal) -> None:
    """After an answer or «Решено»: is the problem solved, and how good was the answer."""
    text = ctx.texts("followup-ask", number=appeal.number)
    if appeal.rating is None:
        text += "\n" + ctx.texts("followup-ask-rate", number=appeal.number)
    reply = Reply(text=text, buttons=feedback_buttons(ctx, appeal, ask_solved=True))
    await tell_resident(ctx, session, appeal, reply, purpose="feedback")


async def post_to_thread(
    ctx: Context, session: AsyncSession, appeal: Appeal, reply: Reply, purpose: str, *, role: str = "thread"
) -> None:
    """A message about the appeal to its current chats that staff can reply to
    (``role`` ``card.WORDS_ROLE`` when it carries the resident's own words)."""
    for chat in route_chats(ctx, appeal):
        await queue(ctx, session, chat, reply, purpose=purpose, appeal_id=appeal.id, link_role=role)
