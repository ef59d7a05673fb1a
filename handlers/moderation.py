"""The centre's moderation: a new appeal is read in the admin chat before any agency sees it.

With ``[moderation] enabled = true`` in the catalogue, :func:`hold` puts a new appeal in
the ``moderation`` status and posts a moderation card to the admin chats: «Передать» (to
the agency the catalogue routes it to, named on the button), «Сменить тему» and «Другое
ведомство» (choose, then it is passed on), and «Отклонить» with the catalogue's reasons.
The resident hears when it is passed on or turned away, and why. Moderators have
``[moderation] hours``; :func:`check_moderation` reminds the admin chats at half-way and at
the end, once each.

Payloads are ``m:<op>:<appeal id>[:<choice>]``. Only the admin chats act on them.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import card
from handlers.context import Context
from handlers.deadlines import submitted_terms
from handlers.desk_ops import SYSTEM, Actor, queue, record, tell_resident
from handlers.events import Button, ChatRef, Event, Keyboard, Platform, Reply, Response
from handlers.forwarding import pass_on
from handlers.paging import shorten
from handlers.workflow import AppealStatus
from storage import desk as q
from storage import moderation as mq
from storage.models import Appeal

PREFIX = "m"
ROLE = "moderation"
"""The link role of a moderation card (edited when the appeal leaves moderation)."""


class Op(StrEnum):
    PASS = "pass"
    TOPIC = "topic"
    AGENCY = "agency"
    DECLINE = "decline"


def payload(op: Op, appeal_id: int, choice: str | None = None) -> str:
    data = f"{PREFIX}:{op.value}:{appeal_id}"
    return f"{data}:{choice}" if choice else data


def parse(data: str) -> tuple[Op, int, str | None] | None:
    parts = data.split(":")
    if len(parts) not in (3, 4) or parts[0] != PREFIX:
        return None
    try:
        op = Op(parts[1])
    except ValueError:
        return None
    if not parts[2].isdigit() or len(parts[2]) > 12:
        return None
    choice = parts[3] if len(parts) == 4 else None
    if choice is not None and (op is Op.PASS or not choice):
        return None
    return op, int(parts[2]), choice


def buttons(ctx: Context, appeal: Appeal, chat: ChatRef) -> Keyboard:
    """The moderation card's buttons, their labels as long as ``chat`` shows them."""
    texts = ctx.texts
    rows: list[tuple[Button, ...]] = []
    agency = ctx.catalogue.agency(appeal.agency_id)
    if agency is not None:
        pass_label = shorten(texts("moderation-button-pass", agency=agency.name), ctx.caps(chat.platform))
        rows.append((Button(pass_label, payload=payload(Op.PASS, appeal.id)),))
    rows.append(
        (
            Button(texts("moderation-button-topic"), payload=payload(Op.TOPIC, appeal.id)),
            Button(texts("moderation-button-agency"), payload=payload(Op.AGENCY, appeal.id)),
        )
    )
    rows.append((Button(texts("moderation-button-decline"), payload=payload(Op.DECLINE, appeal.id)),))
    return tuple(rows)


async def hold(ctx: Context, session: AsyncSession, appeal: Appeal) -> None:
    """Put a new appeal (routed, not passed) before the moderators."""
    now = ctx.clock.now()
    appeal.passed_at = None
    appeal.deadline_at = now + timedelta(hours=ctx.catalogue.moderation.hours)
    appeal.reminded_half_at = appeal.reminded_due_at = appeal.escalated_at = None
    await record(ctx, session, appeal, "moderation", SYSTEM, to_status=AppealStatus.MODERATION.value)
    attachments = await q.resident_attachments(session, appeal.id)
    messages = card.card_messages(ctx.catalogue, ctx.texts, appeal, attachments)
    for chat in ctx.catalogue.admin.chats:
        for reply, role in messages:
            if role == "card":
                reply = Reply(
                    text=ctx.texts("moderation-card-title") + "\n" + reply.text,
                    buttons=buttons(ctx, appeal, chat),
                )
                role = ROLE
            await queue(ctx, session, chat, reply, purpose="card", appeal_id=appeal.id, link_role=role)


async def _close_cards(ctx: Context, session: AsyncSession, appeal: Appeal, final: str) -> None:
    """The moderation cards show the outcome and lose their buttons."""
    text = f"{card.card_text(ctx.catalogue, ctx.texts, appeal)}\n\n{final}"
    for link in await mq.links(session, appeal.id, ROLE):
        chat = ChatRef(Platform(link.platform), link.chat_id)
        edit = Reply(text=text, edit_message_id=link.message_id)
        await queue(ctx, session, chat, edit, purpose="card_edit", appeal_id=appeal.id)


class ModerationDesk:
    """The moderation buttons in the admin chats."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def button(self, event: Event) -> Response:
        texts = self.ctx.texts
        parsed = parse(event.payload or "")
        if parsed is None:
            return Response(toast=texts("desk-refuse-bad-button"))
        op, appeal_id, choice = parsed
        if not self.ctx.catalogue.is_admin_chat(event.chat):
            return Response(toast=texts("desk-refuse-not-yours"), alert=True)
        async with self.ctx.db.transaction() as session:
            appeal = await q.appeal_for_update(session, appeal_id)
            if appeal is None:
                return Response(toast=texts("desk-refuse-unknown-appeal"))
            if appeal.status != AppealStatus.MODERATION.value:
                status = texts(f"status-{appeal.status}")
                return Response(
                    toast=texts("moderation-refuse-done", number=appeal.number, status=status), alert=True
                )
            actor = Actor.of("staff", event)
            if op is Op.PASS:
                return await self._pass(session, event, appeal, actor)
            if choice is None:
                return self._choices(op, appeal, event.chat)
            if op is Op.TOPIC:
                return await self._change_topic(session, event, appeal, actor, choice)
            if op is Op.AGENCY:
                return await self._change_agency(session, event, appeal, actor, choice)
            return await self._decline(session, event, appeal, actor, choice)

    def _choices(self, op: Op, appeal: Appeal, chat: ChatRef) -> Response:
        texts, catalogue = self.ctx.texts, self.ctx.catalogue
        if op is Op.TOPIC:
            items = [(c.id, c.title) for c in catalogue.categories if c.id != appeal.category_id]
            key = "moderation-choose-topic"
        elif op is Op.AGENCY:
            serving = catalogue.serving(appeal.category_id, appeal.municipality_id)
            rest = [a for a in catalogue.agencies if a not in serving]
            items = [(a.id, a.name) for a in serving + rest if a.id != appeal.agency_id]
            key = "moderation-choose-agency"
        else:
            items = [(r.id, r.title) for r in catalogue.moderation.reasons]
            key = "moderation-choose-reason"
        caps = self.ctx.caps(chat.platform)
        rows = tuple(
            (Button(shorten(title, caps), payload=payload(op, appeal.id, item)),) for item, title in items
        )
        return Response([Reply(texts(key, number=appeal.number), buttons=rows)])

    async def _pass(
        self, session: AsyncSession, event: Event, appeal: Appeal, actor: Actor, done_key: str | None = None
    ) -> Response:
        texts, catalogue = self.ctx.texts, self.ctx.catalogue
        agency = catalogue.agency(appeal.agency_id)
        if agency is None:
            return Response(toast=texts("moderation-refuse-no-agency"), alert=True)
        await pass_on(self.ctx, session, appeal, actor)
        terms = submitted_terms(self.ctx, appeal)
        notice = texts("moderation-notice-passed", number=appeal.number, agency=agency.name, **terms)
        await tell_resident(self.ctx, session, appeal, Reply(notice))
        final = texts("moderation-card-passed", agency=agency.name, actor=actor.label)
        await _close_cards(self.ctx, session, appeal, final)
        replies = []
        if done_key is not None and event.message_id is not None:
            done = texts(done_key, number=appeal.number, agency=agency.name)
            replies.append(Reply(done, edit_message_id=event.message_id))
        return Response(replies, toast=texts("moderation-toast-passed"))

    async def _change_topic(
        self, session: AsyncSession, event: Event, appeal: Appeal, actor: Actor, category_id: str
    ) -> Response:
        catalogue = self.ctx.catalogue
        category = catalogue.category(category_id)
        if category is None:
            return Response(toast=self.ctx.texts("desk-refuse-bad-button"))
        before = card.topic(catalogue, appeal)
        appeal.category_id = category.id
        route = catalogue.route(appeal.category_id, appeal.municipality_id)
        appeal.agency_id = route.agency.id if route.agency is not None else None
        await record(self.ctx, session, appeal, "topic_changed", actor, text=f"{before} → {category.title}")
        return await self._pass(session, event, appeal, actor, "moderation-done-topic")

    async def _change_agency(
        self, session: AsyncSession, event: Event, appeal: Appeal, actor: Actor, agency_id: str
    ) -> Response:
        target = self.ctx.catalogue.agency(agency_id)
        if target is None:
            return Response(toast=self.ctx.texts("desk-refuse-bad-button"))
        appeal.agency_id = target.id
        return await self._pass(session, event, appeal, actor, "moderation-done-agency")

    async def _decline(
        self, session: AsyncSession, event: Event, appeal: Appeal, actor: Actor, reason_id: str
    ) -> Response:
        texts = self.ctx.texts
        reason = self.ctx.catalogue.moderation.reason(reason_id)
        if reason is None:
            return Response(toast=texts("desk-refuse-bad-button"))
        why = reason.text or reason.title
        await record(
            self.ctx, session, appeal, "declined", actor, to_status=AppealStatus.REJECTED.value, text=why
        )
        appeal.deadline_at = None
        await tell_resident(
            self.ctx,
            session,
            appeal,
            Reply(texts("moderation-notice-declined", number=appeal.number, reason=why)),
        )
        await _close_cards(
            self.ctx, session, appeal, texts("moderation-card-declined", reason=why, actor=actor.label)
        )
        replies = []
        if event.message_id is not None:
            done = texts("moderation-done-declined", number=appeal.number, reason=why)
            replies.append(Reply(done, edit_message_id=event.message_id))
        return Response(replies, toast=texts("moderation-toast-declined"))


async def check_moderation(ctx: Context) -> None:
    """Remind the admin chats of appeals waiting for moderation: at half-way, at the end."""
    catalogue, texts = ctx.catalogue, ctx.texts
    if not catalogue.moderation.enabled:
        return
    now = ctx.clock.now()
    horizon = now + timedelta(hours=catalogue.moderation.hours / 2)
    async with ctx.db.transaction() as session:
        for appeal in await mq.awaiting_moderation(session, horizon, AppealStatus.MODERATION.value):
            deadline = appeal.deadline_at
            assert deadline is not None  # the query asks for one
            half = deadline - timedelta(hours=catalogue.moderation.hours / 2)
            due_text = card.local_time(catalogue, deadline)
            if now >= deadline:
                appeal.reminded_due_at = now
                appeal.reminded_half_at = appeal.reminded_half_at or now
                kind, key = "moderation_due", "moderation-remind-due"
            elif now >= half and appeal.reminded_half_at is None:
                appeal.reminded_half_at = now
                kind, key = "moderation_half", "moderation-remind-half"
            else:
                continue
            text = texts(key, number=appeal.number, deadline=due_text)
            for chat in catalogue.admin.chats:
                reply = Reply(text, buttons=buttons(ctx, appeal, chat))
                await queue(ctx, session, chat, reply, purpose="reminder", appeal_id=appeal.id)
            await record(ctx, session, appeal, kind, SYSTEM)
